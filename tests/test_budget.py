"""Run budgets (issue 15, item 7): a run's cost is estimated from its spec, refused above limits the
user can raise, and ``run --replications`` does not hold every run in memory.

The estimate is checked against what runs really do (arrivals counted in the requests table);
the refusals against files that used to grow until the machine gave up (each now exit 2, one line,
well under a second); the streaming by whether the first run is still alive when the last starts.
"""

from __future__ import annotations

import gc
import time
import weakref

import pytest
import typer
import yaml
from typer.testing import CliRunner

from simulator.budget import BYTES, GIB, Limits, check_budget, estimate
from simulator.cli import app
from simulator.cli.base import parse_bytes_option
from simulator.runner import run
from simulator.scenario import ScenarioError, load_scenario, scenario_from_dict

runner = CliRunner()


def _arrivals(result) -> int:
    """Requests that arrived inside the run (the drain after it keeps traffic going)."""
    return int((result.requests["t_arrival"] < result.spec.duration).sum())


# --- the estimate against real runs -------------------------------------------------------------

@pytest.mark.parametrize(("name", "duration"), [
    ("mmc", 2000.0),           # steady Poisson: rate x duration
    ("cache-flush", None),     # a step profile with a ramp
    ("cron-burst", None),      # bursts and batches
    ("viral-surge", None),     # a surge on top of the workload
])
def test_requests_estimate_is_within_5_percent_of_the_arrivals(name, duration):
    scenario = load_scenario(name)
    result = run(scenario, scenario.variant_names[0], duration=duration)
    estimated = estimate(result.spec).requests
    assert estimated == pytest.approx(_arrivals(result), rel=0.05)


def test_steady_estimate_is_rate_times_duration():
    spec = load_scenario("mmc").spec  # 8/s
    assert estimate(spec, duration=2000.0).requests == 8 * 2000


def _tiny(**changes) -> dict:
    data = {"name": "tiny", "duration": "60s", "seed": 3,
            "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "200/s"}}],
            "components": [{"kind": "service", "name": "app", "workers": 20, "service_time": "5ms"}]}
    data.update(changes)
    return data


def test_daily_cycle_is_integrated_in_closed_form():
    """∫ base (1 + a cos(2π(t - p)/P)): over whole periods the swing cancels; the run agrees."""
    workload = [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "200/s"},
                 "profile": {"kind": "diurnal", "period": "20s", "amplitude": 0.8, "peak_at": "5s"}}]
    spec = scenario_from_dict(_tiny(workload=workload)).spec
    assert estimate(spec).requests == pytest.approx(200 * 60)
    part = estimate(spec, duration=10.0).requests  # from 0 to 10 s: the peak at 5 s is inside
    assert part == pytest.approx(200 * (10 + 0.8 * 20 / 3.141592653589793))
    arrived = _arrivals(run(scenario_from_dict(_tiny(workload=workload))))
    assert estimate(spec).requests == pytest.approx(arrived, rel=0.05)


def test_events_are_requests_times_hops_times_attempts():
    """app calls db (each call tried up to 2 times) through one balancer: 1 + 1 + 2 visits, and
    the client tries each request up to 3 times."""
    data = _tiny(components=[
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "workers": 20, "service_time": "5ms",
         "calls": [{"target": "db", "retry": {"max_attempts": 2}}]},
        {"kind": "database", "name": "db", "connections": 4, "query_time": "1ms"}])
    data["workload"][0].update(entry="lb", client={"timeout": "1s", "retry": {"max_attempts": 3}})
    found = estimate(scenario_from_dict(data).spec)
    assert found.events == found.requests * (1 + 1 + 2) * 3


def test_replicas_count_what_an_autoscaler_may_scale_to():
    data = _tiny(mitigations=[{"kind": "autoscaler", "name": "hpa", "target": "app", "target_value": "60%",
                               "max_replicas": 40}])
    assert estimate(scenario_from_dict(data).spec).replicas == 40


def test_estimate_is_cheap_even_for_enormous_runs():
    spec = scenario_from_dict(_tiny(duration="1e9s", workload=[
        {"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "10/s"},
         "profile": {"kind": "diurnal", "period": "1s", "amplitude": 0.5}}])).spec
    started = time.perf_counter()
    found = estimate(spec)
    assert time.perf_counter() - started < 0.05
    assert found.requests == pytest.approx(1e10, rel=1e-6)


def test_a_spilling_run_is_charged_for_what_it_holds_not_for_every_request():
    """Records of a long run go to disk (simulator.spill) unless alert rules or a batch workload
    read them by id during the run: memory is charged for every request only then."""
    data = _tiny(duration="5e5s")  # 1e8 requests at 200/s
    spilled = estimate(scenario_from_dict(data).spec)
    assert spilled.requests == pytest.approx(1e8)
    assert spilled.memory < 1 * GIB
    data["alerts"] = [{"kind": "threshold", "name": "slow", "metric": "latency_p99", "window": "1m",
                       "op": ">", "value": "1s"}]
    held = estimate(scenario_from_dict(data).spec)
    assert held.memory > 1e8 * BYTES["request"]


# --- refusals -----------------------------------------------------------------------------------

def _workload(entry: str, arrivals: dict) -> list[dict]:
    return [{"name": "w", "entry": entry, "arrivals": arrivals}]


ZIPF_CACHE = [{"kind": "cache", "name": "cache", "capacity": 1000, "backend": "db",
               "keys": {"dist": "zipf", "alpha": 1.0, "catalog": "1e9"}},
              {"kind": "database", "name": "db", "connections": 2, "query_time": "1ms"}]

HOSTILE = {
    "rate": (_tiny(workload=_workload("app", {"pattern": "poisson", "rate": "1e9/s"})), "--max-requests"),
    "replicas": (_tiny(components=[{"kind": "service", "name": "app", "replicas": 10_000_000,
                                    "service_time": "5ms"}]), "--max-replicas"),
    "catalog": (_tiny(workload=_workload("cache", {"pattern": "poisson", "rate": "10/s"}),
                      components=ZIPF_CACHE), "--max-keys"),
    "batch every 1ms": (_tiny(duration="1e6s", workload=_workload(
        "app", {"pattern": "batch", "items": 1000, "at": "0s", "every": "1ms"})), "--max-requests"),
    "duration 1e9s": (_tiny(duration="1e9s"), "--max-requests"),
    "daily cycle of 1s over 1e5s": (_tiny(duration="1e5s", workload=[  # 100k requests, 29M knots
        {**_workload("app", {"pattern": "poisson", "rate": "1/s"})[0],
         "profile": {"kind": "diurnal", "period": "1s", "amplitude": 0.5}}]), "--max-keys"),
}


def _write(tmp_path, data: dict, name: str = "hostile.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_runs_are_refused_at_once_with_one_line_naming_the_flag(tmp_path, case):
    data, flag = HOSTILE[case]
    path = _write(tmp_path, data)
    started = time.perf_counter()
    outcome = runner.invoke(app, ["run", str(path), "--no-plots", "--out", str(tmp_path / "out")])
    assert time.perf_counter() - started < 1.0
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(str(path)) and flag in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_batch_estimate_counts_every_release():
    data, _ = HOSTILE["batch every 1ms"]
    assert estimate(scenario_from_dict(data).spec).requests == 1000 * 1e9  # releases at 0, 1 ms, ...


def test_raising_the_flag_lets_the_run_go(tmp_path):
    path = _write(tmp_path, _tiny(duration="20s"))  # about 4,000 requests
    common = ["run", str(path), "--no-plots", "--json", "--out", str(tmp_path / "out")]
    refused = runner.invoke(app, [*common, "--max-requests", "3k"])
    assert refused.exit_code == 2 and "--max-requests" in refused.stderr
    assert runner.invoke(app, [*common, "--max-requests", "5k"]).exit_code == 0


def test_limits_apply_to_the_experiment_commands(tmp_path):
    data, _ = HOSTILE["rate"]
    path = _write(tmp_path, data)
    out = str(tmp_path / "out")
    for command in (["compare", str(path)], ["sweep", str(path), "--param", "components.app.workers=1,2"]):
        outcome = runner.invoke(app, [*command, "--jobs", "1", "--no-plots", "--out", out])
        assert outcome.exit_code == 2, command
        assert len(outcome.stderr.strip().splitlines()) == 1 and "--max-requests" in outcome.stderr
    small = _write(tmp_path, _tiny(duration="20s"), "small.yaml")
    swept = runner.invoke(app, ["sweep", str(small), "--param", "workload.w.arrivals.rate=100,1e9",
                                "--jobs", "1", "--no-plots", "--out", out])
    assert swept.exit_code == 2 and "--max-requests" in swept.stderr


def test_check_refuses_every_file_before_the_first_one_runs(tmp_path, monkeypatch):
    claims = {"expect": [{"variant": "base", "metric": "availability", "at_least": "90%"}]}
    first = _write(tmp_path, {**_tiny(duration="20s"), **claims}, "first.yaml")
    second = _write(tmp_path, {**HOSTILE["rate"][0], **claims}, "second.yaml")
    ran = []
    monkeypatch.setattr("simulator.experiment.tasks.run_task", lambda task: ran.append(task))
    outcome = runner.invoke(app, ["check", str(first), str(second), "--jobs", "1",
                                  "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 2 and "--max-requests" in outcome.stderr
    assert ran == []


def test_library_refusal_names_file_path_and_limit():
    data, _ = HOSTILE["replicas"]
    with pytest.raises(ScenarioError) as error:
        check_budget(scenario_from_dict(data).spec, "x.yaml", Limits())
    assert str(error.value) == ("x.yaml: components.app.replicas: the run would build 10,000,000 replicas, "
                                "over the limit of 100,000; raise it with --max-replicas if this is intended")
    raised = Limits(replicas=1e7, memory=64 * 2**30)  # 10M replicas take about 20 GB
    assert check_budget(scenario_from_dict(data).spec, "x.yaml", raised).replicas == 1e7


def test_memory_sizes_parse_like_people_write_them():
    assert parse_bytes_option("8GiB") == 8 * 2**30
    assert parse_bytes_option("500MB") == 500_000_000
    assert parse_bytes_option("2G") == 2_000_000_000
    with pytest.raises(typer.BadParameter):
        parse_bytes_option("lots")


# --- run --replications streams -----------------------------------------------------------------

def test_replications_do_not_hold_every_run(tmp_path, monkeypatch):
    """When the third run starts, the first run's result (and its tables) is gone: the runs are
    written as they end and only their summaries are kept."""
    import simulator.runner as runner_module

    real_run = runner_module.run
    alive: list[weakref.ref] = []
    first_alive_at_third: list[bool] = []

    def tracked(*args, **kwargs):
        if len(alive) == 2:
            gc.collect()
            first_alive_at_third.append(alive[0]() is not None)
        result = real_run(*args, **kwargs)
        alive.append(weakref.ref(result))
        return result

    monkeypatch.setattr(runner_module, "run", tracked)
    path = _write(tmp_path, _tiny(duration="5s"))
    out = tmp_path / "out"
    outcome = runner.invoke(app, ["run", str(path), "--replications", "3", "--json", "--no-plots",
                                  "--out", str(out)])
    assert outcome.exit_code == 0, outcome.output
    assert first_alive_at_third == [False]
    written = next((out / "tiny").iterdir())
    assert sorted(p.name for p in written.iterdir()) == ["base-r0", "base-r1", "base-r2", "meta.json",
                                                         "summary.csv"]
    assert (written / "base-r0" / "requests.parquet").stat().st_size > 0
    assert [p.name for p in out.iterdir()] == ["tiny"]  # the scratch folder is gone


def test_help_states_the_defaults_the_limits_have():
    """The options' help is written in cli/base.py (kept import-light for --help); it must say the
    defaults :class:`Limits` applies."""
    from simulator.cli.base import parse_count_option

    text = " ".join(runner.invoke(app, ["run", "--help"], terminal_width=400).stdout.split())
    defaults = Limits()
    for flag, name in (("--max-requests", "requests"), ("--max-events", "events"),
                       ("--max-replicas", "replicas"), ("--max-keys", "keys")):
        shown = text.split(flag, 1)[1].split("(default ", 1)[1].split(")", 1)[0]
        assert parse_count_option(shown) == getattr(defaults, name), flag
    shown = text.split("--max-memory", 1)[1].split("(default ", 1)[1].split(")", 1)[0]
    assert parse_bytes_option(shown) == defaults.memory
