"""``method: isolation_forest``: fires on a fault after learning a normal stretch, repeats bit for
bit with the seed and across --jobs, and without scikit-learn is refused with one line."""

from __future__ import annotations

import pytest

from simulator import run
from simulator.scenario.loader import scenario_from_dict

pytest.importorskip("sklearn")

FOREST = {"kind": "anomaly", "name": "forest", "method": "isolation_forest", "metric": "error_ratio",
          "metrics": ["latency_p99", "utilization.app"], "train": "10m", "contamination": 0.05,
          "evaluation_interval": "15s"}


def spec(seed: int = 5) -> dict:
    return {
        "name": "forest", "duration": "20m", "seed": seed,
        "workload": [{"name": "web", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "40/s"}}],
        "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 4,
                        "service_time": {"dist": "exponential", "mean": "20ms"}}],
        "faults": [{"kind": "slow", "name": "slow", "target": "app", "at": "15m", "for": "2m",
                    "factor": 3}],
        "alerts": [FOREST],
    }


def alert_events(result) -> list[tuple[float, str]]:
    events = result.events[result.events["kind"] == "alert"]
    return list(zip(events["t"].tolist(), events["detail"].tolist(), strict=True))


def firing_at(result, t: float) -> bool:
    """Whether the alert was firing at evaluation ``t``, from its last transition at or before t."""
    changes = [detail.split()[0] for when, detail in alert_events(result) if when <= t]
    return bool(changes) and changes[-1] == "firing"


def test_the_forest_fires_on_the_fault_and_repeats_with_the_seed(tmp_path):
    first = run(scenario_from_dict(spec(), source="forest.yaml", base_dir=tmp_path))
    again = run(scenario_from_dict(spec(), source="forest.yaml", base_dir=tmp_path))
    assert alert_events(first) == alert_events(again)
    assert all(firing_at(first, t) for t in range(915, 1021, 15)), alert_events(first)  # slowdown
    assert all(t > 600.0 for t, _ in alert_events(first))  # nothing judged while training
    assert first.summary["missed_faults.forest"] == 0
    other = run(scenario_from_dict(spec(seed=6), source="forest.yaml", base_dir=tmp_path))
    assert alert_events(other) != alert_events(first)  # the seed matters (traffic and forest)


def test_the_forest_is_identical_across_jobs(tmp_path):
    from simulator.experiment.executors import Execution
    from simulator.experiment.tasks import make_tasks

    scenario = scenario_from_dict({**spec(), "variants": {"other": {"seed": 8}}}, source="forest.yaml",
                                  base_dir=tmp_path)
    tasks = make_tasks(scenario, list(scenario.variant_names), range(1), duration=None,
                       point=(("scenario", "forest"),), keep_traffic=False)
    one = [r.summary for r in Execution(jobs=1).run(tasks)]
    two = [r.summary for r in Execution(jobs=2).run(tasks)]
    assert one == two and one[0]["alerts_fired.forest"] >= 1


def test_without_scikit_learn_the_scenario_is_refused_in_one_line(monkeypatch, validate_one_line):
    import simulator.scenario.alerts as alerts

    monkeypatch.setattr(alerts, "sklearn_available", lambda: False)
    line = validate_one_line(spec())
    assert "alerts[0].method" in line and "scikit-learn" in line and "cascade-sim[anomaly]" in line


@pytest.mark.parametrize(("key", "value"),
                         [("train", "5m"), ("contamination", 0.1), ("metrics", ["goodput"])])
def test_forest_keys_apply_to_the_forest_only(validate_one_line, key, value):
    ewma = {"kind": "anomaly", "name": "e", "method": "ewma", "metric": "error_ratio", key: value}
    line = validate_one_line({**spec(), "alerts": [ewma]})
    assert f"alerts[0].{key}" in line and "isolation_forest only" in line


def test_a_training_span_as_long_as_the_run_is_refused(validate_one_line):
    forest = {k: v for k, v in FOREST.items() if k != "train"}  # the default: 1h, the run: 20m
    line = validate_one_line({**spec(), "alerts": [forest]})
    assert "alerts[0]" in line and "3600s (the default)" in line and "never judge" in line
