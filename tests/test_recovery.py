"""Recovery metrics judge synthetic runs the way their definitions say, quickly and without NaN."""

from __future__ import annotations

import math
import time

import numpy as np
import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.recovery import recovery_metrics
from simulator.request import ERROR, INCOMPLETE, OK
from simulator.scenario.slo import SloSpec

SLO = SloSpec()  # 99% ok and p99 <= 1 s over 10 s windows


def requests(t_arrival, latency=0.05, outcome=OK, attempts=1) -> dict[str, np.ndarray]:
    """Per-request columns as the recorder builds them; incomplete requests have no end."""
    t_arrival = np.asarray(t_arrival, dtype=np.float64)
    n = t_arrival.size
    outcome = np.broadcast_to(np.asarray(outcome, dtype=np.int8), n).copy()
    t_end = t_arrival + np.broadcast_to(np.asarray(latency, dtype=np.float64), n)
    t_end[outcome == INCOMPLETE] = np.nan
    return {"t_arrival": t_arrival, "t_end": t_end, "outcome": outcome,
            "attempts": np.broadcast_to(np.asarray(attempts, dtype=np.uint16), n).copy(),
            "workload": np.zeros(n, dtype=np.int8)}


def steady(until=300.0, rate=10.0):
    """Evenly spaced arrival times in [0, until)."""
    return np.arange(0.0, until, 1.0 / rate)


def metrics(arrays, faults=(), detections=None, end=300.0, warmup=0.0, slo=SLO, step=1.0):
    """recovery_metrics with this file's defaults: a 300 s run, no warm-up, no faults."""
    return recovery_metrics(arrays, warmup=warmup, end=end, slo=slo, faults=list(faults),
                            detections=detections or {}, step=step)


def test_clean_run_is_healthy():
    """A run where everything answers quickly never leaves the SLO and is not stuck."""
    m = metrics(requests(steady()), faults=[("crash", 100.0, 110.0)], detections={"crash": 102.0})
    assert m["degraded_seconds"] == 0.0
    assert m["stuck"] is False
    assert m["time_to_recover"] == 0.0
    assert m["final_availability"] == 1.0
    assert m["peak_amplification"] == 1.0


def test_time_to_recover_spans_the_outage_after_the_fault():
    """A fault at 100-110 whose outage lasts until 140 takes 30 s to recover (within one step)."""
    t = steady()
    failing = (t >= 100) & (t < 140)
    m = metrics(requests(t, outcome=np.where(failing, ERROR, OK)), faults=[("crash", 100.0, 110.0)])
    assert abs(m["time_to_recover"] - 30.0) <= 1.0
    assert abs(m["degraded_seconds"] - (40.0 + SLO.window)) <= 1.0  # trailing windows lag by a window
    assert m["stuck"] is False


def test_run_that_never_recovers_is_stuck():
    """Failures that outlive their trigger to the end: no recovery time, and the run is stuck."""
    t = steady()
    m = metrics(requests(t, outcome=np.where(t >= 100, ERROR, OK)), faults=[("crash", 100.0, 110.0)])
    assert m["time_to_recover"] is None
    assert m["stuck"] is True
    assert m["final_availability"] == 0.0


def test_fault_still_active_at_the_end_is_not_stuck():
    """A fault that never ends explains the failures: no recovery time, but not stuck."""
    t = steady()
    m = metrics(requests(t, outcome=np.where(t >= 100, ERROR, OK)), faults=[("crash", 100.0, None)])
    assert m["time_to_recover"] is None
    assert m["stuck"] is False


def test_slow_but_available_window_violates_by_p99():
    """Every request succeeds, yet 2 s answers for 20 s break a 1 s p99 objective (not a 3 s one)."""
    t = steady()
    arrays = requests(t, latency=np.where((t >= 100) & (t < 120), 2.0, 0.05))
    strict = metrics(arrays)
    assert strict["final_availability"] == 1.0
    assert abs(strict["degraded_seconds"] - (20.0 + SLO.window)) <= 1.0
    assert metrics(arrays, slo=SloSpec(latency_p99=3.0))["degraded_seconds"] == 0.0


def test_window_that_answers_nothing_violates():
    """Requests that arrive and never end leave their windows silent, which is not healthy."""
    t = steady()
    arrays = requests(t, outcome=np.where((t >= 100) & (t < 130), INCOMPLETE, OK))
    assert metrics(arrays)["degraded_seconds"] >= 30.0 - SLO.window


def test_window_without_traffic_does_not_violate():
    """A quiet stretch with no arrivals and no answers is not an outage."""
    t = steady()
    assert metrics(requests(t[(t < 100) | (t >= 150)]))["degraded_seconds"] == 0.0


def test_time_to_detect_is_delay_from_start_or_none():
    """Detection delay per fault: seconds after the start, 0 if earlier, None if never."""
    faults = [("crash", 100.0, 110.0), ("slow", 150.0, 160.0), ("flush", 200.0, 201.0)]
    m = metrics(requests(steady()), faults=faults, detections={"crash": 104.5, "slow": 140.0, "flush": None})
    assert m["time_to_detect.crash"] == 4.5
    assert m["time_to_detect.slow"] == 0.0
    assert m["time_to_detect.flush"] is None


def test_peak_amplification_finds_the_planted_window():
    """Three attempts per request for 20 s of arrivals: the peak window averages exactly 3."""
    t = steady()
    storm = (t >= 200) & (t < 220)
    arrays = requests(t, attempts=np.where(storm, 3, 1))
    arrays["attempts"][t == 50.0] = 60_000  # incomplete requests do not count
    arrays["outcome"][t == 50.0] = INCOMPLETE
    assert metrics(arrays)["peak_amplification"] == 3.0


def test_final_window_defaults_to_last_tenth_of_the_run():
    """The default final window of a 1000 s run is its last 100 s, judged by arrivals."""
    t = steady(1000.0)
    m = metrics(requests(t, outcome=np.where(t >= 950, ERROR, OK)), faults=[("f", 500.0, 600.0)],
                end=1000.0)
    assert m["final_availability"] == 0.5
    assert m["stuck"] is True


def test_unavailable_outcomes_count_as_failures():
    """Outcomes that do not count as available (shed, short-circuited...) are failures; degraded is not."""
    from simulator.request import DEGRADED, SHED

    t = steady()
    degraded = metrics(requests(t, outcome=np.where(t >= 100, int(DEGRADED), OK)))
    assert degraded["final_availability"] == 1.0
    m = metrics(requests(t, outcome=np.where(t >= 100, int(SHED), OK)))
    assert m["final_availability"] == 0.0


def test_slo_spec_parses_units_and_rejects_unknown_keys():
    """An SLO is written with units like any scenario value; a typo is an error."""
    slo = SloSpec.model_validate({"availability": "99.9%", "latency_p99": "250ms", "final_window": "2m"})
    assert (slo.availability, slo.latency_p99, slo.window, slo.final_window) == (
        pytest.approx(0.999), 0.25, 10.0, 120.0)
    with pytest.raises(pydantic.ValidationError):
        SloSpec.model_validate({"availabilty": 0.9})


# --- agreement with the plain definitions ----------------------------------------------------

def reference(arrays, warmup, end, slo, step):
    """degraded_seconds and peak_amplification computed window by window, straight from the docs."""
    t_arr, t_end, outcome = arrays["t_arrival"], arrays["t_end"], arrays["outcome"]
    ended = np.isfinite(t_end) & (outcome != INCOMPLETE)
    ok = ended & (outcome == OK)
    degraded, peak = 0.0, None
    k = 0
    while warmup + slo.window + k * step <= end:
        t = warmup + slo.window + k * step
        done = ended & (t_end > t - slo.window) & (t_end <= t)
        arrived = (t_arr >= t - slo.window) & (t_arr < t)
        good = done & ok
        bad = done.sum() == 0 and arrived.sum() > 0
        if done.sum():
            latency = t_end[good] - t_arr[good]
            p99 = np.quantile(latency, 0.99) if latency.size else -math.inf
            bad = good.sum() / done.sum() < slo.availability or p99 > slo.latency_p99
        degraded += step * bad
        counted = arrived & (outcome != INCOMPLETE)
        if counted.any():
            mean = float(arrays["attempts"][counted].mean())
            peak = mean if peak is None else max(peak, mean)
        k += 1
    return degraded, peak


@st.composite
def small_runs(draw):
    """Up to 60 requests on a half-second lattice, so window edges and the p99 limit are often hit."""
    n = draw(st.integers(0, 60))
    halves = st.integers(0, 120)
    t_arrival = np.array(draw(st.lists(halves, min_size=n, max_size=n)), dtype=np.float64) / 2
    latency = draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 1.5, 4.0]), min_size=n, max_size=n))
    outcome = draw(st.lists(st.sampled_from([OK, OK, OK, ERROR, 2, 3, 4, INCOMPLETE, 7]),
                            min_size=n, max_size=n))
    attempts = draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    arrays = requests(t_arrival, latency=latency, outcome=outcome, attempts=attempts)
    slo = SloSpec(availability=draw(st.sampled_from([0.0, 0.5, 0.99, 1.0])), latency_p99=1.0,
                  window=draw(st.sampled_from([2.5, 5.0, 10.0])),
                  final_window=draw(st.sampled_from([None, 5.0, 100.0])))
    start = draw(st.sampled_from([0.0, 10.0, 50.0]))
    faults = [("f", start, draw(st.sampled_from([None, start, start + 5.0, 80.0])))]
    detections = {"f": draw(st.sampled_from([None, 0.0, start + 1.0, math.inf]))}
    return arrays, slo, faults, detections


@given(small_runs(), st.sampled_from([0.0, 5.0]), st.sampled_from([0.5, 1.0, 2.5]))
@settings(max_examples=300, deadline=None)
def test_metrics_match_their_definitions_and_are_never_nan(run, warmup, step):
    """degraded_seconds and peak_amplification equal a per-window loop; outputs are finite or None."""
    arrays, slo, faults, detections = run
    m = recovery_metrics(arrays, warmup=warmup, end=60.0, slo=slo, faults=faults,
                         detections=detections, step=step)
    assert (m["degraded_seconds"], m["peak_amplification"]) == reference(arrays, warmup, 60.0, slo, step)
    for value in m.values():
        assert value is None or isinstance(value, bool) or (isinstance(value, float) and math.isfinite(value))
    assert m["stuck"] is None or isinstance(m["stuck"], bool)
    assert not (m["stuck"] and m["overloaded"])  # a system never healthy cannot be stuck
    assert m["time_to_recover"] is None or m["time_to_recover"] >= 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_p99_decision_matches_numpy_in_busy_windows(seed):
    """With thousands of answers per window, the p99 judgement still equals np.quantile's."""
    rng = np.random.default_rng(seed)
    t = np.round(rng.uniform(0.0, 60.0, 20_000) * 4) / 4
    tail = rng.random(t.size) < 0.01
    latency = np.where(tail, rng.choice([1.0, 1.25, 2.0], t.size), rng.choice([0.25, 0.5, 1.0], t.size))
    arrays = requests(t, latency=latency)
    slo = SloSpec(availability=0.0, window=5.0)
    m = metrics(arrays, end=60.0, slo=slo, step=0.25)
    assert m["degraded_seconds"] == reference(arrays, 0.0, 60.0, slo, 0.25)[0]


@pytest.mark.slow
def test_five_million_requests_take_under_five_seconds():
    """A long run (5M requests, a retry storm, 2,000 window positions) is summarised in seconds."""
    rng = np.random.default_rng(6)
    t = np.sort(rng.uniform(0.0, 2000.0, 5_000_000))
    storm = (t >= 600) & (t < 900)
    latency = rng.exponential(0.05, t.size) + np.where(storm, 1.5, 0.0)
    outcome = np.where(storm & (rng.random(t.size) < 0.3), ERROR, OK)
    arrays = requests(t, latency=latency, outcome=outcome, attempts=np.where(storm, 3, 1))
    began = time.perf_counter()
    m = metrics(arrays, faults=[("crash", 600.0, 700.0)], end=2000.0)
    assert time.perf_counter() - began < 5.0
    assert abs(m["time_to_recover"] - 201.5) <= 1.0  # the storm's last answers end 1.5 s after it
    assert m["peak_amplification"] == 3.0


# --- stuck, overloaded and what null means (issue 15, items 1 and 9) ---------------------------------

def test_no_trigger_is_never_stuck_and_a_run_below_the_slo_throughout_is_overloaded():
    """rate-limits' case: no fault, limiters keep availability at ~70% all along. Before: stuck True;
    now stuck is null (nothing to be stuck after) and the run is overloaded."""
    t = steady()
    m = metrics(requests(t, outcome=np.where(np.arange(t.size) % 10 < 3, ERROR, OK)))
    assert m["stuck"] is None
    assert m["overloaded"] is True
    assert metrics(requests(t))["overloaded"] is False


def test_unhealthy_before_the_trigger_is_overloaded_not_stuck():
    """Below the SLO before the fault and after it: overloaded, never stuck."""
    t = steady()
    m = metrics(requests(t, outcome=np.where(np.arange(t.size) % 10 < 3, ERROR, OK)),
                faults=[("crash", 100.0, 110.0)])
    assert m["overloaded"] is True and m["stuck"] is False


def test_healthy_before_trigger_over_final_window_bad_is_stuck():
    """The definition's three conditions: healthy before, trigger over before the final window
    (here the last 60 s, [240, 300)), still below the SLO there."""
    t = steady()
    failing = requests(t, outcome=np.where(t >= 100, ERROR, OK))
    assert metrics(failing, faults=[("f", 100.0, 110.0)])["stuck"] is True
    assert metrics(failing, faults=[("f", 100.0, 240.0)])["stuck"] is True  # ends as the window starts
    assert metrics(failing, faults=[("f", 100.0, 250.0)])["stuck"] is False  # ends inside it
    assert metrics(failing, faults=[("f", 100.0, None)])["stuck"] is False  # never ends


def test_every_trigger_counts_and_the_first_one_bounds_the_healthy_span():
    """A release (given as a trigger span) still on keeps a run from being stuck; the span before
    the first trigger is what "healthy before" judges."""
    t = steady()
    arrays = requests(t, outcome=np.where(t >= 100, ERROR, OK))
    assert recovery_metrics(arrays, warmup=0.0, end=300.0, slo=SLO, faults=[("f", 100.0, 110.0)],
                            detections={}, triggers=[(100.0, 110.0), (150.0, None)])["stuck"] is False
    early = recovery_metrics(arrays, warmup=0.0, end=300.0, slo=SLO, faults=[], detections={},
                             triggers=[(50.0, 60.0)])
    assert early["overloaded"] is False and early["stuck"] is True


def test_requests_cut_short_by_the_trigger_do_not_make_the_run_overloaded():
    """Requests in flight when the fault starts fail because of it: not a sign of the run before."""
    t = steady()
    latency = np.where((t >= 95) & (t < 100), 6.0, 0.05)  # 5 s of arrivals still in flight at 100
    outcome = np.where((t >= 95) & (t < 110), ERROR, OK)
    m = metrics(requests(t, latency=latency, outcome=outcome), faults=[("crash", 100.0, 110.0)])
    assert m["overloaded"] is False


def test_trigger_at_the_warmup_end_leaves_health_before_unknown():
    """No request ended before the first trigger: overloaded and stuck are null, not a guess."""
    t = steady()
    m = metrics(requests(t, outcome=np.where(t >= 100, ERROR, OK)), faults=[("f", 100.0, 110.0)],
                warmup=100.0)
    assert m["overloaded"] is None and m["stuck"] is None


def test_time_to_recover_null_means_not_recovered_and_zero_never_degraded():
    """One meaning each: 0 when never degraded (with or without a fault); null only when the run
    is still outside the SLO at the end (or its fault still on). Before: null without faults."""
    t = steady()
    assert metrics(requests(t))["time_to_recover"] == 0.0
    assert metrics(requests(t), faults=[("f", 100.0, 110.0)])["time_to_recover"] == 0.0
    never = requests(t, outcome=np.where(t >= 100, ERROR, OK))
    assert metrics(never)["time_to_recover"] is None
    assert metrics(never, faults=[("f", 100.0, 110.0)])["time_to_recover"] is None
    from simulator.metrics import null_meaning

    assert "not recovered" in null_meaning("time_to_recover")


def test_crash_start_up_counts_as_recovery_time():
    """replica-crash-health-check without a health check: the crash ends at the restart (270 s,
    the fault_end stamp) and the replica refuses for its 20 s start-up, so time_to_recover is the
    start-up, as the scenario's description promises. Before: fault_end at 290 s, recovery 0 s."""
    from simulator import load_scenario
    from simulator.runner import run

    ran = run(load_scenario("replica-crash-health-check"), "no_health_check")
    ends = ran.events[ran.events["kind"] == "fault_end"]
    assert list(ends["t"]) == [pytest.approx(270.0)]
    assert ran.summary["time_to_recover"] == pytest.approx(20.0, abs=1.0)
    assert ran.summary["stuck"] is False and ran.summary["overloaded"] is False


def test_rate_limits_without_a_fault_is_overloaded_not_stuck():
    """rate-limits has no trigger; its limiters keep availability near 70%, below the 99% SLO.
    Before: stuck True on every limited variant. Now: stuck null, overloaded True."""
    from simulator import load_scenario
    from simulator.runner import run

    summary = run(load_scenario("rate-limits"), "token_bucket").summary
    assert summary["availability"] < 0.9
    assert summary["stuck"] is None and summary["overloaded"] is True


def test_a_release_is_a_trigger_over_at_its_rollback_or_promotion():
    """bad-release: a canary that passes and is promoted is over then (time_to_recover 0: never
    degraded; before: null); a big bang, never judged, lasts (null: not recovered from it); and a
    release is a trigger, so stuck is judged (false), where no release at all leaves it null."""
    from simulator import load_scenario
    from simulator.runner import run

    scenario = load_scenario("bad-release")
    good = run(scenario, "good_canary").summary
    assert good["time_to_recover"] == 0.0 and good["stuck"] is False
    assert run(scenario, "big_bang").summary["time_to_recover"] is None
    assert run(scenario, "no_release").summary["stuck"] is None


def test_a_batch_job_is_a_trigger():
    """nightly-batch has no fault: its batch run is what pushes the API tier over. Judged as a
    trigger, the run was healthy before it and recovered: not overloaded, not stuck (without it,
    the batch's own damage made the whole run look overloaded)."""
    from simulator import load_scenario
    from simulator.runner import run

    summary = run(load_scenario("nightly-batch"), "all_at_once").summary
    assert summary["overloaded"] is False and summary["stuck"] is False
    assert summary["time_to_recover"] is not None and summary["time_to_recover"] < 5.0
