"""Fixtures: simulated full-length runs (made once per session) and a packaged closed datacenter tree that
tests copy before breaking it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from podium.submission import RunInput, package_submission
from podium.submission.machine import Machine
from tests.submission.fake_runs import make_run


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Full-length, VALID resnet runs with compliance results: Offline and Server (datacenter), of round v2.1
    (session-scoped, so set up before any module's round fixture: it names its round itself)."""
    from podium.loadgen.rules import active_round

    base = tmp_path_factory.mktemp("runs")
    with active_round("v2.1"):
        return {s: make_run(base / s, scenario=s) for s in ("Offline", "Server")}


@pytest.fixture(scope="session")
def fake_machine(tmp_path_factory) -> Machine:
    """A machine whose /proc and /sys are files the tests wrote (no NVML)."""
    root = tmp_path_factory.mktemp("machine")
    write_fake_root(root)
    return Machine(root=root, nvml=None)


def write_fake_root(root: Path) -> None:
    (root / "proc/sys/kernel").mkdir(parents=True)
    cpus = []
    for i in range(4):
        cpus.append(f"processor\t: {i}\nmodel name\t: Test CPU 9000\nphysical id\t: {i // 2}\ncpu cores\t: 2\n"
                    "cpu MHz\t\t: 2400.000\n")
    (root / "proc/cpuinfo").write_text("\n".join(cpus))
    (root / "proc/meminfo").write_text("MemTotal:       16777216 kB\nMemFree:        1 kB\n")
    (root / "proc/sys/kernel/osrelease").write_text("6.1.0-test\n")
    (root / "etc").mkdir()
    (root / "etc/os-release").write_text('NAME="Test"\nPRETTY_NAME="Test Linux 1"\n')
    for i in range(4):
        cache = root / f"sys/devices/system/cpu/cpu{i}/cache"
        for idx, (level, ctype, size, shared) in enumerate(
                ((1, "Data", "32K", str(i)), (1, "Instruction", "32K", str(i)), (2, "Unified", "1024K", str(i)),
                 (3, "Unified", "16384K", "0-1" if i < 2 else "2-3"))):
            d = cache / f"index{idx}"
            d.mkdir(parents=True)
            (d / "level").write_text(f"{level}\n")
            (d / "type").write_text(ctype + "\n")
            (d / "size").write_text(size + "\n")
            (d / "shared_cpu_list").write_text(shared + "\n")
    (root / "sys/devices/system/cpu/cpu0/cpufreq").mkdir(parents=True)
    (root / "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").write_text("3500000\n")
    for name, sectors, rot in (("nvme0n1", 1953525168, "0"), ("sda", 3907029168, "1"), ("loop0", 100, "0")):
        d = root / "sys/block" / name / "queue"
        d.mkdir(parents=True)
        (d.parent / "size").write_text(f"{sectors}\n")
        (d / "rotational").write_text(rot + "\n")
    nic = root / "sys/class/net/eth0"
    (nic / "device").mkdir(parents=True)
    (nic / "speed").write_text("10000\n")
    (root / "sys/class/net/lo").mkdir(parents=True)


SYSTEM_FIELDS = {
    "host_memory_configuration": "2x 8 GiB DDR4", "host_processor_interconnect": "UPI",
    "host_networking_topology": "N/A", "accelerators_per_node": 0, "accelerator_model_name": "N/A",
    "accelerator_memory_capacity": "N/A", "accelerator_frequency": "N/A", "accelerator_host_interconnect": "N/A",
    "accelerator_interconnect": "N/A", "accelerator_interconnect_topology": "N/A",
    "accelerator_memory_configuration": "N/A", "accelerator_on-chip_memories": "N/A", "cooling": "air",
}


@pytest.fixture(scope="session")
def system_json(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("sysjson") / "system.json"
    p.write_text(json.dumps(SYSTEM_FIELDS))
    return p


@pytest.fixture(scope="session")
def packaged(tmp_path_factory, runs, fake_machine, system_json) -> Path:
    """A closed datacenter tree of the Offline and Server runs (do not modify: copy with ``tree``)."""
    out = tmp_path_factory.mktemp("packaged") / "tree"
    package_submission([RunInput(runs["Offline"]), RunInput(runs["Server"])], division="closed",
                       submitter="SimOrg", system="simsys", out=out, status="available", system_type="datacenter",
                       system_json=system_json, machine=fake_machine)
    return out


@pytest.fixture
def tree(packaged, tmp_path) -> Path:
    """A private copy of the packaged tree, free to break."""
    dst = tmp_path / "tree"
    shutil.copytree(packaged, dst)
    return dst


@pytest.fixture(scope="session")
def edge_tree(tmp_path_factory, runs, fake_machine, system_json) -> Path:
    """A closed edge tree: SingleStream, MultiStream and (the datacenter fixture's) Offline."""
    base = tmp_path_factory.mktemp("edge")
    ss = make_run(base / "SingleStream", scenario="SingleStream")
    ms = make_run(base / "MultiStream", scenario="MultiStream")
    out = base / "tree"
    package_submission([RunInput(ss), RunInput(ms), RunInput(runs["Offline"])], division="closed",
                       submitter="SimOrg", system="edgesys", out=out, status="available", system_type="edge",
                       system_json=system_json, machine=fake_machine)
    return out


@pytest.fixture(autouse=True, scope="module")
def _round_v2_1(round_v2_1):
    """Podium packages and checks round-v2.1 submissions."""
