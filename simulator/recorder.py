"""The one place observations go: per-request records, sampled gauges and discrete events.

Per-request data is appended to typed ``array.array`` buffers (about 24 bytes per request, no
Python object kept per request) and turned into DataFrames once, at the end of the run.

A long run spills them (:meth:`Recorder.spill_after`): every :data:`SPILL_CHUNK` completions,
the requests whose ids are all finished go to disk (:mod:`simulator.spill`) in id order, and
every completion so far in completion order with its latency, so memory holds about two
chunks however long the run. A request still in flight when it is a chunk older than the
newest arrival is written unfinished and patched in place when it ends. The end-of-run
analyses then read a :class:`SpilledRequests` chunk by chunk instead of whole arrays.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulator.request import INCOMPLETE, OUTCOME_NAMES
from simulator.spill import ColumnSpill

SPILL_CHUNK = 1 << 20
"""Completions between two spills of a long run: about 50 MB of buffers at the peak."""
NEVER = 1 << 62
"""A spill threshold never reached (an int: the per-completion comparison stays int to int)."""

ROW_COLUMNS = {"t_arrival": "f8", "workload": "i1", "t_end": "f8", "outcome": "i1", "attempts": "u2"}
"""Spilled per-request columns, indexed by request id (as :meth:`Recorder.request_arrays`)."""
COMPLETION_COLUMNS = {"t_end": "f8", "outcome": "i1", "latency": "f8", "workload": "i1"}
"""Spilled completions, in completion (hence time) order, each with its latency and workload."""


@dataclass
class SpilledRequests:
    """A spilled run's per-request records: what the analyses read chunk by chunk."""

    rows: ColumnSpill  # ROW_COLUMNS by request id
    completions: ColumnSpill  # COMPLETION_COLUMNS by completion order
    workload_names: list[str]
    finished_twice: int = 0

    def get(self, key: str, default=None):
        """``finished_twice`` as the in-memory dict has it (read by the accounting)."""
        return self.finished_twice if key == "finished_twice" else default

    def __len__(self) -> int:
        return len(self.rows)


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
        # Spilling (off unless spill_after() is called): ids below _base are on disk.
        self._base = 0
        self._flush_at = NEVER  # len(done_id) that triggers the next spill
        self._chunk = 0
        self._spilled = 0  # leading completions already in the completion spill
        self._stragglers: set[int] = set()  # spilled unfinished ids
        self._finished_twice = 0
        self._spill: SpilledRequests | None = None

    def spill_after(self, chunk: int | None = None) -> None:
        """Spill to disk every ``chunk`` completions (default :data:`SPILL_CHUNK`). Call before
        the run, and only if nothing reads the arrival columns by id during it (batch sources
        and alert taps do). A run that never fills a chunk never touches the disk."""
        self._chunk = int(SPILL_CHUNK if chunk is None else chunk)
        self._flush_at = self._chunk

    @property
    def spilled(self) -> bool:
        """True when this run's records go to disk (:meth:`spill_after`)."""
        return self._spill is not None

    @property
    def arrived(self) -> int:
        """Requests registered so far (the next request id)."""
        return self._base + len(self.t_arrival)

    # --- requests -------------------------------------------------------------------------
    def arrival(self, now: float, workload_index: int) -> int:
        """Register a new logical request; returns its id."""
        rid = self._base + len(self.t_arrival)
        self.t_arrival.append(now)
        self.workload.append(workload_index)
        return rid

    def finish(self, rid: int, now: float, outcome: int, attempts: int) -> None:
        """Record the final outcome of a logical request."""
        self.done_id.append(rid)
        self.t_end.append(now)
        self.outcome.append(outcome)
        self.attempts.append(attempts)
        if len(self.done_id) >= self._flush_at:
            self._flush()

    def unfinished_before(self, n: int) -> int:
        """How many of the requests with id < ``n`` have not finished yet.

        Incremental (each completion is looked at once), so the drain after the measurement window
        can ask it repeatedly at no growing cost.
        """
        if self._spill is not None:
            return self._unfinished_spilled(n)
        done = len(self.done_id)
        if done > self._scanned:
            fresh = np.frombuffer(self.done_id, dtype=np.uint32)[self._scanned:done]
            self._finished_before += int(np.count_nonzero(fresh < n))
            del fresh  # release the buffer view so the array can grow again
            self._scanned = done
        return n - self._finished_before

    def _unfinished_spilled(self, n: int) -> int:
        """:meth:`unfinished_before` of a spilling run: the buffered ids below ``n`` without a
        completion, plus the spilled stragglers below ``n`` that have not ended since."""
        base, hi = self._base, min(n, self.arrived)
        ids = np.frombuffer(self.done_id, dtype=np.uint32).astype(np.int64)
        unfinished = 0
        if hi > base:
            done = np.zeros(hi - base, dtype=bool)
            done[ids[(ids >= base) & (ids < hi)] - base] = True
            unfinished = (hi - base) - int(np.count_nonzero(done))
        ended_late = set(ids[ids < base].tolist())
        return unfinished + sum(1 for rid in self._stragglers if rid < n and rid not in ended_late)

    def _flush(self, final: bool = False) -> None:
        """Spill (module docstring): new completions to the completion file; the ids whose
        requests have all finished (``final``: every id) to the row file; late ends patched."""
        if self._spill is None:
            rows = ColumnSpill(ROW_COLUMNS, prefix="rows")
            self._spill = SpilledRequests(rows, ColumnSpill(COMPLETION_COLUMNS, rows.directory, "done"),
                                          self.workload_names)
        ids = np.frombuffer(self.done_id, dtype=np.uint32).astype(np.int64)
        t_end = np.frombuffer(self.t_end, dtype=np.float64).copy()  # copies: the buffers are
        outcome = np.frombuffer(self.outcome, dtype=np.int8).copy()  # trimmed in place below
        attempts = np.frombuffer(self.attempts, dtype=np.uint16).copy()
        t_arr = np.frombuffer(self.t_arrival, dtype=np.float64).copy()
        workload = np.frombuffer(self.workload, dtype=np.int8).copy()
        fresh = slice(self._spilled, None)
        self._spill_completions(ids[fresh], t_end[fresh], outcome[fresh], t_arr, workload)
        late = ids < self._base
        self._patch_late(ids[late], t_end[late], outcome[late], attempts[late])
        keep = ~late
        local, t_end, outcome, attempts = ids[keep] - self._base, t_end[keep], outcome[keep], attempts[keep]
        cut = self._write_rows(local, t_end, outcome, attempts, t_arr, workload, final)
        kept = local >= cut
        for buffer, values in ((self.done_id, (local[kept] + self._base).astype(np.uint32)),
                               (self.t_end, t_end[kept]), (self.outcome, outcome[kept]),
                               (self.attempts, attempts[kept])):
            del buffer[:]
            buffer.frombytes(values.tobytes())
        del self.t_arrival[:cut], self.workload[:cut]
        self._base += cut
        self._spilled = len(self.done_id)
        self._flush_at = self._spilled + self._chunk

    def _spill_completions(self, ids, t_end, outcome, t_arr, workload) -> None:
        """Completions in their order, with latency (the same float64 subtraction as the
        in-memory path) and workload; a late one's arrival is read back from the row file."""
        local = ids - self._base
        inside = local >= 0
        arrived = np.empty(len(ids))
        codes = np.empty(len(ids), dtype=np.int8)
        arrived[inside], codes[inside] = t_arr[local[inside]], workload[local[inside]]
        for i in np.flatnonzero(~inside).tolist():
            row = self._spill.rows.read(("t_arrival", "workload"), int(ids[i]), int(ids[i]) + 1)
            arrived[i], codes[i] = row["t_arrival"][0], row["workload"][0]
        self._spill.completions.append({"t_end": t_end, "outcome": outcome,
                                        "latency": t_end - arrived, "workload": codes})

    def _patch_late(self, ids, t_end, outcome, attempts) -> None:
        """Requests spilled unfinished that have ended since: their rows, patched in place."""
        fresh = np.zeros(len(ids), dtype=bool)
        for i, rid in enumerate(ids.tolist()):
            if rid in self._stragglers:
                self._stragglers.discard(rid)
                fresh[i] = True
            else:  # already ended and written: the books will say so
                self._finished_twice += 1
        if fresh.any():
            rows = self._spill.rows
            for name, values in (("t_end", t_end), ("outcome", outcome), ("attempts", attempts)):
                rows.patch(name, ids[fresh], values[fresh])

    def _write_rows(self, local, t_end, outcome, attempts, t_arr, workload, final: bool) -> int:
        """Write the buffered ids up to the first unfinished one (all of them if ``final``; at
        most one chunk of arrivals stays behind) and return how many were written."""
        n = len(t_arr)
        done = np.zeros(n, dtype=bool)
        done[local] = True
        cut = n if final or done.all() else int(np.argmin(done))
        cut = max(cut, n - self._chunk)
        rows = local < cut
        ends = np.full(cut, np.nan)
        codes = np.full(cut, int(INCOMPLETE), dtype=np.int8)
        tries = np.zeros(cut, dtype=np.uint16)
        ends[local[rows]], codes[local[rows]], tries[local[rows]] = t_end[rows], outcome[rows], attempts[rows]
        self._finished_twice += int(np.count_nonzero(rows)) - int(np.count_nonzero(done[:cut]))
        if not final:
            self._stragglers.update((self._base + np.flatnonzero(~done[:cut])).tolist())
        self._spill.rows.append({"t_arrival": t_arr[:cut], "workload": workload[:cut], "t_end": ends,
                                 "outcome": codes, "attempts": tries})
        return cut

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
        """Zero-copy views (t_arrival, workload index), indexed by request id (a spilled run:
        None, None; its :meth:`completion_arrays` carry everything)."""
        if self._spill is not None:
            return None, None
        if not len(self.t_arrival):
            return np.zeros(0), np.zeros(0, np.int8)
        return np.frombuffer(self.t_arrival, dtype=np.float64), np.frombuffer(self.workload, dtype=np.int8)

    def completion_arrays(self) -> dict[str, np.ndarray]:
        """Completion-ordered (hence time-ordered) views: done_id, t_end, outcome, attempts.

        Zero-copy views of the live buffers; valid until :meth:`request_arrays` releases them.
        A spilled run: its :class:`SpilledRequests` (see :meth:`request_arrays`).
        """
        if self._spill is not None:
            return self.request_arrays()
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
        if self._spill is not None:
            return self._spilled_requests()
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

    def _spilled_requests(self) -> SpilledRequests:
        """The spilled run, every buffered record written (once: the run is over)."""
        if self._flush_at != NEVER:
            self._flush(final=True)
            self._flush_at = NEVER
            self._spill.finished_twice = self._finished_twice
        return self._spill

    def requests_frame(self, window: tuple[float, float] | None = None) -> pd.DataFrame:
        """One row per logical request, indexed by request id (warm-up and unfinished ones included).

        With ``window`` (warmup, end), a boolean column ``in_window`` says which requests arrived in
        the measured window [warmup, end), the ones the summary counts, so a reader of the file need
        not know the rule. Columns share memory with the recorded arrays where pandas allows.
        """
        a = self.request_arrays()
        if isinstance(a, SpilledRequests):
            return LazyRequests(a, window)
        return request_frame(a, self.workload_names, window)

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


def request_frame(a, workload_names: list[str], window: tuple[float, float] | None,
                  start: int = 0) -> pd.DataFrame:
    """The requests table of the per-request columns ``a`` (ids from ``start``): see
    :meth:`Recorder.requests_frame`."""
    columns = {
        "workload": pd.Categorical.from_codes(a["workload"], workload_names),
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
    frame.index = pd.RangeIndex(start, start + len(frame), name="id")
    return frame


class LazyRequests:
    """A spilled run's requests table, read from disk only when asked for.

    :meth:`frames` yields it a slice at a time (how :mod:`simulator.results` writes
    ``requests.parquet`` without holding it); anything else a DataFrame offers (``len``,
    columns, ``.loc``...) loads the whole table first, as an unspilled run would have held it.
    Pickled (a worker process's result) as the loaded table: the spill folder is the worker's.
    """

    def __init__(self, spilled: SpilledRequests, window: tuple[float, float] | None):
        self.spilled = spilled
        self.window = window
        self._frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return len(self.spilled)

    def frames(self, rows: int):
        """Consecutive slices of the table of ``rows`` rows each, as ``frame.iloc`` would cut them."""
        for start, a in self.spilled.rows.chunks(tuple(ROW_COLUMNS), rows):
            yield request_frame(a, self.spilled.workload_names, self.window, start)

    def to_frame(self) -> pd.DataFrame:
        """The whole table (loaded once)."""
        if self._frame is None:
            a = self.spilled.rows.read(tuple(ROW_COLUMNS), 0, len(self.spilled))
            self._frame = request_frame(a, self.spilled.workload_names, self.window)
        return self._frame

    def __getattr__(self, name: str):
        if name.startswith("__") or name in ("spilled", "window", "_frame"):
            raise AttributeError(name)
        return getattr(self.to_frame(), name)

    def __getitem__(self, key):
        return self.to_frame()[key]

    def __iter__(self):
        return iter(self.to_frame())

    def __reduce__(self):
        return (_frame_of, (self.to_frame(),))


def _frame_of(frame: pd.DataFrame) -> pd.DataFrame:
    return frame
