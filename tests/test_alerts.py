"""Alert rules (simulator.alerts) against their definitions: Prometheus' ``for`` / reset /
``keep_firing_for`` semantics, the SRE workbook's burn-rate detection time, and an EWMA detector's
false-alarm rate on Poisson noise against the normal tail.

Traffic is deterministic (10 requests/s, 10 ms of constant work) and faults make every request an
error (``errors`` at rate 1), so which evaluations see a true condition is known from the fault
windows alone: an evaluation at t looks at completions in (t - window, t].
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from simulator import run
from simulator.alerts.detectors import Ewma, RollingZscore
from simulator.alerts.score import alert_summary

EVERY = 15.0


def scenario(alerts: list[dict], faults: list[dict], duration: str = "20m", *, poisson: float = 0.0,
             slo: str = "99.9%") -> dict:
    arrivals = {"pattern": "poisson", "rate": poisson} if poisson else {"pattern": "deterministic",
                                                                         "rate": "10/s"}
    return {
        "name": "alerts", "duration": duration, "seed": 7,
        "workload": [{"name": "web", "entry": "app", "arrivals": arrivals}],
        "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 8,
                        "service_time": "10ms"}],
        "faults": faults, "alerts": alerts, "slo": {"availability": slo},
    }


def outage(name: str, at: float, seconds: float, rate: float = 1.0) -> dict:
    return {"kind": "errors", "name": name, "target": "app", "at": at, "for": seconds, "rate": rate}


def transitions(result, alert: str) -> list[tuple[float, str]]:
    events = result.events[(result.events["kind"] == "alert") & (result.events["component"] == alert)]
    return [(float(t), detail.split()[0]) for t, detail in zip(events["t"], events["detail"], strict=True)]


def expected_firing(true_at: list[bool], hold: float) -> float | None:
    """Prometheus' definition, from the truth of each evaluation k x 15 s (k = 1, 2, ...): the first
    evaluation at which the condition has been true at every evaluation of the last ``hold``."""
    run_start = None
    for k, true in enumerate(true_at, start=1):
        t = k * EVERY
        run_start = (run_start if run_start is not None else t) if true else None
        if run_start is not None and t - run_start >= hold:
            return t
    return None


def truth(windows: list[tuple[float, float]], duration: float) -> list[bool]:
    """With a 15 s window: the evaluation at t is true iff (t - 15, t] lies in an outage."""
    return [any(a < k * EVERY - EVERY + 1e-9 and k * EVERY <= b + 1e-9 for a, b in windows)
            for k in range(1, int(duration / EVERY) + 1)]


THRESHOLD = {"kind": "threshold", "name": "errors", "metric": "error_ratio", "window": "15s", "op": ">",
             "value": 0.5, "for": "2m"}


def test_for_fires_at_the_first_evaluation_after_holding_two_minutes(make_scenario):
    result = run(make_scenario(scenario([THRESHOLD], [outage("db", 300, 300)])))
    fired = [t for t, change in transitions(result, "errors") if change == "firing"]
    assert fired == [expected_firing(truth([(300, 600)], 1200), 120.0)] == [435.0]
    assert transitions(result, "errors")[0] == (315.0, "pending")  # first true evaluation
    assert result.summary["time_to_alert.errors"] == 135.0


def test_one_false_evaluation_resets_a_pending_alert(make_scenario):
    faults = [outage("first", 300, 90), outage("second", 405, 195)]  # clean in (390, 405]
    result = run(make_scenario(scenario([THRESHOLD], faults)))
    changes = transitions(result, "errors")
    assert (405.0, "inactive") in changes  # the single false evaluation
    fired = [t for t, change in changes if change == "firing"]
    assert fired == [expected_firing(truth([(300, 390), (405, 600)], 1200), 120.0)] == [540.0]


@pytest.mark.parametrize("keep", [0, 60, 50])
def test_keep_firing_for_delays_the_resolve_by_exactly_that_span(make_scenario, keep):
    rule = {**THRESHOLD, "for": 0, "keep_firing_for": keep}
    result = run(make_scenario(scenario([rule], [outage("db", 300, 300)])))
    resolved = [t for t, change in transitions(result, "errors") if change == "resolved"]
    first_false = 615.0  # (600, 615] is clean
    assert resolved == [first_false + math.ceil(keep / EVERY) * EVERY]  # rounded up to an evaluation
    assert result.summary["reset_time.errors"] == resolved[0] - 600.0


BURN = {"kind": "burn_rate", "name": "fast", "long_window": "1h", "short_window": "5m", "burn_rate": 14.4}


@pytest.mark.parametrize("error_rate", [1.0, 0.5])
def test_burn_rate_detection_time_is_burn_rate_times_budget_over_error_ratio(make_scenario, error_rate):
    """After more than an hour of healthy traffic, the 1 h error ratio crosses 14.4 x 0.1% after
    14.4 x 0.001 / e x 3600 s (51.84 s for a total outage): the alert fires at the evaluation after."""
    start = 3900.0  # 65 min healthy, and a multiple of 15 s
    result = run(make_scenario(scenario([BURN], [outage("outage", start, 600, error_rate)], "80m")))
    predicted = 14.4 * (1 - 0.999) / error_rate * 3600
    measured = result.summary["time_to_alert.fast"]
    print(f"burn-rate detection, error ratio {error_rate}: predicted {predicted:.2f}s, measured {measured}s")
    assert predicted - 3.0 <= measured <= predicted + EVERY  # errors at rate 0.5 are random draws
    assert result.summary["false_alarms.fast"] == 0


def test_burn_rate_below_the_budget_threshold_never_fires(make_scenario):
    """1% errors for two hours against a 1.44% threshold: both windows stay below it."""
    result = run(make_scenario(scenario([BURN], [outage("leak", 0, 7200, 0.01)], "2h")))
    assert result.summary["alerts_fired.fast"] == 0
    assert result.summary["missed_faults.fast"] == 1
    assert result.summary["time_to_alert.fast"] is None


def ewma_false_alarm_rate(values: np.ndarray, alpha: float, min_samples: int) -> float:
    detector = Ewma(alpha, 3.0, "both", min_samples)
    flags = [detector.observe(float(x))[0] for x in values]
    return sum(flags[min_samples:]) / (len(values) - min_samples)


def student_t_two_sided_tail(c: float, nu: float) -> float:
    """P(|T| > c) for Student's t with ``nu`` degrees of freedom (numerical integral of the density)."""
    x = np.linspace(c, 400.0, 2_000_001)
    log_norm = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    return 2 * float(np.trapezoid(np.exp(log_norm - (nu + 1) / 2 * np.log1p(x * x / nu)), x))


def ewma_tail(alpha: float, threshold: float = 3.0) -> float:
    """The false-alarm rate of a ``threshold``-sd EWMA on i.i.d. normal values. The normal tail
    P(|Z| > 3) = 0.27% holds only for a known mean and deviation. The value is compared with a noisy
    mean (x - mean has variance sigma^2 (1 + alpha / (2 - alpha)) = sigma^2 2 / (2 - alpha)), and the
    exponentially weighted variance converges to (1 - alpha) times that, so the cut is at
    threshold x sqrt(1 - alpha) true deviations; the variance estimate itself has relative variance
    2 alpha / (2 - alpha), that of a sample variance with nu = (2 - alpha) / alpha degrees of
    freedom, so the score is close to Student's t with nu degrees of freedom."""
    return student_t_two_sided_tail(threshold * math.sqrt(1 - alpha), (2 - alpha) / alpha)


NORMAL_TAIL = 2 * (1 - NormalDist().cdf(3.0))


@pytest.mark.parametrize("alpha", [0.05, 0.1])
def test_ewma_false_alarms_on_poisson_noise_match_the_predicted_tail(alpha):
    """On i.i.d. Poisson(400) counts (close to normal), 200,000 values."""
    counts = np.random.default_rng(11).poisson(400, 200_000)
    measured = ewma_false_alarm_rate(counts, alpha, 100)
    predicted = ewma_tail(alpha)
    print(f"EWMA 3 sd, alpha {alpha}, on Poisson(400): measured {measured:.5f}, predicted {predicted:.5f} "
          f"(normal tail {NORMAL_TAIL:.5f})")
    assert abs(measured / predicted - 1) < 0.15
    assert measured > 1.5 * NORMAL_TAIL  # the plain normal tail is not what an EWMA gets


def test_ewma_alert_on_simulated_poisson_traffic_raises_false_alarms_at_the_predicted_rate(make_scenario):
    """The same detector as an alert on ``offered`` (Poisson, 200/s, 2 s intervals: 400 per interval)
    in a run without faults: every firing is a false alarm, at about the predicted rate."""
    rule = {"kind": "anomaly", "name": "ewma", "method": "ewma", "metric": "offered", "alpha": 0.1,
            "evaluation_interval": "2s", "min_samples": 100}
    result = run(make_scenario(scenario([rule], [], "1h", poisson=200)))
    evaluations = 3600 / 2 - 100
    measured = result.summary["false_alarms.ewma"] / evaluations
    predicted = ewma_tail(0.1)
    print(f"simulated: {result.summary['false_alarms.ewma']:g} false alarms in {evaluations:g} "
          f"evaluations = {measured:.4f}, predicted {predicted:.4f}")
    assert result.summary["alerts_fired.ewma"] == result.summary["false_alarms.ewma"]
    assert predicted / 3 < measured < predicted * 2.5


def test_scores_follow_their_definitions():
    """A firing counts for a fault only if it starts in [start, end + grace): one still on from
    before the fault (here 900-1010 over b's start) is a false alarm, not a 0 s detection."""
    faults = [("a", 100.0, 200.0), ("b", 1000.0, 1100.0), ("c", 2000.0, None)]
    spans = [(50.0, 60.0), (130.0, 260.0), (450.0, 460.0), (900.0, 1010.0), (1040.0, 1050.0),
             (1400.0, 1410.0)]
    metrics = alert_summary("x", spans, faults, grace=300.0, end=3000.0)
    assert metrics["alerts_fired.x"] == 6
    # 50 (before a), 900 (after a's grace, before b), 1400 (b's window [1000, 1400) is half-open)
    assert metrics["false_alarms.x"] == 3
    assert metrics["missed_faults.x"] == 1  # c: nothing fires from 2000 on
    assert metrics["time_to_alert.x.a"] == 30.0
    assert metrics["time_to_alert.x.b"] == 40.0  # the firing that started in b, not the one before
    assert metrics["time_to_alert.x.c"] is None
    assert metrics["reset_time.x.a"] == 260.0  # the 450 s firing started within a's grace
    assert metrics["reset_time.x.b"] == 0.0  # b's own firing ended before b did
    assert metrics["time_to_alert.x"] == 35.0
    assert metrics["alert_seconds.x"] == 10 + 130 + 10 + 110 + 10 + 10


def test_a_firing_on_before_the_fault_does_not_detect_it():
    """Firing from 50 s to 400 s over a fault at [100, 200): no firing starts in its window, so
    the fault is missed (no detection time, no reset time) and the firing is a false alarm."""
    metrics = alert_summary("x", [(50.0, 400.0)], [("d", 100.0, 200.0)], grace=300.0, end=1000.0)
    assert metrics["missed_faults.x"] == 1 and metrics["false_alarms.x"] == 1
    assert metrics["time_to_alert.x"] is None and metrics["reset_time.x"] is None
    again = alert_summary("x", [(50.0, 400.0), (450.0, 470.0)], [("d", 100.0, 200.0)], grace=300.0,
                          end=1000.0)
    assert again["missed_faults.x"] == 0 and again["time_to_alert.x"] == 350.0  # a new firing
    assert again["reset_time.x"] == 270.0 and again["false_alarms.x"] == 1


@pytest.mark.parametrize(("alert", "expected"), [
    ({"kind": "threshold", "name": "a", "metric": "latency", "op": ">", "value": 1},
     "alerts[0].metric: unknown metric 'latency'"),
    ({"kind": "threshold", "name": "a", "metric": "error_ratio", "op": "=", "value": 1}, "alerts[0].op"),
    ({"kind": "burn_rate", "name": "a", "long_window": "5m", "short_window": "1h", "burn_rate": 2},
     "alerts[0].short_window: must be shorter than long_window"),
    ({"kind": "anomaly", "name": "a", "method": "lof", "metric": "offered"},
     "alerts[0].method"),
    ({"kind": "anomaly", "name": "a", "method": "ewma", "metric": "offered", "window": "5m"},
     "alerts[0].window: window applies to method rolling_zscore only"),
    ({"kind": "threshold", "name": "a", "metric": "utilization.db", "op": ">", "value": 1},
     "no component named 'db'"),
    ({"kind": "threshold", "name": "a", "metric": "offered", "op": ">", "value": 1, "workload": "api"},
     "alerts[0].workload: no workload named 'api'"),
])
def test_bad_alert_specs_name_the_key(validate_one_line, alert, expected):
    line = validate_one_line(scenario([alert], []))
    assert expected in line, line


def test_variants_override_alerts_by_name(make_scenario):
    data = scenario([THRESHOLD], [outage("db", 300, 300)])
    data["variants"] = {"strict": {"alerts.errors.for": 0}}
    result = run(make_scenario(data), "strict")
    assert [t for t, change in transitions(result, "errors") if change == "firing"] == [315.0]


def test_gauge_and_latency_rules_read_the_component_during_the_run(make_scenario):
    alerts = [{"kind": "threshold", "name": "busy", "metric": "utilization.app", "window": "1m", "op": ">",
               "value": 0.5},
              {"kind": "threshold", "name": "slow", "metric": "latency_p99", "window": "1m", "op": ">",
               "value": 0.05}]
    data = scenario(alerts, [{"kind": "slow", "name": "slow", "target": "app", "at": 300, "for": 300,
                              "factor": 10}])
    data["components"][0]["workers"] = 1  # 10 ms x 10/s = 10% busy; x 10: fully busy, queueing
    result = run(make_scenario(data))
    assert result.summary["missed_faults.slow"] == 0 and result.summary["false_alarms.slow"] == 0
    assert result.summary["missed_faults.busy"] == 0 and result.summary["false_alarms.busy"] == 0


def test_rolling_zscore_judges_against_the_trailing_window_once_full():
    """z = (x - mean) / sample sd of the previous ``size`` values, and no verdict before it is full."""
    detector = RollingZscore(5, 3.0, "both")
    history = [10.0, 12.0, 11.0, 9.0, 13.0]
    assert [detector.observe(v)[0] for v in history] == [False] * 5
    anomalous, z = detector.observe(20.0)
    assert z == pytest.approx((20.0 - np.mean(history)) / np.std(history, ddof=1))
    assert anomalous
    anomalous, z = detector.observe(12.0)  # the window is now 12, 11, 9, 13, 20
    assert z == pytest.approx((12.0 - 13.0) / np.std([12, 11, 9, 13, 20], ddof=1)) and not anomalous


def test_rolling_zscore_alert_fires_on_a_jump_and_not_on_a_steady_rate(make_scenario):
    rule = {"kind": "anomaly", "name": "jump", "method": "rolling_zscore", "metric": "offered",
            "window": "5m", "threshold": 4, "direction": "above", "evaluation_interval": "30s"}
    data = scenario([rule], [{"kind": "surge", "name": "surge", "target": "web", "at": 600, "for": 120,
                              "factor": 3}], poisson=20)
    result = run(make_scenario(data))
    assert result.summary["false_alarms.jump"] == 0
    assert result.summary["time_to_alert.jump"] == 30.0  # the first interval of the surge


def test_a_run_without_alerts_installs_nothing(make_scenario):
    """No rules: no tap on the clients (the per-request path is the recorder's own bound method)."""
    from simulator.build import build

    system = build(make_scenario(scenario([], [])).resolve(None), seed=1, replication=0)
    assert system.alerts is None
    client, recorder = system.clients[0], system.ctx.recorder
    assert client._record_finish == recorder.finish and client._record_arrival == recorder.arrival


def test_same_seed_same_alert_events(make_scenario):
    rules = [THRESHOLD, {"kind": "anomaly", "name": "ewma", "method": "ewma", "metric": "offered",
                         "alpha": 0.2, "min_samples": 5, "threshold": 2}]
    data = scenario(rules, [outage("db", 300, 300)], "15m", poisson=20)
    first, second = (run(make_scenario(data)) for _ in range(2))
    alerts = [r.events[r.events["kind"] == "alert"].reset_index(drop=True) for r in (first, second)]
    assert len(alerts[0]) > 2
    assert alerts[0].equals(alerts[1])


def test_a_workload_rule_sees_only_that_workload(make_scenario):
    """Two workloads on two services; the outage hits only the api's service."""
    data = scenario([{**THRESHOLD, "name": "web-errors", "workload": "web", "for": 0},
                     {**THRESHOLD, "name": "api-errors", "workload": "api", "for": 0},
                     {**THRESHOLD, "name": "all-errors", "for": 0, "value": 0.3}],
                    [{**outage("api-down", 300, 300), "target": "api-app"}])
    data["workload"].append({"name": "api", "entry": "api-app", "arrivals": {"pattern": "deterministic",
                                                                             "rate": "10/s"}})
    data["components"].append({**data["components"][0], "name": "api-app"})
    summary = run(make_scenario(data)).summary
    assert summary["alerts_fired.web-errors"] == 0
    assert summary["time_to_alert.api-errors"] == 15.0
    assert summary["time_to_alert.all-errors"] == 15.0  # half of all requests fail: 0.5 > 0.3


def test_alerting_scenario_forest_learns_before_the_first_fault_and_every_rule_is_checked_quiet():
    """scenarios/alerting.yaml: an Isolation Forest that trained over a fault would learn the fault
    as normal, so its ``train`` span must end before the first fault of every variant; and the
    quiet variant's expectations hold every rule to zero false alarms."""
    from simulator.scenario import load_scenario

    scenario = load_scenario("scenarios/alerting.yaml")
    forests = [a for a in scenario.spec.alerts if getattr(a, "method", None) == "isolation_forest"]
    assert forests
    for variant in scenario.variant_names:
        spec = scenario.resolve(variant)
        first = min((f.at for f in spec.faults), default=spec.duration)
        for alert in (a for a in spec.alerts if getattr(a, "method", None) == "isolation_forest"):
            assert alert.forest_train < first, (variant, alert.name)
    quiet = {e.metric for e in scenario.spec.expect
             if e.variant == "quiet" and e.metric.startswith("false_alarms.") and e.at_most == 0}
    assert quiet == {f"false_alarms.{a.name}" for a in scenario.spec.alerts}
