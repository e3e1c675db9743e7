"""The report shows the run the store recorded, never a later run written into the same folder."""

from __future__ import annotations

from podium.report.model import from_row
from podium.report.store import ResultsStore, record_run


def test_a_folder_now_holding_another_run_is_not_shown_under_the_stored_id(report_runs, tmp_path, monkeypatch):
    monkeypatch.setenv("PODIUM_RESULTS_DB", str(tmp_path / "db.sqlite"))
    record_run(report_runs["server"])
    record_run(report_runs["offline"])
    with ResultsStore() as store:
        server_row, offline_row = sorted(store.query(), key=lambda r: r["id"])
    # the Server run's folder now holds the Offline run (what an overwriting run used to do)
    swapped = from_row(dict(server_row, run_dir=offline_row["run_dir"]))
    assert swapped.scenario == "Server" and "now holds another run" in swapped.notes[0]
    same = from_row(server_row)
    assert same.scenario == "Server" and same.samples is not None
