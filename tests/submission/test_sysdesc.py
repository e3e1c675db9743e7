"""The system description: machine facts read (not guessed), the rest listed to fill, and the field rules."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from podium.submission import rules
from podium.submission.machine import Machine
from podium.submission.sysdesc import describe_system, field_problems, merge
from tests.submission.conftest import write_fake_root


class FakeNVML:
    """Two 80 GiB GPUs, PCIe Gen5 x16, 4 active NVLinks each (the pynvml calls podium makes)."""

    NVML_CLOCK_SM, NVML_CLOCK_MEM, NVML_NVLINK_MAX_LINKS = 1, 2, 6

    def __init__(self, fail_init: bool = False) -> None:
        self.fail_init = fail_init
        self.shutdown = False

    def nvmlInit(self):
        if self.fail_init:
            raise RuntimeError("NVML Shared Library Not Found")

    def nvmlShutdown(self):
        self.shutdown = True

    def nvmlSystemGetDriverVersion(self):
        return b"550.54"

    def nvmlSystemGetCudaDriverVersion(self):
        return 12040

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, i):
        return i

    def nvmlDeviceGetName(self, h):
        return "NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetMemoryInfo(self, h):
        return SimpleNamespace(total=80 * 1024 ** 3)

    def nvmlDeviceGetMaxClockInfo(self, h, kind):
        return 1980 if kind == self.NVML_CLOCK_SM else 2619

    def nvmlDeviceGetMaxPcieLinkGeneration(self, h):
        return 5

    def nvmlDeviceGetMaxPcieLinkWidth(self, h):
        return 16

    def nvmlDeviceGetNvLinkState(self, h, link):
        if link >= 4:
            raise RuntimeError("not supported")
        return 1


@pytest.fixture
def root(tmp_path):
    write_fake_root(tmp_path)
    return tmp_path


def test_machine_facts_from_proc_and_sys(root):
    d = describe_system(Machine(root, nvml=None), division="closed", submitter="Org", system_name="box",
                        status="available", system_type="edge")
    f = d.fields
    assert set(rules.SYSTEM_FIELDS_REQUIRED) == set(f)
    assert f["host_processor_model_name"] == "Test CPU 9000"
    assert f["host_processors_per_node"] == 2 and f["host_processor_core_count"] == 2
    assert f["host_processor_frequency"] == "3500 MHz"
    assert f["host_processor_caches"] == ("L1d 128 KiB (4 instances), L1i 128 KiB (4 instances), "
                                          "L2 4 MiB (4 instances), L3 32 MiB (2 instances)")
    assert f["host_memory_capacity"] == "16 GiB"
    assert f["host_storage_capacity"] == "3 TB"  # 1 TB NVMe + 2 TB disk; loop devices skipped
    assert f["host_storage_type"] == "HDD, NVMe SSD"
    assert f["host_networking"] == "eth0 10000 Mb/s"
    assert f["operating_system"] == "Test Linux 1 (Linux kernel 6.1.0-test)"
    assert f["number_of_nodes"] == 1


def test_unknown_fields_left_empty_and_listed(root):
    d = describe_system(Machine(root, nvml=None))
    for key in ("status", "system_type", "submitter", "cooling", "host_memory_configuration",
                "accelerators_per_node", "accelerator_model_name", "host_networking_topology"):
        assert d.fields[key] == "" and key in d.to_fill
    assert "hw_notes" not in d.to_fill  # free text: empty is an answer
    assert "no NVIDIA accelerator found" in d.sources["accelerators_per_node"]


def test_accelerators_from_nvml(root):
    nv = FakeNVML()
    d = describe_system(Machine(root, nvml=nv))
    f = d.fields
    assert f["accelerators_per_node"] == 2
    assert f["accelerator_model_name"] == "NVIDIA H100 80GB HBM3"
    assert f["accelerator_memory_capacity"] == "80 GiB"
    assert f["accelerator_frequency"] == "1980 MHz"
    assert f["accelerator_host_interconnect"] == "PCIe Gen5 x16"
    assert f["accelerator_interconnect"] == "NVLink (4 active links per accelerator)"
    assert "NVIDIA driver 550.54" in f["other_software_stack"] and "CUDA 12.4" in f["other_software_stack"]
    assert "accelerator_on-chip_memories" in d.to_fill and "accelerators_per_node" not in d.to_fill
    assert nv.shutdown


def test_nvml_failure_is_not_fatal(root):
    d = describe_system(Machine(root, nvml=FakeNVML(fail_init=True)))
    assert d.fields["accelerators_per_node"] == ""
    assert "NVML unavailable" in d.sources["accelerators_per_node"]


def test_network_fields(root):
    d = describe_system(Machine(root, nvml=None), division="network", network=True)
    assert d.fields["is_network"] == "true"
    assert set(rules.SYSTEM_FIELDS_NETWORK[1:]) <= set(d.to_fill)


def test_framework_from_runs(root):
    d = describe_system(Machine(root, nvml=None), backends=[{"name": "onnxruntime", "version": "1.17.0"},
                                                            {"name": "onnxruntime", "version": "1.17.0"}])
    assert d.fields["framework"] == "ONNX Runtime 1.17.0"


def test_merge_prefers_user_values(root):
    d = describe_system(Machine(root, nvml=None))
    m = merge(d, {"cooling": "liquid", "host_processor_model_name": "Marketing Name", "status": ""})
    assert m.fields["cooling"] == "liquid" and "cooling" not in m.to_fill
    assert m.fields["host_processor_model_name"] == "Marketing Name"
    assert "status" in m.to_fill  # an empty user value does not count


def test_field_problems():
    good = {k: "x" for k in rules.SYSTEM_FIELDS_REQUIRED}
    good.update(division="closed", submitter="Org", status="available", system_type="edge",
                host_processors_per_node=2)
    assert field_problems(good, "closed", "org") == []  # submitter compared case-insensitively
    bad = dict(good, status="soon", system_type="cloud", host_processor_model_name=7, favourite_colour="blue")
    del bad["cooling"]
    found = {(lvl, key) for lvl, key, _ in field_problems(bad, "open", "Other")}
    assert {("error", "status"), ("error", "system_type"), ("error", "cooling"), ("error", "division"),
            ("error", "submitter"), ("error", "host_processor_model_name"),
            ("warning", "favourite_colour")} <= found
    net = dict(good, is_network="true")
    assert any(k == "is_network" for _, k, _ in field_problems(net, "closed", "Org"))


def test_cli_sysinfo(tmp_path, capsys):
    from tests.submission.cli import run_cli

    out = tmp_path / "sys.json"
    assert run_cli(["sysinfo", "--out", str(out), "--submitter", "Org", "--status", "preview"]) == 0
    data = json.loads(out.read_text())
    assert data["submitter"] == "Org" and data["status"] == "preview"
    err = capsys.readouterr().err
    assert "fill in" in err and "system_type" in err
    assert run_cli(["sysinfo", "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().out
