"""Parameter sweeps: grids from ranges and lists, tidy tables, plots, bad input, resuming."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from simulator import scenario_from_dict, sweep
from simulator.cli import app
from simulator.experiment import ExperimentError, Interrupted, executors
from simulator.experiment.sweep import grid, parse_param
from simulator.plots_compare import plot_heatmap, plot_sweep_lines
from tests.experiments import tiny, write

runner = CliRunner()
WORKERS = "components.app.workers"


@pytest.mark.parametrize(("text", "values"), [
    ("x=2:12:2", (2, 4, 6, 8, 10, 12)),
    ("x=5:5:1", (5,)),
    ("x=0.1:0.3:0.1", (0.1, 0.2, 0.3)),
    ("x=30s:90s:30s", (30.0, 60.0, 90.0)),
    ("x=lru,lfu,3,true,250ms", ("lru", "lfu", 3, True, "250ms")),
])
def test_ranges_are_inclusive_and_list_items_read_as_yaml(text, values):
    """START:STOP:STEP includes STOP; list items keep their YAML types."""
    assert parse_param(text).values == values


@pytest.mark.parametrize(("text", "message"), [
    ("x=12:2:2", "empty range"), ("x=1:5:0", "step must be greater than 0"), ("x", "expected PATH="),
    ("x=1:2", "START:STOP:STEP"), ("x=a:b:c", "numbers or durations"),
])
def test_malformed_params_are_one_line_errors(text, message):
    """Empty ranges, zero steps and malformed specs are refused before anything runs."""
    with pytest.raises(ExperimentError, match=message):
        parse_param(text)


def test_grid_is_full_factorial_first_parameter_slowest():
    """Two parameters of 2 and 3 values give 6 points, in nested-loop order."""
    points = grid([parse_param("a=1,2"), parse_param("b=x,y,z")])
    assert points == [(("a", 1), ("b", "x")), (("a", 1), ("b", "y")), (("a", 1), ("b", "z")),
                      (("a", 2), ("b", "x")), (("a", 2), ("b", "y")), (("a", 2), ("b", "z"))]


def test_sweep_gives_one_row_per_point_variant_and_metric():
    """A tidy table: every point x variant has each metric once, with mean and interval."""
    scenario = scenario_from_dict(tiny(variants={}))
    result = sweep(scenario, [f"{WORKERS}=3:5:1", "workload.jobs.arrivals.rate=20,30"], replications=2)
    assert result.params == [WORKERS, "workload.jobs.arrivals.rate"] and result.variants == ["base"]
    latency = result.table[result.table["metric"] == "latency_mean"]
    assert len(latency) == 6 and not latency.duplicated([WORKERS, "workload.jobs.arrivals.rate"]).any()
    by_workers = latency[latency["workload.jobs.arrivals.rate"] == 30].set_index(WORKERS)["mean"]
    assert by_workers[3] > by_workers[5]  # more workers, shorter waits
    assert len(result.summary) == 6 * 2 * result.table["metric"].nunique()
    assert plot_heatmap(result.table, WORKERS, "workload.jobs.arrivals.rate", "latency_mean").axes
    assert plot_sweep_lines(latency, WORKERS, ["latency_mean"]).axes


def test_sweep_command_writes_tables_and_plot(tmp_path):
    """`cascade sweep` prints a table and writes sweep.csv, summary.csv and plots/sweep.png."""
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["sweep", str(path), "--param", f"{WORKERS}=3:4:1", "--variants", "three",
                              "--replications", "2", "--jobs", "1", "--out", str(tmp_path / "res")])
    assert out.exit_code == 0, out.stderr
    directory = tmp_path / "res" / "tiny" / "sweep"
    assert (directory / "sweep.csv").read_text().startswith(f"{WORKERS},variant,metric,kind,n,mean,low,high")
    assert (directory / "plots" / "sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert "sweep, 2 replications per point" in out.stdout


@pytest.mark.parametrize(("param", "message"), [
    ("components.ap.workers=1,2", "--param"), (f"{WORKERS}=0,1", "--param"), ("x=9:1:1", "empty range"),
])
def test_bad_sweep_input_exits_2_with_one_line(tmp_path, param, message):
    """A path that does not exist, an impossible value or an empty range: one line, exit 2."""
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["sweep", str(path), "--param", param, "--jobs", "1", "--out", str(tmp_path)])
    assert out.exit_code == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "tiny").exists()  # nothing ran


def test_an_interrupted_sweep_resumes_with_exactly_one_result_per_point(tmp_path, monkeypatch):
    """Ctrl-C after 5 runs, then the same sweep again: every point done once, none lost or doubled."""
    real, calls = executors.run_task, []

    def stop_on_sixth(task):
        calls.append(task.key)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(task)

    scenario = scenario_from_dict(tiny(variants={}))
    params = [f"{WORKERS}=3:6:1"]
    monkeypatch.setattr(executors, "run_task", stop_on_sixth)
    with pytest.raises(Interrupted) as stop:
        sweep(scenario, params, replications=2, out=tmp_path)
    assert (stop.value.done, stop.value.total) == (5, 8)
    monkeypatch.setattr(executors, "run_task", real)
    result = sweep(scenario, params, replications=2, out=tmp_path)
    runs = result.summary[result.summary["metric"] == "offered"]
    assert sorted(runs[WORKERS]) == [3, 3, 4, 4, 5, 5, 6, 6]
    assert len(list(tmp_path.rglob("r*.json"))) == 8
    fresh = sweep(scenario, params, replications=2)
    assert result.table.equals(fresh.table)
