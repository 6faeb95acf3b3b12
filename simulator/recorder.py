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
        self.workload = array("b")  # workload index (at most 127 workloads)
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
        self._arrays: dict[str, np.ndarray] | None = None
        self._scanned = 0  # completions already counted by unfinished_before()
        self._finished_before = 0

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

    def unfinished_before(self, n: int) -> int:
        """How many of the requests with id < ``n`` have not finished yet.

        Incremental (each completion is looked at once), so the drain after the measurement window
        can ask it repeatedly at no growing cost.
        """
        done = len(self.done_id)
        if done > self._scanned:
            fresh = np.frombuffer(self.done_id, dtype=np.uint32)[self._scanned:done]
            self._finished_before += int(np.count_nonzero(fresh < n))
            del fresh  # release the buffer view so the array can grow again
            self._scanned = done
        return n - self._finished_before

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
    def arrival_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Zero-copy views (t_arrival, workload index), indexed by request id."""
        if not len(self.t_arrival):
            return np.zeros(0), np.zeros(0, np.int8)
        return np.frombuffer(self.t_arrival, dtype=np.float64), np.frombuffer(self.workload, dtype=np.int8)

    def completion_arrays(self) -> dict[str, np.ndarray]:
        """Completion-ordered (hence time-ordered) views: done_id, t_end, outcome, attempts.

        Zero-copy views of the live buffers; valid until :meth:`request_arrays` releases them.
        """
        return {
            "done_id": np.frombuffer(self.done_id, dtype=np.uint32),
            "t_end": np.frombuffer(self.t_end, dtype=np.float64),
            "outcome": np.frombuffer(self.outcome, dtype=np.int8),
            "attempts": np.frombuffer(self.attempts, dtype=np.uint16),
        }

    def request_arrays(self) -> dict[str, np.ndarray]:
        """Per-request columns indexed by id; unfinished requests have NaN end and INCOMPLETE.

        Built once and cached. The completion buffers are released as soon as they have been
        scattered into id order, so the end of a long run does not hold every column twice.
        """
        if self._arrays is not None:
            return self._arrays
        n = len(self.t_arrival)
        t_end = np.full(n, np.nan)
        outcome = np.full(n, int(INCOMPLETE), dtype=np.int8)
        attempts = np.zeros(n, dtype=np.uint16)
        finished_twice = 0
        if len(self.done_id):
            ids = np.frombuffer(self.done_id, dtype=np.uint32)
            seen = np.zeros(n, dtype=bool)
            seen[ids] = True
            finished_twice = len(ids) - int(np.count_nonzero(seen))  # the books must balance
            del seen
            t_end[ids] = np.frombuffer(self.t_end, dtype=np.float64)
            outcome[ids] = np.frombuffer(self.outcome, dtype=np.int8)
            attempts[ids] = np.frombuffer(self.attempts, dtype=np.uint16)
            del ids
        self.done_id, self.t_end, self.outcome, self.attempts = array("I"), array("d"), array("b"), array("H")
        t_arrival, workload = self.arrival_arrays()
        self._arrays = {
            "t_arrival": t_arrival, "workload": workload,
            "t_end": t_end, "outcome": outcome, "attempts": attempts,
            "finished_twice": finished_twice,
        }
        return self._arrays

    def requests_frame(self, window: tuple[float, float] | None = None) -> pd.DataFrame:
        """One row per logical request, indexed by request id (warm-up and unfinished ones included).

        With ``window`` (warmup, end), a boolean column ``in_window`` says which requests arrived in
        the measured window [warmup, end), the ones the summary counts, so a reader of the file need
        not know the rule. Columns share memory with the recorded arrays where pandas allows.
        """
        a = self.request_arrays()
        columns = {
            "workload": pd.Categorical.from_codes(a["workload"], self.workload_names),
            "t_arrival": a["t_arrival"],
            "t_end": a["t_end"],
            "latency": a["t_end"] - a["t_arrival"],
            "outcome": pd.Categorical.from_codes(a["outcome"], OUTCOME_NAMES),
            "attempts": a["attempts"],
        }
        if window is not None:
            warmup, end = window
            columns["in_window"] = (a["t_arrival"] >= warmup) & (a["t_arrival"] < end)
        frame = pd.DataFrame(columns, copy=False)
        frame.index.name = "id"
        return frame

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
