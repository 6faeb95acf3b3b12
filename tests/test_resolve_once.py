"""Resolve once: the loader validates each variant and reads each CSV profile once; runs and
experiment workers get those validated specs and neither validate nor read a file again."""

from __future__ import annotations

import pickle

import pytest

from simulator.experiment.compare import compare
from simulator.experiment.executors import Execution
from simulator.experiment.tasks import make_tasks, run_task
from simulator.runner import run
from simulator.scenario import ScenarioError, ScenarioSpec, csvprofile, load_scenario
from simulator.scenario.variants import DEFAULT_VARIANT
from tests.experiments import tiny, write

VARIANTS = ["three", "four", "six"]


@pytest.fixture
def csv_scenario(tmp_path):
    """tiny() (3 variants) whose workload follows a CSV profile next to the scenario file."""
    (tmp_path / "traffic.csv").write_text("time,rate\n0,20\n10,40\n", encoding="utf-8")
    data = tiny()
    data["workload"][0]["profile"] = {"kind": "csv", "path": "traffic.csv"}
    return write(tmp_path / "s.yaml", data)


@pytest.fixture
def csv_reads(monkeypatch):
    """Every call of the CSV reader, by path."""
    calls = []
    read = csvprofile.read_profile_csv

    def counting(path):
        calls.append(path)
        return read(path)

    monkeypatch.setattr(csvprofile, "read_profile_csv", counting)
    return calls


class _Validations:
    """Stands in for ScenarioSpec's pydantic validator: counts validations, or refuses them."""

    def __init__(self, real, refuse: bool = False):
        self.real, self.refuse, self.count = real, refuse, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def validate_python(self, *args, **kwargs):
        if self.refuse:
            raise AssertionError("a ScenarioSpec was validated again")
        self.count += 1
        return self.real.validate_python(*args, **kwargs)


@pytest.fixture
def validations(monkeypatch):
    """Install a counting validator on ScenarioSpec; ``refuse()`` makes any validation fail."""
    counter = _Validations(ScenarioSpec.__pydantic_validator__)
    monkeypatch.setattr(ScenarioSpec, "__pydantic_validator__", counter)
    return counter


def test_compare_of_three_variants_by_three_replications_reads_the_csv_once(csv_scenario, csv_reads):
    """Loading reads the file once for the base and every variant; 9 runs read nothing more."""
    scenario = load_scenario(csv_scenario)
    assert len(csv_reads) == 1
    result = compare(scenario, VARIANTS, replications=3)
    assert len(csv_reads) == 1
    assert result.replications == 3 and list(result.summary["variant"].unique()) == VARIANTS


def test_a_fixed_warmup_derives_a_scenario_without_reading_the_csv_again(csv_scenario, csv_reads):
    """compare --warmup validates the scenario again with the override, from the rows already read."""
    compare(load_scenario(csv_scenario), VARIANTS, replications=2, warmup=1.0)
    assert len(csv_reads) == 1


def test_a_csv_row_error_is_still_reported_by_file_and_line(tmp_path):
    """One read per load does not lose the check: a bad row fails the load, naming the line."""
    (tmp_path / "traffic.csv").write_text("time,rate\n0,20\n5,-1\n", encoding="utf-8")
    data = tiny()
    data["workload"][0]["profile"] = {"kind": "csv", "path": "traffic.csv"}
    with pytest.raises(ScenarioError, match=r"workload\[0\]\.profile\.path: .*traffic\.csv line 3"):
        load_scenario(write(tmp_path / "s.yaml", data))


def test_resolve_returns_the_spec_validated_at_load(validations):
    """resolve() is a look-up: the same object every call, no validation; --set still wins."""
    from simulator import scenario_from_dict

    scenario = scenario_from_dict(tiny(), overrides=["components.app.workers=5"])
    loaded = validations.count
    assert loaded == 1 + len(VARIANTS)  # the base and each variant, once
    six = scenario.resolve("six")
    assert six is scenario.resolve("six") and validations.count == loaded
    assert six.component("app").workers == 5  # the command line wins over the variant's 6
    assert scenario.resolve(None) is scenario.resolve(DEFAULT_VARIANT) is scenario.spec
    with pytest.raises(ScenarioError, match="no variant named 'sixx'.*did you mean 'six'"):
        scenario.resolve("sixx")


def test_tasks_carry_the_validated_specs_and_workers_never_validate(csv_scenario, csv_reads, validations):
    """A task holds its variant's spec (CSV rows in it); what a worker unpickles runs as it is."""
    scenario = load_scenario(csv_scenario)
    tasks = make_tasks(scenario, VARIANTS, range(2))
    assert [task.spec for task in tasks] == [scenario.resolve(v) for v in VARIANTS for _ in range(2)]
    assert tasks[0].spec.workload[0].profile.points == [(0.0, 20.0), (10.0, 40.0)]
    validations.refuse = True
    shipped = [pickle.loads(pickle.dumps(task)) for task in tasks]  # what a pool or dask worker gets
    records = [run_task(task) for task in shipped]
    assert len(csv_reads) == 1
    direct = run(scenario, "four", replication=1)
    assert records[3].summary["latency_p99"] == direct.summary["latency_p99"]
    assert records[3].summary["ok"] == direct.summary["ok"] > 0


def test_pool_workers_run_without_the_csv_file_and_match_in_process_runs(csv_scenario):
    """Spawned workers never open the CSV (it is gone by the time they run) and give the same
    numbers, bit for bit, as runs in this process."""
    tasks = make_tasks(load_scenario(csv_scenario), VARIANTS, range(2))
    (csv_scenario.parent / "traffic.csv").unlink()
    serial = Execution(jobs=1).run(tasks)
    pooled = Execution(jobs=2).run(tasks)
    assert [r.key for r in serial] == [r.key for r in pooled]
    for a, b in zip(serial, pooled, strict=True):
        assert a.summary == b.summary and a.traffic.equals(b.traffic)
