"""The one place observations go: per-request records, sampled gauges and discrete events.

Per-request data is appended to typed ``array.array`` buffers (about 24 bytes per request, no
Python object kept per request) and turned into DataFrames once, at the end of the run.
"""

from __future__ import annotations

from array import array

import numpy as np
import pandas as pd

from simulator.request import INCOMPLETE, OUTCOME_NAMES


class Recorder:
    """Collects a run's observations; knows nothing about how they are summarised."""

    def __init__(self, workload_names: list[str]):
        self.workload_names = list(workload_names)
        # Indexed by request id (appended at arrival).
        self.t_arrival = array("d")
        self.workload = array("B")
        # Appended at completion, in completion order.
        self.done_id = array("I")
        self.t_end = array("d")
        self.outcome = array("b")
        self.attempts = array("H")
        # Sampled gauges: (t, component index, metric index, value).
        self._gauge_t = array("d")
        self._gauge_comp = array("H")
        self._gauge_metric = array("H")
        self._gauge_value = array("d")
        self._components: dict[str, int] = {}
        self._metrics: dict[str, int] = {}
        self._events: list[tuple[float, str, str, str]] = []

    # --- requests -------------------------------------------------------------------------
    def arrival(self, now: float, workload_index: int) -> int:
        """Register a new logical request; returns its id."""
        rid = len(self.t_arrival)
        self.t_arrival.append(now)
        self.workload.append(workload_index)
        return rid

    def finish(self, rid: int, now: float, outcome: int, attempts: int) -> None:
        """Record the final outcome of a logical request."""
        self.done_id.append(rid)
        self.t_end.append(now)
        self.outcome.append(outcome)
        self.attempts.append(attempts)

    # --- gauges and events ------------------------------------------------------------------
    def gauge(self, now: float, component: str, values: dict[str, float]) -> None:
        """Record one sample of a component's gauges (called once per sample interval)."""
        ci = self._components.setdefault(component, len(self._components))
        for metric, value in values.items():
            mi = self._metrics.setdefault(metric, len(self._metrics))
            self._gauge_t.append(now)
            self._gauge_comp.append(ci)
            self._gauge_metric.append(mi)
            self._gauge_value.append(value)

    def event(self, now: float, kind: str, component: str = "", detail: str = "") -> None:
        """Record a discrete event (fault, transition, scaling action); rare by nature."""
        self._events.append((now, kind, component, detail))

    # --- end of run -------------------------------------------------------------------------
    def request_arrays(self) -> dict[str, np.ndarray]:
        """Per-request columns indexed by id; unfinished requests have NaN end and INCOMPLETE."""
        n = len(self.t_arrival)
        t_end = np.full(n, np.nan)
        outcome = np.full(n, int(INCOMPLETE), dtype=np.int8)
        attempts = np.zeros(n, dtype=np.uint16)
        ids = np.frombuffer(self.done_id, dtype=np.uint32) if len(self.done_id) else np.zeros(0, np.uint32)
        t_end[ids] = np.frombuffer(self.t_end, dtype=np.float64) if len(ids) else 0.0
        outcome[ids] = np.frombuffer(self.outcome, dtype=np.int8) if len(ids) else 0
        attempts[ids] = np.frombuffer(self.attempts, dtype=np.uint16) if len(ids) else 0
        t_arrival = np.frombuffer(self.t_arrival, dtype=np.float64) if n else np.zeros(0)
        workload = np.frombuffer(self.workload, dtype=np.uint8) if n else np.zeros(0, np.uint8)
        return {"t_arrival": t_arrival, "workload": workload, "t_end": t_end,
                "outcome": outcome, "attempts": attempts}

    def requests_frame(self) -> pd.DataFrame:
        """One row per logical request (including warm-up and unfinished ones)."""
        a = self.request_arrays()
        n = len(a["t_arrival"])
        return pd.DataFrame({
            "id": np.arange(n, dtype=np.int64),
            "workload": pd.Categorical.from_codes(a["workload"].astype(np.int16), self.workload_names)
            if n else pd.Categorical([], categories=self.workload_names),
            "t_arrival": a["t_arrival"],
            "t_end": a["t_end"],
            "latency": a["t_end"] - a["t_arrival"],
            "outcome": pd.Categorical.from_codes(a["outcome"].astype(np.int16), OUTCOME_NAMES),
            "attempts": a["attempts"].astype(np.int32),
        })

    def series_frame(self) -> pd.DataFrame:
        """Sampled gauges in long format: t, component, metric, value."""
        comps = list(self._components)
        metrics = list(self._metrics)
        comp_codes = np.frombuffer(self._gauge_comp, dtype=np.uint16).astype(np.int32)
        metric_codes = np.frombuffer(self._gauge_metric, dtype=np.uint16).astype(np.int32)
        return pd.DataFrame({
            "t": np.frombuffer(self._gauge_t, dtype=np.float64) if len(self._gauge_t) else np.zeros(0),
            "component": pd.Categorical.from_codes(comp_codes, comps) if comps
            else pd.Categorical([]),
            "metric": pd.Categorical.from_codes(metric_codes, metrics) if metrics
            else pd.Categorical([]),
            "value": np.frombuffer(self._gauge_value, dtype=np.float64) if len(self._gauge_value)
            else np.zeros(0),
        })

    def events_frame(self) -> pd.DataFrame:
        """Discrete events: t, kind, component, detail."""
        return pd.DataFrame(self._events, columns=["t", "kind", "component", "detail"])
