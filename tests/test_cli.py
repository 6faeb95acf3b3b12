"""The cascade command line: thin, strict JSON when asked, exit 2 and no traceback on bad input.

Two groups of tests:
- "stand-in" tests replace the loader and runner with tiny fakes (via monkeypatch on sys.modules),
  so they check the CLI's own logic independently of the model;
- "end-to-end" tests use the real loader and runner on tiny scenarios written to tmp_path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from dataclasses import dataclass, field

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator.cli import app

runner = CliRunner()

TINY = """\
name: tiny
description: One service under light Poisson load. Second sentence.
duration: 20s
seed: 3
workload:
  - {name: w, entry: app, arrivals: {pattern: poisson, rate: 50/s}}
components:
  - {kind: service, name: app, workers: 4, service_time: 10ms}
"""

TWO_VARIANTS = TINY + """\
variants:
  slow: {components.app.service_time: 50ms}
  fast: {}
"""


def invoke(*args: str):
    """Run the app in-process; stdout and stderr are captured separately."""
    return runner.invoke(app, list(args))


# --- stand-ins ----------------------------------------------------------------------------------

@dataclass
class FakeResult:
    """Duck-typed RunResult with empty tables."""

    variant: str
    seed: int = 1
    replication: int = 0
    scenario: str = "fake"
    wall_time: float = 0.01
    summary: dict = field(default_factory=dict)
    spec: object = None
    requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    traffic: pd.DataFrame = field(default_factory=pd.DataFrame)
    series: pd.DataFrame = field(default_factory=pd.DataFrame)
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["t", "kind", "component",
                                                                               "detail"]))


class FakeScenarioError(Exception):
    """Stand-in for simulator.scenario.ScenarioError."""


class FakeSpec:
    """Stand-in for ScenarioSpec."""

    description = "A fake. With detail."
    replications = 1

    def model_dump(self, mode="python"):
        return {"name": "fake"}


@pytest.fixture
def fake(monkeypatch):
    """Install fake simulator.scenario / simulator.runner / simulator.bench; returns a call log."""
    log: dict = {"runs": [], "loads": []}
    variants = ["slow", "fast"]

    def load_scenario(path, overrides=()):
        log["loads"].append((path, list(overrides)))
        if log.get("load_error"):
            raise FakeScenarioError(log["load_error"])
        return types.SimpleNamespace(variant_names=variants, spec=FakeSpec(), resolve=lambda v: FakeSpec(),
                                     warnings=tuple(log.get("warnings", ())))

    def run(scenario, variant=None, *, seed=None, replication=0, duration=None, progress=None):
        log["runs"].append({"variant": variant, "seed": seed, "duration": duration})
        if log.get("run_error"):
            raise log["run_error"]
        if progress:
            progress(5.0, 10.0)
            progress(10.0, 10.0)
        summary = {"availability": 0.5 if variant == "slow" else 1.0, "latency_p99": 0.25,
                   "offered": 100.0, "hit_ratio.cache": float("nan"), "utilization.app": 0.42}
        return FakeResult(variant=variant, seed=seed or 1, summary=summary, spec=FakeSpec())

    def bench_main(quick=False, repeats=3):
        log["bench"] = (quick, repeats)
        return 0

    modules = {"simulator.scenario": dict(load_scenario=load_scenario, ScenarioError=FakeScenarioError,
                                          builtin_scenarios=lambda: [types.SimpleNamespace(
                                              name="demo", path="demo.yaml", description="A fake.")]),
               "simulator.runner": dict(run=run), "simulator.bench": dict(main=bench_main)}
    for name, attrs in modules.items():
        monkeypatch.setitem(sys.modules, name, types.SimpleNamespace(**attrs))
    monkeypatch.setattr("simulator.budget.check_variants", lambda *args, **kwargs: None)  # fakes have no cost
    log["variants"] = variants
    return log


def test_run_prints_variants_side_by_side(fake, tmp_path):
    """Without --variant every variant runs and appears as a column; results are written."""
    result = invoke("run", "x.yaml", "--out", str(tmp_path), "--no-plots")
    assert result.exit_code == 0, result.output
    header = next(line for line in result.stdout.splitlines() if "metric" in line)
    assert header.index("slow") < header.index("fast")
    assert "50.00%" in result.stdout and "250.0 ms" in result.stdout and "42.00%" in result.stdout
    assert [r["variant"] for r in fake["runs"]] == ["slow", "fast"]
    assert (tmp_path / "fake").is_dir() and str(tmp_path / "fake") in result.stdout


def test_run_json_several_variants_is_keyed_by_variant(fake, tmp_path):
    """--json prints exactly one strict JSON object: {variant: metrics}; NaN becomes null."""
    result = invoke("run", "x.yaml", "--json", "--out", str(tmp_path), "--no-plots")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"slow", "fast"}
    assert data["slow"]["availability"] == 0.5 and data["fast"]["hit_ratio.cache"] is None


def test_run_json_one_variant_is_flat(fake, tmp_path):
    """--json with --variant prints that variant's metrics dict; options reach run()."""
    result = invoke("run", "x.yaml", "--variant", "fast", "--seed", "9", "--duration", "10m",
                    "--set", "a.b=1", "--set", "c=2", "--json", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["availability"] == 1.0
    assert fake["runs"] == [{"variant": "fast", "seed": 9, "duration": 600.0}]
    assert fake["loads"] == [("x.yaml", ["a.b=1", "c=2"])]
    assert len(list((tmp_path / "fake").glob("*/plots/*.png"))) == 4


def test_unknown_variant_exits_2(fake, tmp_path):
    """An unknown --variant names the file and the variants that exist."""
    result = invoke("run", "x.yaml", "--variant", "nope", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "x.yaml" in result.stderr and "nope" in result.stderr and "slow, fast" in result.stderr
    assert not fake["runs"]


@pytest.mark.parametrize("value", ["ten minutes", "-5s", "0"])
def test_bad_duration_exits_2(fake, value):
    """--duration must be a positive duration with units; errors are usage errors."""
    result = invoke("run", "x.yaml", "--duration", value)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "--duration" in result.output


def test_loader_problems_exit_2_one_line_each(fake):
    """ScenarioError text goes to stderr verbatim, exit 2."""
    fake["load_error"] = "x.yaml: components[0].replicaz: unknown key\nx.yaml: duration: expected"
    result = invoke("run", "x.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == fake["load_error"].splitlines()
    assert result.stdout == ""


def test_missing_file_exits_2(fake):
    """An OSError while loading is bad input, not a crash."""
    fake["run_error"] = FileNotFoundError(2, "No such file or directory", "profile.csv")
    result = invoke("run", "x.yaml", "--no-plots")
    assert result.exit_code == 2 and "profile.csv" in result.stderr


def test_bug_is_one_line_exit_1(fake):
    """An unexpected exception prints an internal-error line, never a traceback."""
    fake["run_error"] = ZeroDivisionError("oops")
    result = invoke("run", "x.yaml", "--no-plots")
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError: oops" in result.stderr
    assert "Traceback" not in result.output


def test_validate_reports_each_file(fake):
    """validate prints OK per good file and exits 2 when any file has problems."""
    assert invoke("validate", "a.yaml").stdout.strip() == "OK a.yaml (2 variants)"
    fake["load_error"] = "b.yaml: name: missing"
    result = invoke("validate", "b.yaml")
    assert result.exit_code == 2 and "b.yaml: name: missing" in result.stderr


def test_list_with_stand_in(fake):
    """list shows each built-in name with its one-line description."""
    result = invoke("list")
    assert result.exit_code == 0
    assert "demo" in result.stdout and "A fake." in result.stdout


def test_bench_passes_options(fake):
    """bench forwards --quick and --repeats to simulator.bench.main."""
    assert invoke("bench", "--quick", "--repeats", "2").exit_code == 0
    assert fake["bench"] == (True, 2)


@pytest.mark.parametrize(("args", "expected"), [
    (["run", "x.yaml", "--seed", "-1"], "'--seed': must be at least 0; got -1"),
    (["run", "x.yaml", "--seed", "seven"], "'--seed': expected a whole number; got 'seven'"),
    (["run", "x.yaml", "--replications", "0"], "'--replications': must be at least 1; got 0"),
    (["bench", "--repeats", "0"], "'--repeats': must be at least 1; got 0"),
])
def test_bad_option_values_exit_2_naming_the_option(fake, args, expected):
    """Options get the scenario file's rules: exit 2, the option and the expectation, no traceback."""
    result = invoke(*args)
    assert result.exit_code == 2
    assert expected in " ".join(result.output.replace("│", " ").split())
    assert "Traceback" not in result.output and "internal error" not in result.output
    assert not fake["runs"]


def test_json_counts_are_integers(fake, tmp_path):
    """Counts print as JSON integers (100, not 100.0); ratios and latencies stay floats."""
    result = invoke("run", "x.yaml", "--variant", "fast", "--json", "--out", str(tmp_path), "--no-plots")
    data = json.loads(result.stdout)
    assert data["offered"] == 100 and type(data["offered"]) is int
    assert type(data["availability"]) is float and type(data["latency_p99"]) is float


def test_warnings_go_to_stderr_and_do_not_stop_the_run(fake, tmp_path):
    """The scenario's warnings are printed on stderr; the run goes on and exits 0."""
    fake["warnings"] = ["x.yaml:7: components.cache: warning: no workload reaches this component"]
    result = invoke("run", "x.yaml", "--out", str(tmp_path), "--no-plots")
    assert result.exit_code == 0
    assert fake["warnings"][0] in result.stderr and fake["warnings"][0] not in result.stdout
    assert len(fake["runs"]) == 2


def test_help_shows_no_type_on_flags():
    """Flags take no value, so no command's help lists them with a ``<bool>`` type."""
    import typer.main

    commands = list(typer.main.get_command(app).commands)
    assert {"run", "validate", "bench"} <= set(commands)
    for command in [[], *([name] for name in commands)]:
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "--help" in result.stdout
        assert "<bool>" not in result.stdout, command


def test_usage_errors_exit_2_without_traceback():
    """Missing arguments and unknown options are usage errors (exit 2)."""
    for args in (["run"], ["run", "x.yaml", "--bogus"], ["nonsense"]):
        result = invoke(*args)
        assert result.exit_code == 2 and "Traceback" not in result.output


def test_python_dash_m_is_cascade():
    """python -m simulator runs the same app."""
    out = subprocess.run([sys.executable, "-m", "simulator", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "validate" in out.stdout


# --- end-to-end with the real loader and runner ----------------------------------------------------

def test_run_json_on_tiny_scenario(tmp_path):
    """run --json prints parseable JSON with the headline metrics, nothing else on stdout."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    result = invoke("run", str(path), "--json", "--out", str(tmp_path / "out"), "--no-plots")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"availability", "latency_p99"} <= set(data)
    assert 0.9 <= data["availability"] <= 1.0
    assert (tmp_path / "out" / "tiny").is_dir()


def test_run_table_and_plots_for_variants(tmp_path):
    """Two variants: one table with both columns, per-variant folders with plots."""
    path = tmp_path / "two.yaml"
    path.write_text(TWO_VARIANTS)
    result = invoke("run", str(path), "--out", str(tmp_path / "out"), "--duration", "10s")
    assert result.exit_code == 0, result.output
    assert "slow" in result.stdout and "fast" in result.stdout and "latency_p99" in result.stdout
    (run_dir,) = (tmp_path / "out" / "tiny").iterdir()
    assert {p.name for p in run_dir.iterdir()} >= {"slow", "fast", "summary.csv", "meta.json"}
    assert len(list(run_dir.glob("*/plots/*.png"))) == 8


def test_unknown_key_exits_2_with_file_and_path(tmp_path):
    """An unknown key names the file and the key path, exits 2, and shows no traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(TINY.replace("workers: 4", "workers: 4, replicaz: 2"))
    result = invoke("run", str(path), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "bad.yaml" in result.stderr and "replicaz" in result.stderr and "components" in result.stderr
    assert "Traceback" not in result.output


def test_validate_real_files(tmp_path):
    """validate accepts a good file and reports a bad one with exit 2."""
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(TWO_VARIANTS)
    bad.write_text(TINY.replace("duration: 20s", "duration: soon"))
    result = invoke("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"OK {good} (2 variants)" in result.stdout
    assert "bad.yaml" in result.stderr and "duration" in result.stderr


def test_json_counts_are_integers_end_to_end(tmp_path):
    """A real run's --json has integer counts (offered, ok, ...) and float rates."""
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    result = invoke("run", str(path), "--json", "--out", str(tmp_path / "out"), "--no-plots")
    data = json.loads(result.stdout)
    for count in ("offered", "completed", "ok", "errors", "timeouts", "incomplete", "late_answers"):
        assert type(data[count]) is int, count
    assert type(data["goodput"]) is float


def test_unreached_component_warns_in_validate_and_run(tmp_path):
    """A component no workload reaches gets a warning line on stderr; the file is still valid."""
    path = tmp_path / "idle.yaml"
    path.write_text(TINY + "  - {kind: external, name: payments, latency: 50ms}\n")
    expected = f"{path}:9: components.payments: warning: no workload reaches this component"
    checked = invoke("validate", str(path))
    assert checked.exit_code == 0 and f"OK {path}" in checked.stdout
    assert expected in checked.stderr
    ran = invoke("run", str(path), "--json", "--duration", "5s", "--out", str(tmp_path / "out"), "--no-plots")
    assert ran.exit_code == 0 and expected in ran.stderr
    json.loads(ran.stdout)


def test_schema_prints_valid_json():
    """schema prints the ScenarioSpec JSON Schema."""
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "workload" in schema["properties"] and "components" in schema["properties"]


def test_list_shows_builtin_names():
    """list shows the built-in scenarios."""
    result = invoke("list")
    assert result.exit_code == 0
    assert "three-tier-viral-spike" in result.stdout
