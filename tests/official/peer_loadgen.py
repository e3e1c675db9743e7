"""One test on the official LoadGen (PyPI ``mlcommons-loadgen``), driven exactly like its twin on podium.

Run by ``tests/official/peers.py`` as ``python peer_loadgen.py SPEC.json`` with ``PYTHONPATH`` pointing at a
folder where ``mlcommons-loadgen==6.0.17`` is installed (never into podium's own environment). Standard library
only, besides the official module.

The SPEC (JSON) names the scenario, the mode, ``TestSettings`` fields, the QSL's counts, an optional
``FromConfig`` call and how the SUT answers (see ``tests/official/twin.py``, which builds the same SUT for
podium). The SUT answers every sample inside ``issue_queries`` (so the official and podium see the same calls
in the same order); with ``tokens`` it first reports a first token, then the completion with ``n_tokens``.
Writes ``issued.json`` (each query's QSL indices and every loaded set) into the log folder.
"""

from __future__ import annotations

import array
import json
import sys
from pathlib import Path


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    import mlperf_loadgen as lg  # the official module, from PYTHONPATH

    out = Path(spec["outdir"])
    out.mkdir(parents=True, exist_ok=True)
    settings = lg.TestSettings()
    settings.scenario = getattr(lg.TestScenario, spec["scenario"])
    settings.mode = getattr(lg.TestMode, spec["mode"])
    for conf in spec.get("from_config", []):
        rc = settings.FromConfig(conf["path"], conf["model"], conf["scenario"], conf.get("conf_type", 1))
        if rc != 0:
            print(f"FromConfig returned {rc}", file=sys.stderr)
    for name, value in spec.get("settings", {}).items():
        setattr(settings, name, value)
    if spec.get("dump_settings"):
        names = [n for n in dir(settings) if not n.startswith("_") and n not in ("FromConfig",)]
        dumped = {}
        for n in names:
            v = getattr(settings, n)
            dumped[n] = v.name if hasattr(v, "name") else v
        (out / "settings.json").write_text(json.dumps(dumped, indent=1, sort_keys=True))
        if spec.get("dump_only"):
            return 0

    sut_spec = spec.get("sut", {})
    tokens = bool(sut_spec.get("tokens"))
    first_token = bool(sut_spec.get("first_token", tokens))
    n_tokens_of = sut_spec.get("n_tokens", {})
    issued: list[list[int]] = []
    loaded: list[list[int]] = []
    keep: list[object] = []

    def payload(index: int) -> array.array:
        return array.array("i", [index, index * 3 + 1])

    def n_tokens(index: int) -> int:
        key = str(index % int(n_tokens_of.get("modulo", 1)))
        return int(n_tokens_of.get("values", {}).get(key, n_tokens_of.get("default", 0)))

    def issue(samples: list) -> None:
        issued.append([s.index for s in samples])
        if first_token:
            firsts = []
            for s in samples:
                tok = array.array("i", [s.index + 7])
                keep.append(tok)
                ptr, _ = tok.buffer_info()
                firsts.append(lg.QuerySampleResponse(s.id, ptr, tok.itemsize * len(tok)))
            lg.FirstTokenComplete(firsts)
        responses = []
        for s in samples:
            data = payload(s.index)
            keep.append(data)
            ptr, length = data.buffer_info()
            if tokens:
                responses.append(lg.QuerySampleResponse(s.id, ptr, length * data.itemsize, n_tokens(s.index)))
            else:
                responses.append(lg.QuerySampleResponse(s.id, ptr, length * data.itemsize))
        lg.QuerySamplesComplete(responses)

    def flush() -> None:
        pass

    def load(indices: list) -> None:
        loaded.append(list(indices))

    def unload(indices: list) -> None:
        pass

    sut = lg.ConstructSUT(issue, flush)
    qsl = lg.ConstructQSL(int(spec["total"]), int(spec["performance"]), load, unload)
    log = lg.LogSettings()
    log.log_output.outdir = str(out)
    log.log_output.copy_summary_to_stdout = False
    log.enable_trace = False
    lg.StartTestWithLogSettings(sut, qsl, settings, log)
    lg.DestroyQSL(qsl)
    lg.DestroySUT(sut)
    (out / "issued.json").write_text(json.dumps({"queries": issued, "loaded": loaded}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
