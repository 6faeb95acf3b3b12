"""The autoscaler follows the Kubernetes HPA algorithm and its replicas cost and serve as they should."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.build import build, start
from simulator.mitigations import hpa
from simulator.runner import run
from simulator.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


# --- a reference written from the Kubernetes documentation ------------------------------------
# https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/ : "desiredReplicas =
# ceil[currentReplicas * (currentMetricValue / desiredMetricValue)]"; no action within the
# tolerance (0.1); "the stabilization window ... uses the highest recommendation" of the window to
# scale down (the lowest to scale up); policies limit the change relative to the replica count at
# the start of each policy's period ("periodSeconds"); "selectPolicy: Max" picks the one allowing
# the largest change, "Disabled" turns the direction off; min/max clamp the result; outside
# [min, max] the scale goes straight to the bound.
class ReferenceHpa:
    """Keeps every recommendation and every scale event and looks back over the full logs."""

    def __init__(self, limits: hpa.Limits):
        self.limits = limits
        self.recommendations: list[tuple[float, int]] = []
        self.changes: list[tuple[float, int]] = []  # signed replica changes

    def step(self, now: float, current: int, wanted: int) -> int:
        lim = self.limits
        if not self.recommendations:
            self.recommendations.append((now, current))
        if current > lim.max_replicas:
            desired = lim.max_replicas
        elif current < lim.min_replicas:
            desired = lim.min_replicas
        else:
            lowest = min([r for t, r in self.recommendations if now - t < lim.up.window] + [wanted])
            highest = max([r for t, r in self.recommendations if now - t < lim.down.window] + [wanted])
            self.recommendations.append((now, wanted))
            if lowest > current:  # every recent recommendation says up: go up to the lowest
                stabilized = lowest
            elif highest < current:  # every recent recommendation says down: go to the highest
                stabilized = highest
            else:
                stabilized = current
            desired = self._limited(now, current, stabilized)
        if desired != current:
            self.changes.append((now, desired - current))
        return desired

    def _limited(self, now: float, current: int, desired: int) -> int:
        lim = self.limits
        if desired > current:
            allowed = [self._allowed(now, current, p, +1) for p in lim.up.policies]
            if lim.up.select == "disabled":
                cap = current
            else:
                cap = max(allowed) if lim.up.select == "max" else min(allowed)
            return min(desired, lim.max_replicas, max(cap, current))
        if desired < current:
            allowed = [self._allowed(now, current, p, -1) for p in lim.down.policies]
            if lim.down.select == "disabled":
                floor = current
            else:
                floor = min(allowed) if lim.down.select == "max" else max(allowed)
            return max(desired, lim.min_replicas, min(floor, current))
        return desired

    def _allowed(self, now: float, current: int, policy: hpa.Policy, sign: int) -> int:
        base = current - sum(c for t, c in self.changes if now - t < policy.period)  # at the period's start
        if policy.kind == "pods":
            return base + sign * policy.value
        if sign > 0:
            return math.ceil(base * (1 + policy.value / 100))
        return int(base * (1 - policy.value / 100))


policies = st.builds(hpa.Policy, st.sampled_from(["pods", "percent"]), st.integers(1, 200),
                     st.sampled_from([15.0, 30.0, 60.0, 120.0]))
rules = st.builds(hpa.Rules, st.sampled_from([0.0, 15.0, 60.0, 300.0]),
                  st.lists(policies, min_size=1, max_size=3).map(tuple),
                  st.sampled_from(["max", "min", "disabled"]))


@st.composite
def limits(draw):
    low = draw(st.integers(1, 10))
    return hpa.Limits(low, draw(st.integers(low, 40)), draw(rules), draw(rules))


@settings(max_examples=300, deadline=None)
@given(limits(), st.integers(1, 40), st.lists(st.tuples(st.sampled_from([5.0, 15.0, 15.0, 30.0]),
                                                       st.integers(1, 60)), min_size=1, max_size=40))
def test_decisions_equal_the_reference(lim, start_replicas, steps):
    """For any behaviour and any metric proposals, the controller scales as the documented algorithm."""
    history, reference = hpa.History(), ReferenceHpa(lim)
    now, current, expected = 0.0, start_replicas, start_replicas
    for gap, wanted in steps:
        now += gap
        current = hpa.decide(now, current, wanted, lim, history).desired
        expected = reference.step(now, expected, wanted)
        assert current == expected


@settings(max_examples=200, deadline=None)
@given(limits(), st.integers(1, 40), st.lists(st.integers(1, 60), min_size=1, max_size=40))
def test_no_scale_down_below_a_recommendation_of_the_window(lim, start_replicas, proposals):
    """A scale-down never goes below any recommendation made inside the scale-down window."""
    history = hpa.History()
    seen: list[tuple[float, int]] = [(15.0, start_replicas)]
    current = start_replicas
    for k, wanted in enumerate(proposals, start=1):
        now = 15.0 * k
        desired = hpa.decide(now, current, wanted, lim, history).desired
        seen.append((now, wanted))
        if desired < current and current <= lim.max_replicas:
            recent = [r for t, r in seen if now - t < lim.down.window] + [wanted]
            assert desired >= max(recent)
        current = desired


def _util(percents: list[float]) -> list[int]:
    """Per-replica utilization fractions as the HPA reads them (milli-units of a 1000m request)."""
    return [hpa.milli(p) for p in percents]


def test_ratio_rounds_up():
    """The documented example: 200m against a 100m target doubles the replicas; 50m halves them."""
    per_pod = hpa.Target("average", 100)
    assert hpa.proposal(4, [200] * 4, per_pod, 0.1) == 8
    assert hpa.proposal(4, [50] * 4, per_pod, 0.1) == 2
    assert hpa.proposal(3, _util([0.7] * 3), hpa.Target.of("utilization", 0.6), 0.1) == 4  # ceil(3.5)


def test_walkthrough_php_apache_scales_to_seven():
    """The HPA walkthrough: one pod at 305% of its request against a 50% target becomes
    ceil(305 / 50 x 1) = 7 replicas."""
    assert hpa.proposal(1, [3050], hpa.Target.of("utilization", 0.5), 0.1) == 7


def test_integer_milli_units_as_kubernetes():
    """Four replicas at a measured 0.10000000000045475 against a 40% target: in floating point
    ceil(0.25000000000113687 x 4) = 2; Kubernetes reads 100m each, 10%, ratio 0.25 exactly -> 1."""
    noisy = 0.10000000000045475
    assert math.ceil(noisy / 0.4 * 4) == 2  # the floating-point reading this replaces
    assert hpa.milli(noisy) == 100
    assert hpa.proposal(4, _util([noisy] * 4), hpa.Target.of("utilization", 0.4), 0.1) == 1


def test_utilization_is_a_truncated_whole_percent():
    """sum(usage) x 100 / sum(requests) is integer division: 3 x 333m of 3 x 1000m is 33%, not 33.3%."""
    target = hpa.Target.of("utilization", 0.3)
    assert target.ratio([333, 333, 333]) == 33 / 30
    assert hpa.Target("average", 1000).ratio([1000, 1000, 1001]) == 1.0  # 3001 // 3 = 1000


def test_tolerance_band_leaves_the_scale_alone():
    """Within 10% of the target nothing changes, just outside it does."""
    target = hpa.Target.of("utilization", 0.6)
    assert hpa.proposal(4, _util([0.65] * 4), target, 0.1) == 4  # ratio 65/60 = 1.083
    assert hpa.proposal(4, _util([0.55] * 4), target, 0.1) == 4  # ratio 0.917
    assert hpa.proposal(4, _util([0.70] * 4), target, 0.1) == 5  # ratio 1.167: ceil(4.67)
    assert hpa.proposal(4, _util([0.30] * 4), target, 0.1) == 2


def test_starting_replicas_count_as_idle_on_a_scale_up():
    """Replicas still starting count as idle on a scale-up (and may cancel it), not on a scale-down."""
    assert hpa.proposal(4, _util([1.0, 1.0]), hpa.Target.of("utilization", 0.6), 0.1,
                        starting=2) == 4  # 50/60 flips direction: no change
    half = hpa.Target.of("utilization", 0.5)
    assert hpa.proposal(3, _util([1.0, 1.0]), half, 0.1, starting=1) == 4  # 66% / 50% x 3 -> ceil(3.96)
    assert hpa.proposal(3, _util([0.2, 0.2]), half, 0.1, starting=1) == 1  # scale-down ignores them


def test_missing_replicas_count_on_target_going_down_and_idle_going_up():
    """A replica without a metric is taken at exactly the target on a scale-down (40% of 1000m is
    400m), and at 0 on a scale-up."""
    target = hpa.Target.of("utilization", 0.4)
    # down: (100 + 100 + 400) x 100 // 3000 = 20% -> 0.5 x 3 = 1.5 -> 2
    assert hpa.proposal(3, [100, 100], target, 0.1, missing=1) == 2
    # up: (1000 + 1000 + 0) x 100 // 3000 = 66% -> 1.65 x 3 -> ceil(4.95) = 5
    assert hpa.proposal(3, [1000, 1000], target, 0.1, missing=1) == 5


def test_default_scale_up_doubles_or_adds_four_per_period():
    """Kubernetes default: from 1 replica at most 5 (+4 pods beats +100%), from 10 at most 20."""
    assert hpa.decide(15.0, 1, 50, hpa.Limits(1, 100), hpa.History()).desired == 5
    assert hpa.decide(15.0, 10, 50, hpa.Limits(1, 100), hpa.History()).desired == 20


def test_scale_up_policy_counts_changes_within_its_period():
    """A second scale-up inside the period is limited by what the first one already added."""
    lim = hpa.Limits(1, 100, hpa.Rules(0.0, (hpa.Policy("pods", 4, 60.0),)))
    history = hpa.History()
    assert hpa.decide(15.0, 2, 50, lim, history).desired == 6
    assert hpa.decide(30.0, 6, 50, lim, history).desired == 6  # 4 already added this minute
    assert hpa.decide(75.1, 6, 50, lim, history).desired == 10  # the first event has aged out


def test_default_scale_down_waits_five_minutes():
    """A load drop is acted on only once the higher recommendations leave the 300 s window."""
    lim, history = hpa.Limits(1, 20), hpa.History()
    current = hpa.decide(0.0, 10, 10, lim, history).desired
    times = [15.0 * k for k in range(1, 25)]
    results = [hpa.decide(t, current, 2, lim, history).desired for t in times]
    assert results[:20] == [10] * 19 + [2]  # t=300 is the first sync whose window has no 10
    assert times[19] == 300.0


def test_above_max_goes_straight_to_max():
    """A replica count above max_replicas is cut to it without rate limits."""
    decision = hpa.decide(15.0, 30, 30, hpa.Limits(1, 10), hpa.History())
    assert (decision.desired, decision.reason) == (10, "above max_replicas")


# --- the live control loop ---------------------------------------------------------------------
def _scenario(tmp_path, **hpa_keys):
    data = yaml.safe_load((SCENARIOS / "autoscaling-surge.yaml").read_text())
    data["mitigations"][0].update({"enabled": True, **hpa_keys})
    data.pop("variants")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_scenario(path)


def test_new_replica_takes_no_work_before_its_startup(tmp_path):
    """Replicas added at a scale-up hold no request until their start-up delay has passed."""
    spec = _scenario(tmp_path, startup="20s").resolve(None)
    system = build(spec, seed=1, replication=0)
    start(system, spec.effective_sample_interval)
    group = system.components["app"].group
    env = system.ctx.env
    env.run(until=151.0)  # the surge starts at 120 s; the autoscaler acts at 135 s and 150 s
    new = [s for s in group.replicas if s.index >= 3]
    assert new, "the surge should have triggered a scale-up"
    for station in new:
        busy, _ = station.areas()
        assert (busy, station.in_flight, station.health.state) == (0.0, 0, "starting")
        assert station not in system.components["lb"].healthy
    env.run(until=175.0)
    assert all(s.areas()[0] > 0.0 for s in new if env.now - s.t_created > 20.0)


def test_instance_seconds_is_the_integral_of_the_replica_count(tmp_path):
    """instance_seconds equals the replica step function rebuilt from the scale events and gauges."""
    scenario = _scenario(tmp_path, behavior={"scale_down": {"stabilization_window": "30s"}})
    result = run(scenario)
    spec = result.spec
    scales = result.events[result.events["kind"] == "scale"]
    assert (scales["detail"].str.contains(" -> ").all() and len(scales) >= 2)
    counts = scales["detail"].str.extract(r"(\d+) -> (\d+) replicas").astype(int)
    assert any(counts[1] < counts[0]), "expected a scale-down too"
    steps = [(0.0, 3), *zip(scales["t"], counts[1], strict=True), (spec.duration, None)]
    integral = sum(n * (max(min(t1, spec.duration), spec.warmup) - max(t0, spec.warmup))
                   for (t0, n), (t1, _) in zip(steps, steps[1:], strict=False))
    assert result.summary["instance_seconds.app"] == pytest.approx(integral, abs=1e-6)
    gauge = result.series[(result.series["component"] == "app") & (result.series["metric"] == "replicas")]
    for t, value in zip(gauge["t"], gauge["value"], strict=True):
        current = [n for t0, n in steps[:-1] if t0 <= t][-1]
        assert value == current


def test_scale_events_and_desired_gauge(tmp_path):
    """Every change is a scale event naming the metric and the counts; desired is sampled per sync."""
    result = run(_scenario(tmp_path))
    detail = result.events[result.events["kind"] == "scale"]["detail"].iloc[0]
    assert detail.startswith("app-hpa: utilization=") and "proposal" in detail
    desired = result.series[result.series["metric"] == "desired"]
    assert len(desired) == int(result.spec.duration // 15)
    assert result.summary["scale_ups.app-hpa"] >= 1


def test_autoscaling_rides_out_a_surge_that_breaks_a_fixed_fleet():
    """Container autoscaling keeps availability far above the fixed fleet's, for less than pre-scaling."""
    scenario = load_scenario(SCENARIOS / "autoscaling-surge.yaml")
    fixed = run(scenario, "fixed_fleet").summary
    scaled = run(scenario, "autoscale_container").summary
    assert fixed["availability"] < 0.85
    assert scaled["availability"] > 0.95
    assert scaled["instance_seconds.app"] < 8 * (scenario.spec.duration - scenario.spec.warmup)


def test_schedule_is_a_floor_for_the_autoscaler(tmp_path):
    """With a schedule on the same target the replicas never fall below its current step."""
    data = yaml.safe_load((SCENARIOS / "autoscaling-surge.yaml").read_text())
    data["mitigations"][0].update({"enabled": True, "behavior": {"scale_down": {"stabilization_window": 0}}})
    data["mitigations"].append({"kind": "schedule", "name": "pre", "target": "app",
                                "steps": [{"at": "1m", "replicas": 5}]})
    data.pop("variants")
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run(load_scenario(path))
    gauge = result.series[(result.series["component"] == "app") & (result.series["metric"] == "replicas")]
    assert (gauge[gauge["t"] > 61.0]["value"] >= 5).all()


# --- bad input ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    ({"min_replicas": 9, "max_replicas": 4},
     "mitigations[0].min_replicas: min_replicas (9) is above max_replicas (4)"),
    ({"target": "lb"},
     "mitigations[0].target: an autoscaler acts on a service or a database; 'lb' is a load_balancer"),
    ({"metric": "cpu"}, "mitigations[0].metric"),
])
def test_bad_autoscaler_is_one_line_with_its_key_path(validate_one_line, change, expected):
    """Impossible bounds, an unscalable target or an unknown metric: one line naming the key, exit 2."""
    data = yaml.safe_load((SCENARIOS / "autoscaling-surge.yaml").read_text())
    data["mitigations"][0].update(change)
    assert expected in validate_one_line(data)


def test_a_fractional_utilization_percent_is_refused(tmp_path):
    """Kubernetes' averageUtilization is a whole percent; 65.5% is named as the bad key, not rounded."""
    from simulator.scenario import ScenarioError

    with pytest.raises(ScenarioError) as info:
        _scenario(tmp_path, target_value="65.5%")
    message = str(info.value)
    assert "target_value" in message and "whole percent" in message and "65.5%" in message
