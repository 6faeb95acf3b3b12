"""Faults do what their documentation promises: windows, losses, detection, recovery, metastability.

Statistical checks use a tolerance of four standard deviations of the quantity checked (Poisson or
binomial), so a correct simulator fails them about once in 16,000 runs; the seeds are fixed, so a
pass is repeatable. Every run goes through :func:`play`, which also checks the accounting
invariant (offered = ok + errors + timeouts + rejected + unavailable + incomplete).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from simulator import run
from simulator.cli import _jsonable

OUTCOME_COUNTS = ("ok", "errors", "timeouts", "rejected", "unavailable", "incomplete")
SIGMAS = 4.0


def play(scenario, variant=None, **kwargs):
    """Run one variant and check that every offered request ended in exactly one outcome."""
    result = run(scenario, variant, **kwargs)
    summary = result.summary
    assert summary["offered"] == sum(summary[name] for name in OUTCOME_COUNTS)
    assert summary["offered"] > 0
    return result


def scenario(components, faults, *, rate, duration, pattern="poisson", timeout=None, retry=None,
             entry=None, **extra) -> dict:
    """A one-workload scenario dict (workload ``w``, entering at the first component by default)."""
    client = {}
    if timeout is not None:
        client["timeout"] = timeout
    if retry is not None:
        client["retry"] = retry
    workload = {"name": "w", "entry": entry or components[0]["name"],
                "arrivals": {"pattern": pattern, "rate": rate}}
    if client:
        workload["client"] = client
    return {"name": "faults", "duration": duration, "seed": 1, "workload": [workload],
            "components": components, "faults": faults, **extra}


def arrived(result, start=-math.inf, end=math.inf):
    """Requests that arrived in [start, end), within the measured run."""
    requests = result.requests
    t = requests["t_arrival"]
    return requests[(t >= start) & (t < end) & (t < result.spec.duration)]


def arrived_outside(result, start, end):
    """Requests that arrived before start or from end on, within the measured run."""
    t = result.requests["t_arrival"]
    return result.requests[((t < start) | (t >= end)) & (t < result.spec.duration)]


def events_of(result, kind):
    """The events of one kind."""
    return result.events[result.events["kind"] == kind]


def assert_poisson(observed, expected):
    """observed is a Poisson count with this mean, within SIGMAS standard deviations."""
    assert abs(observed - expected) <= SIGMAS * math.sqrt(expected), (observed, expected)


def assert_share(successes, n, p):
    """successes out of n is a binomial share p, within SIGMAS standard deviations."""
    assert abs(successes / n - p) <= SIGMAS * math.sqrt(p * (1 - p) / n), (successes, n, p)


# --- fault windows --------------------------------------------------------------------------------

def _flaky(make_scenario):
    app = {"kind": "service", "name": "app", "replicas": 2, "workers": 20, "service_time": "10ms"}
    fault = {"kind": "errors", "name": "flaky", "target": "app", "rate": "30%", "at": 20, "for": 20}
    return play(make_scenario(scenario([app], [fault], rate=500, duration=60, timeout=1)))


def test_fault_window_is_recorded_as_events(make_scenario):
    """A fault's start and end are events naming its target (component) and the fault (detail)."""
    events = _flaky(make_scenario).events
    windows = events[events["kind"].isin(["fault_start", "fault_end"])]
    assert windows[["t", "kind", "component", "detail"]].values.tolist() == [
        [20.0, "fault_start", "app", "flaky"], [40.0, "fault_end", "app", "flaky"]]


def test_errors_fault_sets_the_error_share_inside_its_window_only(make_scenario):
    """An errors fault at 30% fails about 30% of the requests in its window and none outside it."""
    result = _flaky(make_scenario)
    inside = arrived(result, 20, 39.5)  # finished within the window (10 ms of work)
    outside = arrived_outside(result, 19.5, 40.5)
    assert_share(int((inside["outcome"] == "error").sum()), len(inside), 0.3)
    assert (inside["outcome"].isin(["ok", "error"])).all()
    assert (outside["outcome"] == "ok").all()


# --- crash, detection, restart --------------------------------------------------------------------

CRASH_AT, CRASH_FOR, REPLICAS, RATE = 10.3, 15.0, 4, 1000.0
PROBES = {"interval": 1, "timeout": 0.5, "unhealthy_after": 3, "healthy_after": 2}


def _crash_behind_balancer(make_scenario, health_check):
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "random"}
    if health_check:
        lb["health_check"] = PROBES
    app = {"kind": "service", "name": "app", "replicas": REPLICAS, "workers": 50, "service_time": "10ms"}
    crash = {"kind": "crash", "name": "boom", "target": "app", "replicas": [0], "at": CRASH_AT,
             "for": CRASH_FOR}
    return play(make_scenario(scenario([lb, app], [crash], rate=RATE, duration=30, timeout=1)))


def test_health_check_detects_a_crash_after_unhealthy_after_probes(make_scenario):
    """detected_down comes between (unhealthy_after - 1) and unhealthy_after probe intervals after
    the crash, and time_to_detect reports that delay."""
    result = _crash_behind_balancer(make_scenario, health_check=True)
    detected = events_of(result, "detected_down")
    assert detected["detail"].tolist() == ["app/0"]
    delay = detected["t"].iloc[0] - CRASH_AT
    n, interval = PROBES["unhealthy_after"], PROBES["interval"]
    assert (n - 1) * interval <= delay <= n * interval
    assert result.summary["time_to_detect.boom"] == pytest.approx(delay)


def test_crashed_replica_loses_its_share_of_traffic_until_detection(make_scenario):
    """Between the crash and detected_down the balancer keeps sending 1/replicas of the traffic to
    the dead replica: about rate / replicas x detection time requests are lost, and none after."""
    result = _crash_behind_balancer(make_scenario, health_check=True)
    detected = events_of(result, "detected_down")["t"].iloc[0]
    lost = arrived(result, CRASH_AT, detected)
    lost = lost[lost["outcome"] != "ok"]
    assert lost["outcome"].isin(["unavailable", "error"]).all()
    # Measured (seed 1): detection after 2.7 s, 719 lost for 675 expected (sd 26).
    assert_poisson(len(lost), RATE / REPLICAS * (detected - CRASH_AT))
    after = arrived(result, detected, CRASH_AT + CRASH_FOR)
    assert (after["outcome"] == "ok").all()


def test_without_health_check_a_crash_loses_traffic_for_its_whole_window(make_scenario):
    """A balancer without health checks never learns of the crash: rate / replicas x window lost."""
    result = _crash_behind_balancer(make_scenario, health_check=False)
    assert events_of(result, "detected_down").empty
    window = arrived(result, CRASH_AT, CRASH_AT + CRASH_FOR)
    # Measured (seed 1): 3844 lost for 3750 expected (sd 61).
    assert_poisson(int((window["outcome"] != "ok").sum()), RATE / REPLICAS * CRASH_FOR)
    assert (arrived(result, CRASH_AT + CRASH_FOR + 0.1)["outcome"] == "ok").all()


def test_crash_ends_queued_and_in_service_work_as_error_at_the_crash_instant(make_scenario):
    """Everything a crashed replica held (2 in service, 6 queued) ends as error exactly at the crash."""
    app = {"kind": "service", "name": "app", "workers": 2, "service_time": "5s"}
    crash = {"kind": "crash", "name": "boom", "target": "app", "at": 10.5, "for": 5}
    result = play(make_scenario(scenario([app], [crash], rate=1, pattern="deterministic",
                                         duration=30, timeout=100)))
    before = arrived(result, 0, 10.5)
    held = before[before["outcome"] != "ok"]
    assert len(held) == 8  # arrivals at 1..10 s; two finished (ends at 6 and 7 s)
    assert (held["outcome"] == "error").all()
    assert (held["t_end"] == 10.5).all()


def _restart(make_scenario, **extra):
    app = {"kind": "service", "name": "app", "workers": 2, "service_time": "100ms"}
    crash = {"kind": "crash", "name": "boom", "target": "app", "at": 10.05, "restart_after": 5,
             "startup": 2}
    return play(make_scenario(scenario([app], [crash], rate=10, pattern="deterministic", duration=30,
                                       timeout=5, **extra)))


def test_restarted_replica_serves_again_after_restart_after_plus_startup(make_scenario):
    """A crashed replica refuses connections until restart_after + startup, then serves normally."""
    result = _restart(make_scenario)
    assert (arrived(result, 10.06, 17.05)["outcome"] == "unavailable").all()
    back = arrived(result, 17.05)
    assert (back["outcome"] == "ok").all()
    assert back["latency"].to_numpy() == pytest.approx(0.1, abs=1e-9)


def test_throughput_recovers_after_restart(make_scenario):
    """Throughput drops to zero while the only replica is down and returns to the offered rate."""
    traffic = _restart(make_scenario, sample_interval=1).traffic
    down = traffic[(traffic["t"] >= 11) & (traffic["t"] < 17)]  # rows are [t, t + 1 s)
    back = traffic[(traffic["t"] >= 19) & (traffic["t"] <= 29)]
    assert (down["throughput"] == 0).all()
    assert back["throughput"].to_numpy() == pytest.approx(10.0, abs=1.0)


def test_health_check_notices_a_restarted_replica(make_scenario):
    """After restart + startup, detected_up comes within healthy_after probe intervals."""
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app", "health_check": PROBES}
    app = {"kind": "service", "name": "app", "replicas": 2, "workers": 4, "service_time": "10ms"}
    crash = {"kind": "crash", "name": "boom", "target": "app", "replicas": [0], "at": 10.3,
             "restart_after": 5, "startup": 2}
    result = play(make_scenario(scenario([lb, app], [crash], rate=50, duration=30, timeout=1)))
    up = events_of(result, "detected_up")
    assert up["detail"].tolist() == ["app/0"]
    serving = 10.3 + 5 + 2
    n, interval = PROBES["healthy_after"], PROBES["interval"]
    assert serving + (n - 1) * interval <= up["t"].iloc[0] <= serving + n * interval
    healthy = result.series[(result.series["component"] == "lb") & (result.series["metric"] == "healthy")]
    assert healthy[healthy["t"] > up["t"].iloc[0]]["value"].eq(2).all()


# --- hang, pause ----------------------------------------------------------------------------------

def _hang(make_scenario):
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app"}
    app = {"kind": "service", "name": "app", "replicas": 2, "workers": 4, "service_time": "50ms"}
    hang = {"kind": "hang", "name": "stuck", "target": "app", "replicas": [1], "at": 10.25, "for": 5}
    return play(make_scenario(scenario([lb, app], [hang], rate=4, pattern="deterministic", duration=30,
                                       timeout=2)))


def test_hung_replica_costs_callers_their_full_timeout(make_scenario):
    """Requests routed to a hung replica end as timeout after exactly the client's timeout; the
    healthy replica answers its half of the traffic as usual."""
    window = arrived(_hang(make_scenario), 10.3, 12.8)  # their timeouts expire before the restart
    failed = window[window["outcome"] != "ok"]
    assert len(window) == 10 and len(failed) == 5  # round robin: every other request
    assert (failed["outcome"] == "timeout").all()
    assert (failed["latency"] == 2.0).all()


def test_hung_replica_restarts_empty_after_its_window(make_scenario):
    """At the end of a hang the replica restarts: what it still held ends as error at that instant,
    and later requests are served without waiting."""
    result = _hang(make_scenario)
    held = arrived(result, 13.25, 15.25)
    held = held[held["outcome"] != "ok"]
    assert len(held) > 0
    assert (held["outcome"] == "error").all()
    assert (held["t_end"] == 15.25).all()
    after = arrived(result, 15.3)
    assert (after["outcome"] == "ok").all()
    assert after["latency"].to_numpy() == pytest.approx(0.05, abs=1e-9)


def _pause(make_scenario):
    app = {"kind": "service", "name": "app", "workers": 4, "service_time": "200ms"}
    pause = {"kind": "pause", "name": "gc", "target": "app", "at": 10.05, "for": 3}
    return play(make_scenario(scenario([app], [pause], rate=10, pattern="deterministic", duration=30,
                                       timeout=30)))


def test_pause_loses_nothing(make_scenario):
    """A pause delays requests but every one of them ends ok: completed == ok == offered."""
    summary = _pause(make_scenario).summary
    assert summary["completed"] == summary["ok"] == summary["offered"]


def test_pause_adds_its_length_to_work_in_service(make_scenario):
    """Requests in service when the pause starts take their service time plus the pause."""
    in_service = arrived(_pause(make_scenario), 9.86, 10.05)
    assert len(in_service) == 2
    assert in_service["latency"].to_numpy() == pytest.approx(0.2 + 3.0, abs=1e-9)


@pytest.mark.parametrize("kind", ["pause", "hang"])
def test_a_shorter_fault_ending_does_not_revive_a_crashed_replica(make_scenario, kind):
    """A pause or hang that ends while a crash of the same replica lasts leaves it down until the
    crash ends."""
    app = {"kind": "service", "name": "app", "workers": 2, "service_time": "100ms"}
    faults = [{"kind": kind, "name": "first", "target": "app", "at": 10.05, "for": 3},
              {"kind": "crash", "name": "boom", "target": "app", "at": 11.05, "for": 10}]
    result = play(make_scenario(scenario([app], faults, rate=1, pattern="deterministic", duration=30,
                                         timeout=5)))
    assert (arrived(result, 11.5, 21.05)["outcome"] == "unavailable").all()
    assert (arrived(result, 21.05)["outcome"] == "ok").all()


# --- slow, capacity -------------------------------------------------------------------------------

def test_slow_fault_multiplies_service_time_in_its_window(make_scenario):
    """With constant service times, requests served in a slow window take exactly factor x as long."""
    app = {"kind": "service", "name": "app", "workers": 50, "service_time": "20ms"}
    slow = {"kind": "slow", "name": "disk", "target": "app", "factor": 3, "at": 10, "for": 10}
    result = play(make_scenario(scenario([app], [slow], rate=100, duration=30, timeout=5)))
    assert arrived(result, 10, 20)["latency"].to_numpy() == pytest.approx(0.06, abs=1e-9)
    outside = arrived_outside(result, 10, 20)
    assert outside["latency"].to_numpy() == pytest.approx(0.02, abs=1e-9)


def test_capacity_fault_caps_throughput_at_the_remaining_workers(make_scenario):
    """With 2 of 10 workers left and 100 ms of work each, at most 20 requests/s complete."""
    app = {"kind": "service", "name": "app", "workers": 10, "service_time": "100ms"}
    squeeze = {"kind": "capacity", "name": "noisy", "target": "app", "workers": 2, "at": 10, "for": 10}
    result = play(make_scenario(scenario([app], [squeeze], rate=50, duration=40, timeout=60)))
    ends = result.requests["t_end"].to_numpy()
    assert np.count_nonzero((ends >= 11) & (ends < 20)) / 9 == pytest.approx(20.0, abs=0.5)
    assert np.count_nonzero((ends >= 30) & (ends < 40)) / 10 == pytest.approx(50.0, abs=5)


# --- network --------------------------------------------------------------------------------------

def test_partition_fails_calls_across_as_unavailable_after_connect_timeout(make_scenario):
    """Calls from the balancer to the partitioned service end as unavailable after connect_timeout."""
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app"}
    app = {"kind": "service", "name": "app", "workers": 20, "service_time": "10ms"}
    split = {"kind": "partition", "name": "split", "between": [["lb"], ["app"]], "connect_timeout": 0.5,
             "at": 10, "for": 5}
    result = play(make_scenario(scenario([lb, app], [split], rate=50, duration=30, timeout=5)))
    cut = arrived(result, 10, 15)
    assert len(cut) > 0
    assert (cut["outcome"] == "unavailable").all()
    assert cut["latency"].to_numpy() == pytest.approx(0.5, abs=1e-9)
    assert (arrived_outside(result, 10, 15)["outcome"] == "ok").all()


def _packet_loss(make_scenario):
    app = {"kind": "service", "name": "app", "workers": 50, "service_time": "10ms"}
    loss = {"kind": "packet_loss", "name": "drop", "target": "w->app", "fraction": "20%", "timeout": 0.3,
            "at": 10, "for": 20}
    return play(make_scenario(scenario([app], [loss], rate=200, duration=40, timeout=5)))


def test_packet_loss_loses_its_fraction_of_calls(make_scenario):
    """About `fraction` of the calls on the edge are lost during the window, none outside it."""
    result = _packet_loss(make_scenario)
    window = arrived(result, 10, 30)
    assert_share(int((window["outcome"] != "ok").sum()), len(window), 0.2)
    assert (arrived_outside(result, 10, 30)["outcome"] == "ok").all()


def test_lost_calls_time_out_after_the_faults_timeout(make_scenario):
    """A lost call ends as timeout exactly `timeout` after it was sent."""
    window = arrived(_packet_loss(make_scenario), 10, 30)
    lost = window[window["outcome"] != "ok"]
    assert (lost["outcome"] == "timeout").all()
    assert lost["latency"].to_numpy() == pytest.approx(0.3, abs=1e-9)


# --- data -----------------------------------------------------------------------------------------

def test_cache_flush_drops_hit_ratio_and_raises_database_load(make_scenario):
    """Right after a flush the cache's hit ratio falls and the database works harder."""
    cache = {"kind": "cache", "name": "cache", "capacity": 1000, "backend": "db",
             "keys": {"dist": "zipf", "alpha": 0.8, "catalog": 5000}}
    db = {"kind": "database", "name": "db", "connections": 10, "query_time": "10ms"}
    flush = {"kind": "cache_flush", "name": "flush", "target": "cache", "at": 30}
    result = play(make_scenario(scenario([cache, db], [flush], rate=300, duration=40, timeout=5,
                                         sample_interval=1)))
    series = result.series

    def gauge(component, metric):
        rows = series[(series["component"] == component) & (series["metric"] == metric)]
        return rows.set_index("t")["value"]

    hit_ratio, db_load = gauge("cache", "hit_ratio"), gauge("db", "utilization")
    steady = slice(21, 30)  # samples over the 10 s before the flush
    # Measured (seed 1): hit ratio 0.56 before, 0.19 in the second after; db utilisation 0.13 -> 0.24.
    assert hit_ratio[31] < 0.6 * hit_ratio.loc[steady].mean()
    assert db_load[31] > 1.4 * db_load.loc[steady].mean()
    assert events_of(result, "cache_flushed")["t"].tolist() == [30.0]


def _primary_failure(make_scenario, read_fraction):
    db = {"kind": "database", "name": "db", "connections": 10, "query_time": "10ms", "read_replicas": 2,
          "read_fraction": read_fraction}
    failure = {"kind": "db_primary_failure", "name": "primary", "target": "db", "at": 20,
               "promotion_delay": 5, "for": 20}
    return play(make_scenario(scenario([db], [failure], rate=50, duration=60, timeout=2)))


def test_writes_fail_until_a_replica_is_promoted(make_scenario):
    """With only writes, every query fails (unavailable or error) until promotion_delay, then all
    succeed on the promoted replica."""
    result = _primary_failure(make_scenario, 0.0)
    failing = arrived(result, 20, 25)
    assert len(failing) > 0
    assert failing["outcome"].isin(["unavailable", "error"]).all()
    assert (arrived(result, 25)["outcome"] == "ok").all()


def test_reads_keep_working_when_the_primary_fails(make_scenario):
    """With only reads, a primary failure costs nothing: the read replicas answer throughout."""
    result = _primary_failure(make_scenario, 1.0)
    assert (arrived(result)["outcome"] == "ok").all()


def test_promotion_is_an_event_and_the_detection_time(make_scenario):
    """A `promoted` event comes at at + promotion_delay, and time_to_detect equals the delay."""
    result = _primary_failure(make_scenario, 0.5)
    assert events_of(result, "promoted")["t"].tolist() == [25.0]
    assert result.summary["time_to_detect.primary"] == 5.0


# --- traffic --------------------------------------------------------------------------------------

def _traffic(make_scenario, faults):
    app = {"kind": "service", "name": "app", "workers": 100, "service_time": "10ms"}
    return play(make_scenario(scenario([app], faults, rate=200, duration=40, timeout=5)))


SURGE = {"kind": "surge", "name": "viral", "target": "w", "factor": 3, "at": 10, "for": 10}


def test_surge_adds_factor_minus_one_times_the_rate_over_its_window(make_scenario):
    """A 3x surge for 10 s at 200/s adds about 2 x 200 x 10 = 4000 requests."""
    calm, surge = _traffic(make_scenario, []), _traffic(make_scenario, [SURGE])
    # Measured (seed 1): 3929 extra.
    assert_poisson(len(surge.requests) - len(calm.requests), 2 * 200 * 10)


def test_surge_requests_arrive_only_inside_its_window(make_scenario):
    """The extra requests of a surge without rise or decay arrive between at and at + for."""
    calm, surge = _traffic(make_scenario, []), _traffic(make_scenario, [SURGE])
    extra = np.setdiff1d(surge.requests["t_arrival"], calm.requests["t_arrival"])
    assert extra.min() >= 10 and extra.max() <= 20


def test_surge_leaves_the_base_arrivals_unchanged(make_scenario):
    """Common random numbers: every arrival of the run without the surge is also in the surge run."""
    calm, surge = _traffic(make_scenario, []), _traffic(make_scenario, [SURGE])
    assert np.isin(calm.requests["t_arrival"], surge.requests["t_arrival"]).all()


def test_burst_adds_exactly_count_requests_at_its_instant(make_scenario):
    """A burst of 500 adds exactly 500 requests, all arriving at `at`, on top of the base arrivals."""
    burst = {"kind": "burst", "name": "cron", "target": "w", "count": 500, "at": 15.5}
    calm, bursty = _traffic(make_scenario, []), _traffic(make_scenario, [burst])
    assert len(bursty.requests) - len(calm.requests) == 500
    assert (bursty.requests["t_arrival"] == 15.5).sum() == 500
    assert np.isin(calm.requests["t_arrival"], bursty.requests["t_arrival"]).all()


def test_burst_on_closed_loop_users_adds_requests_not_users(make_scenario):
    """A burst on a closed-loop workload adds exactly `count` requests; the users' own arrivals
    stay the same (the injected requests do not join the loop as extra users)."""
    app = {"kind": "service", "name": "app", "workers": 200, "service_time": "10ms"}
    burst = {"kind": "burst", "name": "cron", "target": "w", "count": 100, "at": 20}

    def users(faults):
        data = scenario([app], faults, rate=1, duration=60, timeout=5)
        data["workload"][0]["arrivals"] = {"pattern": "closed", "users": 10,
                                           "think_time": {"dist": "exponential", "mean": "1s"}}
        return play(make_scenario(data))

    calm, bursty = users([]), users([burst])
    assert len(bursty.requests) - len(calm.requests) == 100
    assert np.isin(calm.requests["t_arrival"], bursty.requests["t_arrival"]).all()


# --- metastability --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize(("retries", "stuck"), [(1, False), (3, True)])
def test_metastable_boundary_follows_the_capacity_argument(make_scenario, retries, stuck, seed):
    """Capacity mu = 10 workers / 100 ms = 100/s, load lambda = 35/s, timeout 1 s. After a short
    capacity drop, lambda (1 + R) = 140/s > mu keeps the overload going (stuck); 70/s < mu drains."""
    app = {"kind": "service", "name": "app", "workers": 10,
           "service_time": {"dist": "exponential", "mean": "100ms"}}
    squeeze = {"kind": "capacity", "name": "squeeze", "target": "app", "workers": 1, "at": 60, "for": 10}
    retry = {"max_attempts": retries + 1, "backoff": "constant", "base": "50ms", "jitter": "none"}
    result = play(make_scenario(scenario([app], [squeeze], rate=35, duration=300, timeout=1,
                                         retry=retry)), seed=seed)
    assert (arrived(result, 0, 60)["outcome"] == "ok").all()  # healthy before the trigger
    summary = result.summary
    # Measured (seeds 1, 2): R=1 final availability 1.0, recovered 16-17 s after the fault;
    # R=3 final availability 0.0, amplification 3.4.
    assert summary["stuck"] is stuck
    if stuck:
        assert summary["final_availability"] < 0.1
    else:
        assert summary["final_availability"] == 1.0


# --- common random numbers, JSON ------------------------------------------------------------------

def test_variants_differing_in_a_fault_see_identical_arrivals(make_scenario):
    """A crash changes what happens to requests, never when they arrive."""
    lb = {"kind": "load_balancer", "name": "lb", "targets": "app"}
    app = {"kind": "service", "name": "app", "replicas": 3, "workers": 4,
           "service_time": {"dist": "exponential", "mean": "20ms"}}
    crash = {"kind": "crash", "name": "boom", "target": "app", "replicas": 1, "at": 10, "for": 5}
    data = scenario([lb, app], [crash], rate=100, duration=30, timeout=1,
                    variants={"faulty": {}, "calm": {"faults": []}, "longer": {"faults.boom.for": "12s"}})
    built = make_scenario(data)
    runs = [play(built, variant) for variant in ("faulty", "calm", "longer")]
    assert runs[0].summary["unavailable"] > 0  # the fault did change outcomes
    for other in runs[1:]:
        assert np.array_equal(runs[0].requests["t_arrival"], other.requests["t_arrival"])


def test_undetected_fault_has_no_detection_time_and_the_summary_is_strict_json(make_scenario):
    """A crash nobody detects reports time_to_detect None, and the summary (undefined metrics
    included) serialises as strict JSON the way the CLI writes it."""
    app = {"kind": "service", "name": "app", "workers": 4, "service_time": "10ms"}
    crash = {"kind": "crash", "name": "boom", "target": "app", "at": 5}  # never ends
    result = play(make_scenario(scenario([app], [crash], rate=20, duration=30, timeout=1, warmup=10)))
    summary = result.summary
    assert summary["time_to_detect.boom"] is None
    assert summary["ok"] == 0 and math.isnan(summary["latency_p99"])  # nothing to measure
    text = json.dumps(_jsonable(summary), allow_nan=False)
    assert json.loads(text)["time_to_detect.boom"] is None
