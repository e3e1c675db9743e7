"""Results of finished runs: the local results store, per-sample data, plots, the HTML report and the
published MLPerf v2.1 figures to compare with.

    read_run(run_dir) -> FinishedRun
    record_run(run_dir) -> id                       (podium.report.store; SQLite, PODIUM_RESULTS_DB)
    build_report(runs, out_html, png_dir=None)      (podium.report.html; needs matplotlib, the [report] extra)
    compare(benchmark, scenario, value, ...)        (podium.report.published)
"""

from podium.report.runs import FinishedRun, RunFolderError, read_run
from podium.report.store import ResultsStore, record_run

__all__ = ["FinishedRun", "ResultsStore", "RunFolderError", "read_run", "record_run"]
