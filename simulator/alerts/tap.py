"""What alert rules read during a run: per-workload completions, arrivals and sampled gauges.

Installed only when the scenario has ``alerts:`` (a run without them pays nothing per request).
The tap replaces each client's bound ``record_finish`` with a wrapper that calls the recorder
first, then appends a few numbers to typed arrays: completion time and outcome, and for latency
rules the ok latency. Completions happen in time order, so a window is found by binary search and
its outcomes are counted vectorised at each evaluation. Arrivals are read from the recorder's own
columns (``Recorder.t_arrival`` / ``workload``, by request id, so in arrival order).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

import numpy as np

from simulator.metrics import AVAILABLE
from simulator.request import OK


class _Stream:
    """One workload's completions, time-ordered."""

    def __init__(self) -> None:
        self.ended = array("d")
        self.outcome = array("b")
        self.ok_ended = array("d")
        self.ok_latency = array("d")


class Tap:
    """Arrivals, completions and chosen gauges of one run, queried over windows (a, b].

    Only what the rules read is kept: ok latencies only for a latency rule. Arrivals are read from
    the recorder's own arrival columns (indexed by request id, hence in arrival order), which the
    runner reads too: no wrapper on the arrival path.
    """

    def __init__(self, n_workloads: int):
        self.streams = [_Stream() for _ in range(n_workloads)]
        self.need_latency = False  # set by the latency metrics, before install()
        self._recorder = None
        self._gauges: dict[tuple[str, str], tuple[array, array]] = {}

    def install(self, clients, recorder) -> None:
        """Wrap every client's recording calls, and the recorder's gauge call if gauges are watched."""
        self._recorder = recorder
        for client in clients:
            finish = self._finish_latency if self.need_latency else self._finish
            client._record_finish = finish(client._record_finish, self.streams[client.workload_index])
        if self._gauges:
            self._wrap_gauges(recorder)

    def watch_gauge(self, component: str, gauge: str) -> None:
        """Keep the samples of ``component``'s ``gauge`` (call before :meth:`install`)."""
        self._gauges.setdefault((component, gauge), (array("d"), array("d")))

    @staticmethod
    def _finish(record_finish, stream: _Stream):
        ended, outcomes = stream.ended, stream.outcome

        def finish(rid: int, now: float, outcome: int, attempts: int) -> None:
            record_finish(rid, now, outcome, attempts)
            ended.append(now)
            outcomes.append(outcome)

        return finish

    def _finish_latency(self, record_finish, stream: _Stream):
        ended, outcomes, t_arrival = stream.ended, stream.outcome, self._recorder.t_arrival
        ok_ended, ok_latency = stream.ok_ended, stream.ok_latency

        def finish(rid: int, now: float, outcome: int, attempts: int) -> None:
            record_finish(rid, now, outcome, attempts)
            ended.append(now)
            outcomes.append(outcome)
            if outcome == OK:
                ok_ended.append(now)
                ok_latency.append(now - t_arrival[rid])

        return finish

    def _wrap_gauges(self, recorder) -> None:
        record = recorder.gauge
        watched: dict[str, list[tuple[str, array, array]]] = {}
        for (component, gauge), (times, values) in self._gauges.items():
            watched.setdefault(component, []).append((gauge, times, values))

        def gauge(now: float, component: str, values: dict[str, float]) -> None:
            record(now, component, values)
            for name, times, series in watched.get(component, ()):
                if name in values:
                    times.append(now)
                    series.append(values[name])

        recorder.gauge = gauge

    # --- window queries --------------------------------------------------------------------
    def counts(self, a: float, b: float, workload: int | None) -> tuple[int, float]:
        """(requests ended in (a, b], available ones among them)."""
        total, good = 0, 0
        for stream in self._chosen(workload):
            lo, hi = bisect_right(stream.ended, a), bisect_right(stream.ended, b)
            if hi > lo:
                codes = np.frombuffer(stream.outcome, dtype=np.int8)
                good += int(np.count_nonzero(AVAILABLE[codes[lo:hi]]))
                del codes  # release the buffer: the array must be able to grow again
                total += hi - lo
        return total, float(good)

    def arrivals(self, a: float, b: float, workload: int | None) -> int:
        """Requests that arrived in (a, b] (of one workload, or all)."""
        arrived = self._recorder.t_arrival
        lo, hi = bisect_right(arrived, a), bisect_right(arrived, b)
        if workload is None or hi <= lo:
            return hi - lo
        codes = np.frombuffer(self._recorder.workload, dtype=np.int8)
        count = int(np.count_nonzero(codes[lo:hi] == workload))
        del codes  # release the buffer: the recorder must be able to append again
        return count

    def ok_latencies(self, a: float, b: float, workload: int | None) -> np.ndarray:
        """Latencies of the ok requests that ended in (a, b]."""
        parts = [np.asarray(s.ok_latency[bisect_right(s.ok_ended, a):bisect_right(s.ok_ended, b)])
                 for s in self._chosen(workload)]
        return np.concatenate(parts) if parts else np.zeros(0)

    def gauge_mean(self, component: str, gauge: str, a: float, b: float) -> float:
        """Mean of the gauge's samples taken in (a, b]; NaN without any."""
        times, values = self._gauges[(component, gauge)]
        lo, hi = bisect_right(times, a), bisect_right(times, b)
        return math.fsum(values[lo:hi]) / (hi - lo) if hi > lo else math.nan

    def _chosen(self, workload: int | None) -> list[_Stream]:
        return self.streams if workload is None else [self.streams[workload]]
