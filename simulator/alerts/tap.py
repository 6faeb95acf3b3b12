"""What alert rules read during a run: per-workload arrivals and completions, and sampled gauges.

Installed only when the scenario has ``alerts:`` (a run without them pays nothing per request).
The tap replaces each client's bound ``record_arrival`` / ``record_finish`` with a wrapper that
calls the recorder first, then appends a few numbers to typed arrays: arrival times; completion
times with a running count of available outcomes (so any window's error ratio is two binary
searches and a subtraction, whatever its length); and ok latencies for the latency quantiles.
Completions happen in time order, so every array is sorted by time. The tap keeps its own copy of
arrival times rather than reading the recorder's buffers, whose layout is the recorder's business.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right

import numpy as np

from simulator.metrics import AVAILABLE
from simulator.request import OK


class _Stream:
    """One workload's arrivals and completions, time-ordered."""

    def __init__(self) -> None:
        self.arrived = array("d")
        self.ended = array("d")
        self.good = array("d", [0.0])  # good[i]: available outcomes among the first i completions
        self.ok_ended = array("d")
        self.ok_latency = array("d")


class Tap:
    """Arrivals, completions and chosen gauges of one run, queried over windows (a, b]."""

    def __init__(self, n_workloads: int):
        self.streams = [_Stream() for _ in range(n_workloads)]
        self._t_arrival = array("d")  # by request id: what an ok latency is measured from
        self._gauges: dict[tuple[str, str], tuple[array, array]] = {}

    def install(self, clients, recorder) -> None:
        """Wrap every client's recording calls, and the recorder's gauge call if gauges are watched."""
        for client in clients:
            self._wrap_client(client)
        if self._gauges:
            self._wrap_gauges(recorder)

    def watch_gauge(self, component: str, gauge: str) -> None:
        """Keep the samples of ``component``'s ``gauge`` (call before :meth:`install`)."""
        self._gauges.setdefault((component, gauge), (array("d"), array("d")))

    def _wrap_client(self, client) -> None:
        record_arrival, record_finish = client._record_arrival, client._record_finish
        stream, t_arrival = self.streams[client.workload_index], self._t_arrival
        arrived, ended, good = stream.arrived, stream.ended, stream.good
        ok_ended, ok_latency = stream.ok_ended, stream.ok_latency
        available = [float(a) for a in AVAILABLE]

        def arrival(now: float, index: int) -> int:
            rid = record_arrival(now, index)
            while len(t_arrival) < rid:  # ids are consecutive; pad if anything else took one
                t_arrival.append(math.nan)
            t_arrival.append(now)
            arrived.append(now)
            return rid

        def finish(rid: int, now: float, outcome: int, attempts: int) -> None:
            record_finish(rid, now, outcome, attempts)
            ended.append(now)
            good.append(good[-1] + available[outcome])
            if outcome == OK:
                ok_ended.append(now)
                ok_latency.append(now - t_arrival[rid])

        client._record_arrival, client._record_finish = arrival, finish  # read at each call

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
        total, good = 0, 0.0
        for stream in self._chosen(workload):
            lo, hi = bisect_right(stream.ended, a), bisect_right(stream.ended, b)
            total += hi - lo
            good += stream.good[hi] - stream.good[lo]
        return total, good

    def arrivals(self, a: float, b: float, workload: int | None) -> int:
        """Requests that arrived in (a, b]."""
        return sum(bisect_right(s.arrived, b) - bisect_right(s.arrived, a) for s in self._chosen(workload))

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
