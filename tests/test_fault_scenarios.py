"""The scenario library: every built-in scenario runs with balanced books, and each fault
scenario's hypothesis holds in the numbers.

Every variant of every built-in scenario runs once (module-wide cache), at its full length, except
the demo whose story ``test_scenarios.py`` already checks at 600 s: here it only has to balance its
books, and a shortened run does that as well.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario, run
from simulator.cli import _jsonable  # exactly what `cascade run --json` prints
from simulator.request import OUTCOMES as OUTCOME_TABLE
from simulator.scenario import ScenarioError, builtin_scenarios

SHORTENED = {"three-tier-viral-spike": 300.0}
"""Scenarios run shorter here (seconds): their story is tested elsewhere, at length."""

OUTCOMES = tuple(info.count_metric for info in OUTCOME_TABLE)  # every outcome, defences' included
RECOVERY = ("time_to_recover", "degraded_seconds", "peak_amplification", "stuck", "final_availability")


@dataclass(frozen=True)
class Ran:
    """What the assertions need from one run (the per-request table is dropped to save memory)."""

    spec: object
    summary: dict
    events: pd.DataFrame
    series: pd.DataFrame

    def __getitem__(self, metric: str):
        return self.summary[metric]

    def gauge(self, component: str, metric: str, start: float, end: float) -> pd.Series:
        """Sampled values of one gauge with start <= t < end."""
        s = self.series
        rows = s[(s.component == component) & (s.metric == metric) & (s.t >= start) & (s.t < end)]
        return rows.value

    def events_of(self, kind: str) -> pd.DataFrame:
        return self.events[self.events.kind == kind]


@cache
def _scenario(name: str):
    return load_scenario(name)


@cache
def result(name: str, variant: str) -> Ran:
    """One run of a built-in scenario's variant, shared by every test of this module."""
    r = run(_scenario(name), variant, duration=SHORTENED.get(name))
    return Ran(r.spec, r.summary, r.events, r.series)


def results(name: str, *variants: str) -> tuple[Ran, ...]:
    """The runs of several variants of one scenario, in the order asked."""
    return tuple(result(name, v) for v in variants)


def _cases() -> list:
    """(scenario, variant) for every built-in; a file that does not load becomes one failing case
    (``test_scenarios.py`` says why) instead of breaking the collection of this module."""
    cases = []
    for builtin in builtin_scenarios():
        try:
            cases += [(builtin.name, v) for v in load_scenario(builtin.path).variant_names]
        except ScenarioError:
            cases.append(pytest.param(builtin.name, None, id=f"{builtin.name}-invalid"))
    return cases


# --- every built-in scenario ------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "variant"), _cases())
def test_books_balance_and_json_is_strict(name, variant):
    """Per workload, every request arrived ends in exactly one outcome; the summary is strict JSON."""
    ran = result(name, variant)
    s, workloads = ran.summary, [w.name for w in ran.spec.workload]
    suffixes = [""] if len(workloads) == 1 else [""] + [f".{w}" for w in workloads]
    for suffix in suffixes:
        assert s["offered" + suffix] == sum(s[o + suffix] for o in OUTCOMES), suffix or "all"
        assert s["completed" + suffix] == s["offered" + suffix] - s["incomplete" + suffix]
    if len(workloads) > 1:
        assert s["offered"] == sum(s[f"offered.{w}"] for w in workloads)
    assert s["offered"] > 0 and 0.0 <= s["availability"] <= 1.0
    text = json.dumps(_jsonable(s), allow_nan=False)  # raises on NaN or infinity
    assert json.loads(text)["offered"] == s["offered"]
    for metric in RECOVERY + tuple(k for k in s if k.startswith("time_to_detect.")):
        value = s[metric]  # recovery metrics promise floats, bools or None: never NaN or inf
        assert value is None or isinstance(value, bool) or math.isfinite(value), metric


@pytest.mark.parametrize(("name", "variant"), _cases())
def test_every_fault_starts_and_ends_on_time(name, variant):
    """A fault_start event per fault at its start, and a fault_end at its end when it has one."""
    ran = result(name, variant)
    starts, ends = ran.events_of("fault_start"), ran.events_of("fault_end")
    for fault in ran.spec.faults:
        started = starts[starts.detail == fault.name]
        assert list(started.t) == [pytest.approx(fault.at)], fault.name
        end = fault.end  # a crash's ends at its restart: its start-up is recovery (time_to_recover)
        if end is not None and end < ran.spec.duration:
            ended = ends[ends.detail == fault.name]
            assert list(ended.t) == [pytest.approx(end)], fault.name
    assert set(starts.detail) == {f.name for f in ran.spec.faults}


# --- the stories ------------------------------------------------------------------------------------


def _detected_within(ttd, check) -> bool:
    """A probe-based detection takes (unhealthy_after - 1) to unhealthy_after intervals (plus a
    probe timeout for a hung target), depending on where the fault falls between two probes."""
    low = (check.unhealthy_after - 1) * check.interval
    return ttd is not None and low - 1e-6 <= ttd <= check.unhealthy_after * check.interval + check.timeout


def test_lb_spof_single_balancer_loses_the_whole_outage():
    single, passive, active = results("lb-spof", "single", "active_passive", "active_active")
    outage = 120.0
    assert single["availability"] < passive["availability"] < active["availability"]
    assert single["availability"] < 0.7 and active["availability"] > 0.99
    assert single["degraded_seconds"] >= outage  # down for the whole crash, nothing takes over
    assert single["time_to_detect.lb-crash"] is None
    for pair in (passive, active):  # the pair notices after failover_after
        assert pair["time_to_detect.lb-crash"] == pytest.approx(pair.spec.component("lb").failover_after)
        assert pair["degraded_seconds"] < 0.25 * single["degraded_seconds"]
    assert len(passive.events_of("failover")) == 1
    assert single["unavailable"] > 0.3 * single["offered"]


def test_replica_crash_health_check_bounds_the_damage():
    blind, checked, lazy = results("replica-crash-health-check",
                                   "no_health_check", "health_check", "lazy_health_check")
    assert blind["availability"] < lazy["availability"] < checked["availability"]
    assert blind["availability"] < 0.9 and checked["availability"] > 0.99
    assert blind["time_to_detect.app-crash"] is None  # the balancer never learns
    assert blind["unavailable"] > 0  # it kept sending to the dead replica
    for ran in (checked, lazy):
        check = ran.spec.component("lb").health_check
        assert _detected_within(ran["time_to_detect.app-crash"], check)
        down = ran.events_of("detected_down")
        assert list(down.detail) == ["app/0"]
    assert checked["time_to_detect.app-crash"] < lazy["time_to_detect.app-crash"]
    assert checked["degraded_seconds"] < lazy["degraded_seconds"] < blind["degraded_seconds"]


def test_db_failover_replicas_turn_an_outage_into_a_short_write_outage():
    single, replicas, slow = results("db-failover", "single", "replicas", "slow_promotion")
    assert single["time_to_detect.primary-dies"] is None  # nobody to promote
    assert single.events_of("promoted").empty
    for ran in (replicas, slow):
        delay = next(f for f in ran.spec.faults if f.name == "primary-dies").promotion_delay
        assert ran["time_to_detect.primary-dies"] == pytest.approx(delay)
        assert list(ran.events_of("promoted").t) == [pytest.approx(120.0 + delay)]
    assert single["availability"] < slow["availability"] < replicas["availability"]
    assert single["availability"] < 0.6 and replicas["availability"] > 0.97
    # With replicas only the writes (20%) fail, and only until the promotion.
    assert 1 - replicas["availability"] < 0.2 * 30 / 330 * 1.5


def test_slow_db_exhausts_the_app_workers_not_the_db():
    calm, short, long = results("slow-db-cascade", "no_slowdown", "short_slowdown", "long_slowdown")
    assert calm["availability"] == 1.0 and not calm.spec.faults
    assert long["availability"] < short["availability"] < 1.0
    assert long["degraded_seconds"] > 2 * short["degraded_seconds"]
    for ran in (short, long):
        fault = ran.spec.faults[0]
        app = ran.gauge("app", "utilization", fault.at + 10, fault.end)
        db = ran.gauge("db", "utilization", fault.at + 10, fault.end)
        assert app.mean() > 0.95  # the app tier is pinned...
        assert db.mean() < 0.8  # ...by a database that is slow, not saturated
        assert ran["amplification"] > 1.0 and ran["timeouts"] + ran["rejected"] > 0
        assert not ran["stuck"] and ran["time_to_recover"] is not None and ran["time_to_recover"] <= 10


def test_viral_surge_overwhelms_the_small_fleet_only():
    small, mild, big = results("viral-surge", "small_fleet", "small_fleet_mild_surge", "big_fleet")
    assert small["offered"] == big["offered"] > mild["offered"]  # same surge, same requests
    assert small["availability"] < 0.9 and small["peak_amplification"] > 1.5
    assert big["availability"] > 0.999 and big["amplification"] < 1.01
    assert mild["availability"] > 0.999
    assert not small["stuck"] and small["time_to_recover"] is not None  # it digs itself out
    assert small["time_to_detect.viral-post"] is None  # a surge is not a failure anyone detects


def test_region_outage_second_region_keeps_serving():
    one, two, slow = results("region-outage", "one_region", "two_regions", "two_regions_slow_probes")
    assert one["availability"] < slow["availability"] < two["availability"]
    assert one["availability"] < 0.7 and two["availability"] > 0.97
    assert one["availability.users-us"] < 0.7  # same region, same fate
    assert two["availability.users-us"] > 0.999 and slow["availability.users-us"] > 0.999
    assert two["availability.users-eu"] < 1.0  # eu users pay the detection delay
    for ran in (two, slow):
        check = ran.spec.component("global").health_check
        assert _detected_within(ran["time_to_detect.eu-down"], check)
        assert "lb-eu" in set(ran.events_of("rerouted").detail)
    assert two["time_to_detect.eu-down"] < slow["time_to_detect.eu-down"]


def test_cron_burst_hurts_and_jitter_fixes_it():
    burst, jittered, doubled = results("cron-burst", "all_at_once", "jittered", "double_capacity")
    assert abs(jittered["offered.cron"] - burst["offered.cron"]) < 0.05 * burst["offered.cron"]  # same work
    assert jittered["availability"] > 0.999
    assert burst["availability.web"] < 0.95 < jittered["availability.web"]
    assert burst["availability.cron"] < 0.5
    assert burst["availability.cron"] < doubled["availability.cron"]
    assert burst["peak_amplification"] > 2 and burst["wasted_work"] > 0
    assert doubled["time_to_recover"] <= burst["time_to_recover"]  # capacity only shortens it
    assert doubled["availability.web"] < 0.95


def test_cache_flush_sends_the_herd_to_the_database():
    small, half, big = results("cache-flush", "small_db", "half_flush", "big_db")
    flush = small.spec.faults[0].at
    for ran in (small, half, big):
        assert len(ran.events_of("cache_flushed")) == 1
        before = ran.gauge("db", "utilization", flush - 50, flush).mean()
        after = ran.gauge("db", "utilization", flush, flush + 10).mean()
        assert after > min(before + 0.1, 0.97)  # the misses land here (a busy db saturates)
        hits = ran.gauge("cache", "hit_ratio", flush - 50, flush).mean()
        assert ran.gauge("cache", "hit_ratio", flush + 1, flush + 4).mean() < hits - 0.1
    for ran in (small, big):  # a full flush: almost every lookup misses at first
        hits = ran.gauge("cache", "hit_ratio", flush - 50, flush).mean()
        assert ran.gauge("cache", "hit_ratio", flush + 1, flush + 4).mean() < 0.6 * hits
    assert small.gauge("db", "utilization", flush, flush + 20).mean() > 0.9  # saturated...
    in_flight = small.gauge("db", "in_flight", flush - 50, flush).mean()
    assert small.gauge("db", "in_flight", flush, flush + 10).mean() > 2 * in_flight  # ...app workers wait
    queue_before = small.gauge("db", "queue", flush - 50, flush).mean()
    assert small.gauge("db", "queue", flush, flush + 30).mean() > 2 * queue_before
    assert small["availability"] < 0.9 and small["time_to_recover"] > 30 and not small["stuck"]
    assert half["availability"] > 0.999 and big["availability"] > 0.999


def test_retry_storm_outlives_its_trigger_only_with_retries():
    storm, plain, short, shed = results("retry-storm",
                                        "retries", "no_retries", "short_trigger", "bounded_queue")
    assert storm["stuck"] and storm["time_to_recover"] is None
    assert storm["final_availability"] < 0.1 and storm["peak_amplification"] > 2.5
    for ran in (plain, short, shed):
        assert not ran["stuck"] and ran["time_to_recover"] is not None
        assert ran["final_availability"] > 0.99
    assert storm["availability"] < 0.5 < plain["availability"]


def test_retry_storm_is_cured_by_each_defence():
    """A retry budget, shedding stale work and adaptive throttling each make the storm recover."""
    storm, budget, shed, throttle = results("retry-storm", "retries", "retry_budget", "shed_stale_work",
                                            "adaptive_throttling")
    for ran in (budget, shed, throttle):
        assert not ran["stuck"] and ran["time_to_recover"] is not None
        assert ran["availability"] > storm["availability"] + 0.3
    assert budget["amplification"] < 1.1 < storm["amplification"]
    assert shed["shed"] > 0


@pytest.mark.parametrize("seed", [2, 3])
def test_retry_storm_contrast_does_not_depend_on_the_seed(seed):
    scenario = _scenario("retry-storm")
    assert run(scenario, "retries", seed=seed).summary["stuck"]
    assert not run(scenario, "no_retries", seed=seed).summary["stuck"]


def test_slow_db_is_contained_by_timeouts_breakers_and_bulkheads():
    """A call timeout, a breaker with a fallback or a bulkhead with a fallback keep the app available."""
    slow, timeout, breaker, bulkhead = results("slow-db-cascade", "short_slowdown", "edge_timeout",
                                               "breaker_fallback", "bulkhead_fallback")
    assert timeout["availability"] > 0.99 > slow["availability"]
    for ran in (breaker, bulkhead):
        assert ran["availability"] == 1.0 and ran["degraded"] > 0
        assert ran["latency_p99"] < 0.5 * slow["latency_p99"]
    assert breaker["short_circuited.db_breaker"] > 0 and breaker["opened.db_breaker"] >= 1


def test_surge_met_with_a_rate_limit_keeps_goodput_at_capacity():
    """A token bucket at capacity plus shedding: goodput at capacity, no retry amplification, low p99."""
    plain, limited = results("viral-surge", "small_fleet", "small_fleet_limited")
    assert limited["rate_limited"] > 0 and limited["amplification"] < 1.05 < plain["amplification"]
    assert limited["latency_p99"] < 0.2 * plain["latency_p99"]
    assert limited["wasted_work"] == 0 < plain["wasted_work"]
    assert limited["availability"] >= plain["availability"] - 0.02


def _most_admitted(requests, workload: str, window: float) -> int:
    ok = np.sort(requests.query("workload == @workload and outcome == 'ok'").t_arrival.to_numpy())
    return int((np.searchsorted(ok, ok + window, side="left") - np.arange(len(ok))).max())


def test_rate_limit_algorithms_keep_their_bounds_side_by_side():
    """Users untouched; the scraper's admissions in any 10 s respect each algorithm's exact bound."""
    variants = ("no_limit", "token_bucket", "leaky_bucket", "fixed_window", "sliding_log",
                "sliding_window_counter")
    full = {v: run(_scenario("rate-limits"), v) for v in variants}  # the cached results drop requests
    runs = dict(zip(("none", "token", "leaky", "fixed", "log", "counter"), full.values(), strict=True))
    for ran in runs.values():
        assert ran.summary["availability.users"] == 1.0
    most = {name: _most_admitted(ran.requests, "scraper", 10.0) for name, ran in runs.items()}
    assert most["none"] > 2000
    assert most["token"] <= 200 + 100 * 10  # burst + rate x T
    assert most["log"] <= 1000  # exact
    assert most["fixed"] > 1.5 * 1000  # the boundary burst: up to twice the limit
    assert most["leaky"] <= 100 * 10 + 50 + 1  # drained at its rate, plus what waited in it
    assert runs["leaky"].summary["latency_p99.scraper"] > 3 * runs["token"].summary["latency_p99.scraper"]


def test_a_queue_decouples_checkout_from_a_shipping_outage():
    """Synchronous calls fail while shipping is down; a big enough queue absorbs the whole outage."""
    sync, queued, small = results("checkout-queue", "sync", "queue", "small_queue")
    assert queued["availability"] == 1.0 and queued["dead_letters.shipping-q"] == 0
    assert sync["availability"] < 0.8 and small["availability"] < queued["availability"]
    assert queued["backlog_max.shipping-q"] > small["backlog_max.shipping-q"]
