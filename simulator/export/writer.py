"""``--export DIR``: one finished run written as ``metrics.om`` (OpenMetrics) and, when a trace
sample is asked for, ``traces.json`` (OTLP/JSON).

Why after the run, from its tables: the export then costs nothing while simulating, and a run with
or without ``--export`` is the same run (same numbers, same events).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from simulator.files import atomic_write_text

METRICS_FILE, TRACES_FILE = "metrics.om", "traces.json"
_FRACTION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


def parse_fraction(text: str) -> float:
    """``1%`` -> 0.01, ``0.25`` -> 0.25; a ValueError naming the accepted forms otherwise."""
    match = _FRACTION.match(str(text))
    value = float(match.group(1)) / (100.0 if match.group(2) else 1.0) if match else math.nan
    if not 0.0 < value <= 1.0:
        raise ValueError(f"expected a share of requests in (0, 1] such as 1% or 0.01; got {text!r}")
    return value


def export_run(result: Any, directory: Path, trace_sample: float | None = None) -> list[Path]:
    """Write one run's export files into ``directory``; return their paths."""
    from simulator.export.openmetrics import openmetrics_text
    from simulator.export.otlp import otlp_json

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spec = result.spec
    text = openmetrics_text(result.traffic, result.series, spec.effective_sample_interval, spec.duration)
    written = [atomic_write_text(directory / METRICS_FILE, text)]
    if trace_sample is not None:
        requests = result.requests
        ended = requests["t_end"].dropna()
        end = max(float(spec.duration), float(ended.max()) if len(ended) else 0.0)  # the drain's end
        traces = otlp_json(requests, scenario=str(result.scenario), variant=str(result.variant),
                           seed=int(result.seed), replication=int(result.replication),
                           fraction=trace_sample, end=end, attempts=getattr(result, "attempts", None))
        written.append(atomic_write_text(directory / TRACES_FILE, traces))
    return written
