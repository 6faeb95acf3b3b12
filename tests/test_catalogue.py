"""One metric catalogue: every family the scenarios emit is declared with a kind, direction and
bounds, and availability means the same thing for a run and for an interval."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulator import load_scenario, run
from simulator.experiment.compare import variant_series
from simulator.experiment.directions import BETTER, WORSE, verdict
from simulator.experiment.stats import Interval
from simulator.metrics import CATALOGUE, FLAG, HIGHER, LOWER, NEUTRAL, availability, bounds, direction, family
from simulator.request import OUTCOMES
from simulator.scenario import builtin_scenarios

SHORTENED = {"three-tier-viral-spike": 300.0}
"""Run shorter here (seconds) to keep the module fast; the spike (at 4 min) still falls inside."""

NEITHER = {"offered", "offered_rate", "utilization", "accepted", "coalesced", "scale_ups", "scale_downs",
           "new_version_requests", "hedges_won", "alerts_fired", "alert_seconds",
           "reads", "writes"}  # data: the traffic a component handled (what stale_reads is a share of)
"""The only families where neither way is better: what the scenario imposes, or a count that rises
with trouble as much as with a defence's merit (an alert firing is right during a fault, wrong
without one: false_alarms and missed_faults judge that). Every other family has a better direction."""

AVAILABLE_LABELS = {"ok", "degraded"}
"""What counts as available, written from the README's definition (ok, or a fallback's answer)."""


def _run(name: str, variant: str):
    """One run's summary, traffic table and spec (the per-request table is not kept)."""
    result = run(load_scenario(name), variant, duration=SHORTENED.get(name))
    return SimpleNamespace(summary=result.summary, traffic=result.traffic, spec=result.spec,
                           variant=result.variant)


def _variants() -> list[tuple[str, str]]:
    """Every (built-in scenario, variant) pair."""
    return [(name, variant) for name, *_ in builtin_scenarios()
            for variant in load_scenario(name).variant_names]


def _implied(series: pd.DataFrame, arrived: pd.Series, warmup: float) -> float:
    """The availability a per-interval series implies over [warmup, duration), weighted by requests."""
    measured = (series["t"] >= warmup) & arrived.gt(0)
    return float((series["availability"] * arrived)[measured].sum() / arrived[measured].sum())


def _arrivals(traffic: pd.DataFrame, duration: float) -> pd.Series:
    """Requests that arrived in each interval, summed over workloads (offered is per second)."""
    starts = np.sort(traffic["t"].unique())
    widths = pd.Series(np.diff(np.append(starts, duration)), index=starts)
    return traffic["offered"].groupby(traffic["t"]).sum() * widths


@pytest.mark.parametrize(("name", "variant"), _variants())
def test_builtin_variant_series_availability_and_families(name, variant):
    """Each built-in variant is run once for both properties (it is what takes the time)."""
    ran = _run(name, variant)
    check_series_availability_is_the_summary_availability(ran)
    check_every_emitted_family_is_declared_with_a_direction_and_bounds(ran)


def check_series_availability_is_the_summary_availability(ran) -> None:
    """Per workload (traffic table) and per variant (compare/report series): weighting each
    interval's availability by the requests that arrived in it gives the summary's number."""
    duration, warmup = ran.spec.duration, ran.spec.warmup
    traffic = ran.traffic
    assert warmup in set(traffic["t"]), "warm-up must start an interval for the identity to be exact"
    widths = np.diff(np.append(np.sort(traffic["t"].unique()), duration))
    per_row = traffic["offered"] * traffic["t"].map(dict(zip(np.sort(traffic["t"].unique()), widths,
                                                             strict=True)))
    if traffic["workload"].nunique() == 1:
        assert _implied(traffic, per_row, warmup) == pytest.approx(ran.summary["availability"], abs=1e-9)
    for workload, part in traffic.groupby("workload", observed=True):
        key = f"availability.{workload}" if traffic["workload"].nunique() > 1 else "availability"
        assert _implied(part, per_row[part.index], warmup) == pytest.approx(ran.summary[key], abs=1e-9)
    series = variant_series([ran])
    arrived = _arrivals(traffic, duration).reindex(series["t"]).reset_index(drop=True)
    assert _implied(series, arrived, warmup) == pytest.approx(ran.summary["availability"], abs=1e-9)


def test_retry_storm_throttling_series_shows_the_requests_it_refused():
    """Adaptive throttling refuses most requests during the storm. The series used to leave refusals
    out (ok / (ok + error + timeout + rejected + unavailable)) and plotted 100%; now each interval
    is (ok + degraded) / arrived, computed here from the per-request table, and the run's number is
    31,208 ok of 49,317 offered."""
    result = run(load_scenario("retry-storm"), "adaptive_throttling")
    summary, requests, traffic = result.summary, result.requests, result.traffic
    assert (summary["ok"], summary["degraded"], summary["offered"]) == (31208, 0, 49317)
    assert summary["availability"] == pytest.approx(31208 / 49317, abs=1e-12)
    measured = requests[requests["t_arrival"] < result.spec.duration]
    bins = np.floor(measured["t_arrival"] / result.spec.effective_sample_interval) * \
        result.spec.effective_sample_interval
    reference = measured["outcome"].astype(str).isin(AVAILABLE_LABELS).groupby(bins).mean()
    assert np.allclose(traffic.set_index("t")["availability"].reindex(reference.index), reference,
                       atol=1e-12)
    storm = traffic[(traffic["t"] >= 122) & (traffic["t"] < 250)]
    old_ended = storm[["ok", "error", "timeout", "rejected", "unavailable"]].sum(axis=1)
    plotted_full = (storm["ok"] / old_ended == 1.0) & (storm["availability"] < 0.5)
    assert plotted_full.sum() >= 60  # the old series said 100% while most requests were refused
    assert storm["availability"].mean() < 0.2  # what users got: about one request in nine


def test_availability_counts_ok_and_degraded_over_every_outcome():
    """Scalars and stacks alike; incomplete requests are in the denominator; nothing arrived is NaN."""
    counts = np.zeros(len(OUTCOMES))
    by_label = {info.label: info.code for info in OUTCOMES}
    for label, count in {"ok": 6, "degraded": 2, "incomplete": 1, "rate_limited": 1}.items():
        counts[by_label[label]] = count
    assert availability(counts) == pytest.approx(0.8)
    stack = np.stack([counts, np.zeros(len(OUTCOMES))])
    values = availability(stack)
    assert values[0] == pytest.approx(0.8) and math.isnan(values[1])


def check_every_emitted_family_is_declared_with_a_direction_and_bounds(ran) -> None:
    """No summary metric is unknown; its value is within its bounds (fractions and flags in [0, 1],
    everything else >= 0; None: the thing never happened); flags are JSON booleans."""
    for metric, value in ran.summary.items():
        entry = CATALOGUE.get(family(metric))
        assert entry is not None, f"{metric} is not in the metric catalogue"
        assert entry.direction in (HIGHER, LOWER) or family(metric) in NEITHER, metric
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        low, high = bounds(metric)
        assert value >= low and (high is None or value <= high), (metric, value)
        assert isinstance(value, bool) == (entry.kind == FLAG), metric


def test_every_outcome_has_a_better_direction_and_neither_is_rare():
    """ok is higher-is-better, every other outcome (degraded included) lower-is-better; neither-way
    is reserved for the families listed in NEITHER."""
    assert all(direction(info.count_metric) == (HIGHER if info.label == "ok" else LOWER) for info in OUTCOMES)
    assert {name for name, entry in CATALOGUE.items() if entry.direction == NEUTRAL} == NEITHER


@pytest.mark.parametrize("metric", ["rate_limited", "rate_limited.api-limit", "degraded", "shed.shedder",
                                    "short_circuited.breaker", "throttled.thr", "hedges_sent.hedge"])
def test_refusals_and_fallbacks_have_verdicts_in_words(metric):
    """More requests refused, shed, short-circuited or answered by a fallback is worse, not "higher"."""
    up, down = Interval(5.0, 2.0, 8.0, 5), Interval(-5.0, -8.0, -2.0, 5)
    assert verdict(metric, up) == WORSE
    assert verdict(metric, down) == BETTER


def test_values_are_shown_without_exponents():
    """A claim or a margin reads as people write numbers: 33,496 writes, not 3.35e+04."""
    from simulator.metrics import shown
    assert shown("writes_saved.views", 33496.0) == "33,496"
    assert shown("count_lost.views", 25000.0, signed=True) == "+25,000"
    assert shown("latency_p99", 25.0) == "25,000 ms"
    assert shown("throughput", 12.345) == "12.35/s"
