"""Cascade and recovery metrics: how long a run stays outside its SLO, and whether it comes back.

A fault's trigger is short; the damage is how long the system stays unhealthy after it. These
metrics judge the run against its :class:`~simulator.scenario.slo.SloSpec` over sliding
windows, so a retry storm that outlives its trigger shows up as recovery time, and one that
never ends shows up as ``stuck``. Names are stable API, like the summary's. Everything is
computed once, after the run, from the per-request columns: sorting, ``np.searchsorted`` and
cumulative sums, never a pass over the requests per window.

Definitions (``window`` and the objective come from the SLO; times in seconds):

- **Window positions**: window ends ``t = warmup + window, warmup + window + step, ... <= end``.
- **SLO window** ending at ``t``: the requests that *ended* in ``(t - window, t]`` (an observer's
  view: whatever answered then, whenever it arrived). Availability = ok / ended; p99 = the 99th
  percentile (numpy's default, linear) of the latency (``t_end - t_arrival``) of its ok requests,
  computed exactly. The window *violates* the SLO if availability < ``slo.availability``, or
  p99 > ``slo.latency_p99``, or nothing ended in it although requests arrived in
  ``[t - window, t)`` (a system that answers nothing is not healthy). A window with no arrivals
  and no completions does not violate. A request has *ended* when it has an end time and is not
  ``incomplete``; it is *ok* when its outcome counts as available (``ok``, or ``degraded``: a
  fallback's answer) (every other outcome, including
  ones added later, is a failure).
- ``degraded_seconds``: ``step`` x the number of window positions that violate. A trailing window
  sees a failure for ``window`` seconds, so a D-second outage counts about D + ``window``.
- ``time_to_recover``: from the end of the last fault (the latest end; without faults, of the
  last trigger, see below; without any trigger, from the start of the measured span) until the
  system is back within the SLO for good: if no window ending at or after that end violates, 0
  (never degraded after it); otherwise the first window after the last violating one is the
  first that stays healthy up to ``end``, and recovery is
  dated at its *start* (``t - window``: the requests ending after it are healthy), so that the
  window's own length does not count as recovery time; clamped at 0. Accurate to one ``step``.
  A crash's fault ends at its restart: the start-up that follows is recovery time. None has one
  meaning, *not recovered by the end of the run*: the last window position still violates, a
  fault lasts to the end of the run, or no window ends after the last fault's end.
- ``peak_amplification``: over windows of *arrivals* ``[t - window, t)`` at the same positions, the
  largest mean number of attempts per request, counting the requests that arrived in the window
  and ended (outcome not ``incomplete``). None if no window has any.
- **Triggers**: what can push a healthy system over: every fault (a ``surge`` and a ``burst``
  included), every workload ``spike`` profile, every run of a batch job and every release. A
  trigger's span runs from its start until its effect is over: a fault's end (a crash's after
  its start-up, a surge's or a spike's after its decay), a batch run's last item, a release's
  rollback or its promotion once its analysis passed; a big-bang release (never judged) or a
  fault without an end lasts to the end of the run.
- **Before the first trigger**: the requests that arrived in ``[warmup, first trigger start)``
  and ended by then (one cut short by the trigger is the trigger's doing, not a sign of the
  system before it). Without triggers, the span is the whole measured span ``[warmup, end)``.
  Availability there = ok / ended; None if no request ended there (a trigger at the warm-up's
  end, or nothing arrived).
- **Final window**: the requests that *arrived* in ``[end - final, end)``, ``final`` being
  ``slo.final_window`` or, if none, 10% of the measured span ``end - warmup`` but at least 60 s;
  never more than the measured span. ``final_availability`` = ok / arrived there (requests still
  in flight after the drain count as not ok, as in the summary); None without arrivals.
- ``overloaded`` (a bool): availability before the first trigger < ``slo.availability``: the
  system was never healthy, so whatever happens later is no metastable failure. None when that
  availability is None.
- ``stuck`` (a bool): the run was healthy before the first trigger (not ``overloaded``), every
  trigger ended by the start of the final window, yet ``final_availability`` <
  ``slo.availability``: the failure sustains itself after its cause is gone. A trigger still
  active in the final window (ending inside it, or never) makes it False, as does a final window
  without arrivals. None without any trigger (nothing to be stuck after) or when ``overloaded``
  is None (health before the trigger unknown).
- ``time_to_detect.<fault>``: first detection time - fault start, at least 0; None if never
  detected.

Outputs are Python floats, bools or None; never NaN or inf.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from simulator import streamed
from simulator.metrics import AVAILABLE
from simulator.request import INCOMPLETE

if TYPE_CHECKING:  # the scenario package is not needed to compute, only to type
    from simulator.scenario.slo import SloSpec

P99 = 0.99
"""The latency quantile the SLO bounds."""
MIN_FINAL_WINDOW = 60.0
"""Seconds: the default final window is never shorter, so a short run is judged on a real stretch."""
FINAL_FRACTION = 0.1
"""The default final window is this fraction of the measured span."""


class _Completions(NamedTuple):
    """Ended requests by end time: ok ones with their latencies, failed ones alone."""

    ok_end: np.ndarray  # sorted
    ok_latency: np.ndarray  # in ok_end order
    fail_end: np.ndarray  # sorted


class _Arrivals(NamedTuple):
    """Requests by arrival time: a window of arrivals is one slice."""

    t: np.ndarray  # sorted
    ended: np.ndarray  # bool
    attempts: np.ndarray  # attempts of the requests that ended, 0 for the others
    ok: np.ndarray  # bool


def recovery_metrics(arrays: dict[str, np.ndarray], *, warmup: float, end: float, slo: SloSpec,
                     faults: Sequence[tuple[str, float, float | None]],
                     detections: Mapping[str, float | None],
                     triggers: Sequence[tuple[float, float | None]] | None = None,
                     step: float = 1.0) -> dict[str, float | bool | None]:
    """The run's recovery metrics (see the module docstring for each definition).

    Args:
        arrays: Per-request columns indexed by id (``Recorder.request_arrays()``).
        warmup: Start of the measured span, seconds.
        end: End of the measured span (the scenario's duration), seconds.
        slo: The objective (an ``SloSpec``).
        faults: (name, start, end or None if it lasts to the end of the run), seconds.
        detections: Fault name -> first detection time in seconds, or None.
        triggers: (start, end or None) of every trigger, seconds; None: the faults' own spans.
        step: Seconds between window positions (> 0).
    """
    if not step > 0:
        raise ValueError(f"step must be greater than zero; got {step!r}")
    ends = _window_ends(warmup, end, slo.window, step)
    spans = [(start, f_end) for _, start, f_end in faults] if triggers is None else list(triggers)
    final_start = end - _final_length(slo.final_window, end - warmup)
    first = max(warmup, min((start for start, _ in spans), default=end))
    if isinstance(arrays, dict):
        ended = np.isfinite(arrays["t_end"]) & (arrays["outcome"] != INCOMPLETE)
        ok = ended & AVAILABLE[arrays["outcome"].astype(np.int64)]  # the catalogue's "available"
        completions = _completions(arrays, ended, ok)
        arrivals = _arrivals(arrays, ended, ok)
        violating = _violations(completions, arrivals, ends, slo)
        peak = _peak_amplification(arrivals, ends, slo.window)
        final = _availability_between(arrivals, final_start, end)
        before = _availability_before(arrays, ended, ok, warmup, first)
    else:  # a spilled run (simulator.recorder): the same numbers, read chunk by chunk
        violating, peak = _spilled_windows(arrays, ends, slo)
        final = streamed.arrival_availability(arrays, final_start, end)
        before = streamed.arrival_availability(arrays, warmup, first, cut=first)
    metrics: dict[str, float | bool | None] = {
        f"time_to_detect.{name}": _time_to_detect(start, detections.get(name)) for name, start, _ in faults
    }
    since = _last_fault_end(faults) if faults else _last_end(spans, warmup)
    metrics["time_to_recover"] = _time_to_recover(ends, violating, since, slo.window)
    metrics["degraded_seconds"] = float(step * np.count_nonzero(violating))
    metrics["peak_amplification"] = peak
    overloaded, stuck = _overloaded_and_stuck(before, spans, final_start, final, slo.availability)
    metrics["stuck"] = stuck
    metrics["overloaded"] = overloaded
    metrics["final_availability"] = final
    return metrics


def _overloaded_and_stuck(before: float | None, spans: Sequence[tuple[float, float | None]],
                          final_start: float, final: float | None,
                          objective: float) -> tuple[bool | None, bool | None]:
    """``overloaded`` and ``stuck`` (module docstring): judged by the availability ``before`` the
    first trigger, the triggers' ends and the final window."""
    overloaded = None if before is None else bool(before < objective)
    if not spans or overloaded is None:
        return overloaded, None
    over = all(t_end is not None and t_end <= final_start for _, t_end in spans)
    stuck = not overloaded and over and final is not None and final < objective
    return overloaded, bool(stuck)


def _availability_before(arrays, ended: np.ndarray, ok: np.ndarray, start: float,
                         cut: float) -> float | None:
    """ok / ended over the requests that arrived in [start, cut) and ended by ``cut``; None if none.

    A request still in flight at ``cut`` (the first trigger) is left out: whatever happens to it
    next is the trigger's doing."""
    t_arrival, t_end = arrays["t_arrival"], arrays["t_end"]
    inside = ended & (t_arrival >= start) & (t_arrival < cut) & (t_end <= cut)
    count = int(np.count_nonzero(inside))
    if count == 0:
        return None
    return float(np.count_nonzero(inside & ok) / count)


def _completions(arrays, ended: np.ndarray, ok: np.ndarray) -> _Completions:
    """End-ordered columns. Each ok request is one complex number (end + i latency) sorted in
    place: numpy orders complex numbers by real part, then imaginary, so ends come sorted with
    their latencies (ties by latency; the metrics see each window's latencies as a set), at
    24 bytes an ok request at the peak instead of 32 with an argsort. ``ok_end`` and
    ``ok_latency`` are views of it."""
    t_end = arrays["t_end"]
    pairs = np.empty(int(np.count_nonzero(ok)), np.complex128)
    pairs.real = t_end[ok]
    pairs.imag = pairs.real
    pairs.imag -= arrays["t_arrival"][ok]  # the same float64 subtraction as t_end - t_arrival
    pairs.sort()
    return _Completions(pairs.real, pairs.imag, np.sort(t_end[ended & ~ok]))


def _arrivals(arrays, ended: np.ndarray, ok: np.ndarray) -> _Arrivals:
    """Arrival-ordered columns; the recorder appends arrivals in time order, so usually no sort."""
    t, attempts = arrays["t_arrival"], arrays["attempts"]
    if t.size and not np.all(t[1:] >= t[:-1]):
        order = np.argsort(t, kind="stable")
        t, attempts, ended, ok = t[order], attempts[order], ended[order], ok[order]
    return _Arrivals(t, ended, np.where(ended, attempts, 0), ok)


def _window_sums(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``values[lo:hi].sum()`` for each pair of indices, in int64 (uint16 attempts would overflow).

    Differences of prefix sums taken only at the distinct indices, and summed one chunk of
    values at a time: no int64 array as long as the run (at 10M requests, 80 MB at the peak of
    the run's memory). Integer sums, so exact whatever the chunking.
    """
    if not lo.size:
        return np.zeros(0, np.int64)
    cuts, position = np.unique(np.concatenate((lo, hi)), return_inverse=True)
    before = _prefix_sums(values, cuts)[position]
    return before[lo.size:] - before[:lo.size]


SUM_CHUNK = 1 << 20
"""Values summed together by :func:`_prefix_sums`."""


def _prefix_sums(values: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``values[:k].sum()`` in int64 for each index ``k`` of ``at`` (k past the end: the total)."""
    out = np.zeros(at.size, np.int64)
    total = 0
    for start in range(0, values.size, SUM_CHUNK):
        stop = min(start + SUM_CHUNK, values.size)
        running = np.cumsum(values[start:stop], dtype=np.int64)
        inside = (at > start) & (at <= stop)
        out[inside] = total + running[at[inside] - start - 1]
        total += int(running[-1])
    out[at > values.size] = total
    return out


def _window_ends(warmup: float, end: float, window: float, step: float) -> np.ndarray:
    """Window end times warmup + window + k step up to ``end`` (a hair of slack for float steps)."""
    last = math.floor((end - warmup - window) / step + 1e-9)
    if last < 0:
        return np.zeros(0)
    return np.minimum(warmup + window + step * np.arange(last + 1), end)


def _count_in(sorted_times: np.ndarray, lo: np.ndarray, hi: np.ndarray, side: str) -> np.ndarray:
    """How many times fall in (lo, hi] (side="right") or [lo, hi) (side="left")."""
    return np.searchsorted(sorted_times, hi, side) - np.searchsorted(sorted_times, lo, side)


def _violations(completions: _Completions, arrivals: _Arrivals, ends: np.ndarray,
                slo: SloSpec) -> np.ndarray:
    """Per window position: True where the window breaks the SLO."""
    starts = ends - slo.window
    ok = _count_in(completions.ok_end, starts, ends, "right")
    ended = ok + _count_in(completions.fail_end, starts, ends, "right")
    arrived = _count_in(arrivals.t, starts, ends, "left")
    return _breaks(ok, ended, arrived, slo) | _p99_above(completions, starts, ends, slo.latency_p99)


def _breaks(ok: np.ndarray, ended: np.ndarray, arrived: np.ndarray, slo: SloSpec) -> np.ndarray:
    """Per window: too few ok among the ended, or silent although requests arrived."""
    availability = np.divide(ok, ended, out=np.ones(ended.size), where=ended > 0)
    unavailable = availability < slo.availability
    silent = (ended == 0) & (arrived > 0)
    return unavailable | silent


def _spilled_windows(spilled, ends: np.ndarray, slo: SloSpec) -> tuple[np.ndarray, float | None]:
    """:func:`_violations` and :func:`_peak_amplification` of a spilled run, from window counts
    summed over chunks; the few windows whose p99 counts cannot settle read their completions."""
    window = slo.window
    starts = ends - window
    c = streamed.completion_window_counts(spilled, starts, ends, slo.latency_p99)
    arrived_lo, arrived_hi = streamed.arrivals_before(spilled, starts, ends)
    violating = _breaks(c["ok"], c["ok"] + c["failed"], arrived_hi - arrived_lo, slo)
    above, unsure = _p99_by_counts(c["ok"], c["slow"])
    for k in unsure:
        latency = streamed.window_latencies(spilled, int(c["lo"][k]), int(c["hi"][k]))
        above[k] = np.quantile(latency, P99) > slo.latency_p99
    cuts, position = np.unique(np.concatenate((arrived_lo, arrived_hi)), return_inverse=True)
    ended_before, tries_before = (sums[position] for sums in streamed.prefix_sums(spilled, cuts))
    count = ended_before[arrived_lo.size:] - ended_before[:arrived_lo.size]
    tries = tries_before[arrived_lo.size:] - tries_before[:arrived_lo.size]
    has = count > 0
    peak = float(np.max(tries[has] / count[has])) if has.any() else None
    return violating | above, peak


def _p99_above(completions: _Completions, starts: np.ndarray, ends: np.ndarray, limit: float) -> np.ndarray:
    """Per window: is the p99 of its ok latencies above ``limit``? Exact, as np.quantile decides.

    Only counts are needed in most windows: numpy's linear p99 lies between the sorted values at
    ranks ``floor(0.99 (n - 1))`` and the next, so counting the latencies above the limit settles
    it unless exactly those two ranks straddle the limit. Only those few windows are sorted.
    """
    ok_end, latency = completions.ok_end, completions.ok_latency
    lo = np.searchsorted(ok_end, starts, "right")
    n = np.searchsorted(ok_end, ends, "right") - lo
    slow = _count_in(ok_end[latency > limit], starts, ends, "right")
    above, unsure = _p99_by_counts(n, slow)
    for k in unsure:
        above[k] = np.quantile(latency[lo[k]:lo[k] + n[k]], P99) > limit
    return above


def _p99_by_counts(n: np.ndarray, slow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per window of ``n`` ok latencies, ``slow`` of them above the limit: is the p99 above it,
    and the windows where only the two middle ranks can tell (to be settled exactly)."""
    below = np.floor((n - 1) * P99).astype(np.int64)  # numpy's virtual index, rounded down
    first_slow = n - slow  # rank of the smallest latency above the limit
    above = (slow > 0) & (below >= first_slow)
    return above, np.flatnonzero((slow > 0) & (below == first_slow - 1))


def _time_to_recover(ends: np.ndarray, violating: np.ndarray, since: float | None,
                     window: float) -> float | None:
    """Seconds from ``since`` (the last fault's end) to the start of the first window that stays
    healthy; 0 if none violates after it; None if not recovered by the end of the run."""
    if since is None:
        return None
    after = np.flatnonzero(ends >= since)
    if not after.size:
        return None
    bad = np.flatnonzero(violating[after])
    if not bad.size:
        return 0.0
    last_bad = after[bad[-1]]
    if last_bad == ends.size - 1:
        return None
    return max(0.0, float(ends[last_bad + 1] - window - since))


def _last_fault_end(faults: Sequence[tuple[str, float, float | None]]) -> float | None:
    """The latest fault end; None without faults or if one lasts to the end of the run."""
    f_ends = [f_end for _, _, f_end in faults]
    if not f_ends or any(f_end is None for f_end in f_ends):
        return None
    return max(f_ends)


def _last_end(spans: Sequence[tuple[float, float | None]], default: float) -> float | None:
    """The latest trigger end (None if one never ends); ``default`` without triggers."""
    if not spans:
        return default
    ends = [end for _, end in spans]
    return None if any(end is None for end in ends) else max(ends)


def _peak_amplification(arrivals: _Arrivals, ends: np.ndarray, window: float) -> float | None:
    """Largest mean attempts per ended request over windows of arrivals [t - window, t)."""
    lo = np.searchsorted(arrivals.t, ends - window, "left")
    hi = np.searchsorted(arrivals.t, ends, "left")
    count = _window_sums(arrivals.ended, lo, hi)
    tries = _window_sums(arrivals.attempts, lo, hi)
    has = count > 0
    if not has.any():
        return None
    return float(np.max(tries[has] / count[has]))


def _final_length(final_window: float | None, span: float) -> float:
    """The final window's length: as given or 10% of the span (>= 60 s), never beyond the span."""
    length = final_window if final_window is not None else max(FINAL_FRACTION * span, MIN_FINAL_WINDOW)
    return max(0.0, min(length, span))


def _availability_between(arrivals: _Arrivals, start: float, end: float) -> float | None:
    """ok / arrived over the requests that arrived in [start, end); None if none did."""
    lo, hi = np.searchsorted(arrivals.t, [start, end], "left")
    if hi <= lo:
        return None
    return float(np.count_nonzero(arrivals.ok[lo:hi]) / (hi - lo))


def _time_to_detect(start: float, detected: float | None) -> float | None:
    """Seconds from a fault's start to its first detection (0 if detected before); None if never."""
    if detected is None or not math.isfinite(detected):
        return None
    return max(0.0, float(detected - start))
