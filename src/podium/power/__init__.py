"""Power measurement: meters, the run's power window, and the official power files.

Meters (one interface: ``start(mark)``, ``stop() -> samples``, ``samples()``, ``info``): ``PtdMeter``
(SPEC PTDaemon over TCP, with the official ranging and testing runs), ``PtdSimulator`` (a PTDaemon stand-in
for tests and dry runs, labelled SIMULATED), ``NvmlMeter`` (GPU board power and energy counter),
``RaplMeter`` (CPU package/DRAM energy). ``make_meter("ptd://host:port" | "sim:…" | "nvml" | "rapl" |
"auto" | "none")`` builds one.

Results are computed as the v2.1 submission checker computes them, from the samples strictly inside the
detail log's ``power_begin``/``power_end``: watts for Offline and Server (plus samples/s per watt), joules
per query for SingleStream and MultiStream (plus millijoules per query). ``attach_power_result`` merges a
``"power"`` block into the run's ``podium_result.json``; without a meter the block says "not measured".
"""

from podium.power.errors import (
    MeterDisconnectedError,
    MeterUnavailableError,
    PowerError,
    PtdReplyError,
)
from podium.power.factory import detect_meter, make_meter
from podium.power.meter import Meter, PollingMeter, Reading
from podium.power.nvml import NvmlMeter
from podium.power.official_files import export_power_tree
from podium.power.profiles import (
    ConstantProfile,
    FunctionProfile,
    RampProfile,
    SineProfile,
    StepProfile,
    parse_profile,
)
from podium.power.ptd_client import PtdClient, PtdMeter
from podium.power.ptd_simulator import PtdSimulator, SimulatorConfig
from podium.power.rapl import RaplMeter
from podium.power.result import (
    attach_power_result,
    compute_power_block,
    power_summary_line,
    record_not_measured,
    record_power_missing,
)
from podium.power.samples import MeterInfo, PowerSample, read_spl, write_spl
from podium.power.plan import MeasuredPower, MeterPlan, power_plan
from podium.power.session import PowerOutcome, PowerSession, run_with_power
from podium.power.window import RunWindow, read_run_window

__all__ = [
    "ConstantProfile",
    "FunctionProfile",
    "Meter",
    "MeterDisconnectedError",
    "MeterInfo",
    "MeterUnavailableError",
    "NvmlMeter",
    "PollingMeter",
    "PowerError",
    "PowerOutcome",
    "PowerSample",
    "PowerSession",
    "PtdClient",
    "PtdMeter",
    "PtdReplyError",
    "PtdSimulator",
    "RampProfile",
    "RaplMeter",
    "Reading",
    "RunWindow",
    "SimulatorConfig",
    "SineProfile",
    "StepProfile",
    "attach_power_result",
    "compute_power_block",
    "detect_meter",
    "export_power_tree",
    "make_meter",
    "MeasuredPower",
    "MeterPlan",
    "power_plan",
    "parse_profile",
    "power_summary_line",
    "read_run_window",
    "read_spl",
    "record_not_measured",
    "record_power_missing",
    "run_with_power",
    "write_spl",
]
