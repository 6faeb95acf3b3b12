"""Smoke tests of the benchmark suite (the benchmark itself runs on demand: `cascade bench`)."""

from __future__ import annotations

import json
import math

import pytest

from simulator.bench import harness, reference, report, workloads


def erlang_c_mean_response(lam: float, mean_service: float, c: int) -> float:
    """Mean sojourn time of an M/M/c queue: W = 1/mu + C(c, a) / (c mu - lam)."""
    a = lam * mean_service
    below = sum(a**k / math.factorial(k) for k in range(c))
    top = a**c / math.factorial(c) / (1 - a / c)
    return mean_service + (top / (below + top)) / (c / mean_service - lam)


def test_reference_models_complete_n_requests():
    completed, sim_time, mean = reference.mmc(90.0, 0.1, 10, n=2000, seed=1)
    assert completed == 2000
    assert 2000 / 90 * 0.8 < sim_time < 2000 / 90 * 1.2
    assert 0.1 * 0.8 < mean < 0.5

    completed, sim_time, mean = reference.three_tier(250.0, 4, 8, 0.05, 16, 0.05, n=2000, seed=1)
    assert completed == 2000
    assert 2000 / 250 * 0.8 < sim_time < 2000 / 250 * 1.2
    assert 0.1 * 0.8 < mean < 0.5  # at least app + db work, and not congested


def test_reference_mmc_matches_erlang_c():
    # rho = 0.9: single runs of 20k requests scatter by several percent, so pool three seeds
    means = [reference.mmc(90.0, 0.1, 10, n=20_000, seed=seed)[2] for seed in (1, 2, 3)]
    expected = erlang_c_mean_response(90.0, 0.1, 10)
    assert sum(means) / len(means) == pytest.approx(expected, rel=0.10)


def test_reference_three_tier_degenerates_to_mmc():
    # one app server, an instant database with plenty of connections: M/M/workers
    mean = reference.three_tier(250.0, 1, 16, 0.05, 4, 1e-9, n=20_000, seed=1)[2]
    assert mean == pytest.approx(erlang_c_mean_response(250.0, 0.05, 16), rel=0.10)


def test_workload_scenarios_follow_the_contract_shape():
    for w in workloads.WORKLOADS:
        data = w.scenario(20_000, 1)
        assert data["warmup"] == 0
        rate = data["workload"][0]["arrivals"]["rate"]
        assert data["duration"] * rate == pytest.approx(20_000)
    client = workloads.three_tier_resilient_scenario(1000)["workload"][0]["client"]
    assert client["timeout"] == 1.0 and client["retry"]["max_attempts"] == 3


def _fake_runner(data: dict) -> int:
    """Stands in for the project: runs the reference for the scenario's expected requests."""
    n = round(data["duration"] * data["workload"][0]["arrivals"]["rate"])
    model = workloads.mmc_reference if data["name"] == "bench-mmc" else workloads.three_tier_reference
    return model(n)[0]


def test_harness_measures_and_reports(tmp_path):
    mmc = workloads.by_name("mmc")
    results = harness.run_all([mmc], n=2000, repeats=2, runner=_fake_runner, memory_workload=mmc)
    row = results["workloads"][0]
    assert len(row["project_samples"]) == len(row["reference_samples"]) == 2
    assert row["ratio"] == pytest.approx(row["project_req_per_s"] / row["reference_req_per_s"])
    assert results["memory"]["bytes_per_request"] is not None
    path = report.write_json(report.stamp(results, quick=True), tmp_path / "bench" / "latest.json")
    assert json.loads(path.read_text())["workloads"][0]["workload"] == "mmc"
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind
    assert "| mmc |" in report.markdown_table(results)


def test_harness_reports_a_failing_project_instead_of_raising():
    def broken(_data: dict) -> int:
        raise RuntimeError("boom")

    row = harness.bench_workload(workloads.by_name("mmc"), n=500, repeats=2, runner=broken)
    assert row["error"] == "RuntimeError: boom"
    assert row["ratio"] is None and row["passed"] is None
    assert len(row["reference_samples"]) == 2


@pytest.mark.slow
def test_bench_quick_mode_runs_against_the_project(tmp_path):
    if harness.load_project_runner().runner is None:
        pytest.skip("the project's runner (simulator.runner.run, scenario_from_dict) does not exist yet")
    from simulator.bench import main

    out = tmp_path / "latest.json"
    assert main(quick=True, out=out) == 0
    results = json.loads(out.read_text())
    for row in results["workloads"]:
        assert row["error"] is None, row
        assert row["project_req_per_s"] > 0 and row["reference_req_per_s"] > 0
    assert results["memory"]["bytes_per_request"] is not None


def test_alerts_workload_is_three_tier_with_one_rule_of_each_kind():
    from simulator.scenario import scenario_from_dict

    data = workloads.three_tier_alerts_scenario(workloads.QUICK_N)  # 80 s: the rules are evaluated
    plain = workloads.three_tier_scenario(workloads.QUICK_N)
    assert {k: v for k, v in data.items() if k not in ("name", "alerts", "slo")} == \
        {k: v for k, v in plain.items() if k != "name"}
    spec = scenario_from_dict(data, source="<bench>").resolve(None)
    assert sorted(a.kind for a in spec.alerts) == ["anomaly", "burn_rate", "threshold"]
    assert workloads.by_name("three_tier_alerts").baseline == "three_tier"


def test_a_workload_with_a_baseline_is_timed_against_it():
    """Project, baseline and reference all run every repeat; vs_baseline is the ratio of the
    project's and the baseline's median speeds, and the report says whether it meets its target."""
    seen = []

    def runner(data: dict) -> int:
        seen.append(data["name"])
        return _fake_runner({**data, "name": "bench-three-tier"})

    row = harness.bench_workload(workloads.by_name("three_tier_alerts"), n=500, repeats=3, runner=runner)
    assert seen.count("bench-three-tier-alerts") == seen.count("bench-three-tier") == 3
    assert len(row["baseline_samples"]) == len(row["reference_samples"]) == 3
    rate = harness._median_rate
    expected = rate([harness.Sample(**s) for s in row["project_samples"]]) / \
        rate([harness.Sample(**s) for s in row["baseline_samples"]])
    assert row["vs_baseline"] == pytest.approx(expected)
    assert row["baseline_passed"] == (row["vs_baseline"] >= workloads.ALERTS_COST_TARGET)
    line = report.baseline_line(row)
    assert line.startswith("three_tier_alerts vs three_tier") and "target >= 0.90x" in line
