"""A wrong ``faults:`` entry is refused with one line naming the file, the key path and the problem."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from typer.testing import CliRunner

from simulator import ScenarioError, scenario_from_dict
from simulator.cli import app
from simulator.faults import INJECTORS

BASE = {
    "name": "faulty",
    "duration": "100s",
    "workload": [{"name": "w", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "10/s"}}],
    "components": [
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "replicas": 3, "service_time": "10ms", "calls": ["cache"]},
        {"kind": "cache", "name": "cache", "capacity": 10, "backend": "db",
         "keys": {"dist": "uniform", "catalog": 100}},
        {"kind": "database", "name": "db", "connections": 2, "query_time": "5ms"},
    ],
}
KNOWN = "known components: lb, app, cache, db"


def with_fault(fault: dict) -> dict:
    """BASE with one fault."""
    data = copy.deepcopy(BASE)
    data["faults"] = [fault]
    return data


def problems(data: dict) -> list[str]:
    """The lines of the ScenarioError that loading ``data`` as s.yaml raises."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    return str(info.value).splitlines()


def test_base_scenario_is_valid():
    """The scenario the error tests start from is itself valid, with a fault that fits it."""
    spec = scenario_from_dict(with_fault({"kind": "crash", "name": "f", "target": "app", "at": 10}),
                              source="s.yaml").spec
    assert [f.name for f in spec.faults] == ["f"]


def test_fault_without_target():
    """A fault that names no component says the target key is missing."""
    assert problems(with_fault({"kind": "crash", "name": "f", "at": 10})) == [
        "s.yaml: faults[0]: missing required key 'target'"]


def test_fault_target_that_is_no_component():
    """A target that is not a component lists the components there are."""
    assert problems(with_fault({"kind": "crash", "name": "f", "target": "ap", "at": 10})) == [
        f"s.yaml: faults[0].target: 'ap' names no component; {KNOWN}"]


def test_health_check_interval_zero():
    """A balancer's health check must probe at a positive interval."""
    data = copy.deepcopy(BASE)
    data["components"][0]["health_check"] = {"interval": 0}
    [line] = problems(data)
    assert line.startswith("s.yaml: components[0].health_check.interval: ")
    assert "greater than zero" in line


@pytest.mark.parametrize(("length", "expected"), [(0, "greater than zero"), (-5, "cannot be negative")])
def test_fault_length_must_be_positive(length, expected):
    """`for` zero or negative is refused at the `for` key."""
    [line] = problems(with_fault({"kind": "hang", "name": "f", "target": "app", "at": 10, "for": length}))
    assert line.startswith("s.yaml: faults[0].for: ")
    assert expected in line


def test_fault_starting_after_the_run():
    """A fault whose `at` is beyond the duration would never happen."""
    assert problems(with_fault({"kind": "crash", "name": "f", "target": "app", "at": "200s"})) == [
        "s.yaml: faults[0].at: starts at 200s, after the run ends (100s)"]


def test_replica_indices_out_of_range():
    """Replica indices must exist in the target group; the message gives the valid range."""
    fault = {"kind": "crash", "name": "f", "target": "app", "at": 10, "replicas": [0, 5]}
    assert problems(with_fault(fault)) == [
        "s.yaml: faults[0].replicas: replica indices [5] out of range: 'app' has 3 (indices 0..2)"]


def test_more_replicas_than_the_target_has():
    """A replica count above the group's size is refused."""
    fault = {"kind": "pause", "name": "f", "target": "app", "at": 10, "for": 1, "replicas": 4}
    assert problems(with_fault(fault)) == ["s.yaml: faults[0].replicas: 4 replicas asked for; 'app' has 3"]


def test_partition_between_unknown_names():
    """Each unknown name on either side of a partition is reported at its own index."""
    fault = {"kind": "partition", "name": "f", "at": 10, "between": [["app", "api"], ["dbx"]]}
    assert problems(with_fault(fault)) == [
        f"s.yaml: faults[0].between[0][1]: 'api' names no component; {KNOWN}",
        f"s.yaml: faults[0].between[1][0]: 'dbx' names no component; {KNOWN}"]


def test_region_no_component_has():
    """A region outage of a region nobody runs in says which regions exist."""
    assert problems(with_fault({"kind": "region_outage", "name": "f", "at": 10, "region": "eu"})) == [
        "s.yaml: faults[0].region: no component is in region 'eu'; regions: none: no component has a region"]


def test_packet_loss_on_an_edge_that_does_not_exist():
    """packet_loss needs a real call edge; the message lists the edges there are."""
    fault = {"kind": "packet_loss", "name": "f", "at": 10, "target": "app->db", "fraction": 0.1}
    assert problems(with_fault(fault)) == [
        "s.yaml: faults[0].target: no call edge app->db in this scenario; "
        "edges: app->cache, cache->db, lb->app, w->lb"]


def test_packet_loss_target_that_is_not_an_edge():
    """A packet_loss target without `->` is refused as malformed."""
    fault = {"kind": "packet_loss", "name": "f", "at": 10, "target": "app", "fraction": 0.1}
    assert problems(with_fault(fault)) == [
        "s.yaml: faults[0].target: expected a call edge 'caller->callee'; got 'app'"]


def test_fault_kind_that_cannot_hit_the_target_kind():
    """A slow fault cannot hit a cache; the message says what it can hit."""
    fault = {"kind": "slow", "name": "f", "at": 10, "target": "cache", "factor": 2}
    assert problems(with_fault(fault)) == [
        "s.yaml: faults[0].target: a slow fault can hit a service or database; 'cache' is a cache"]


def test_unknown_fault_kind_lists_the_known_kinds():
    """An unknown kind is refused at `kind`, listing every kind there is."""
    [line] = problems(with_fault({"kind": "explode", "name": "f", "at": 10, "target": "app"}))
    assert line.startswith("s.yaml: faults[0].kind: unknown kind 'explode'; expected one of: ")
    known = line.split("expected one of: ")[1].split(", ")
    assert set(known) == {*INJECTORS, "region_outage"}


BAD_FILES = {
    "missing target": ({"kind": "crash", "name": "f", "at": 10},
                       r"faults\[0\]: missing required key 'target'"),
    "unknown target": ({"kind": "crash", "name": "f", "target": "ap", "at": 10},
                       r"faults\[0\]\.target: 'ap' names no component"),
    "late": ({"kind": "crash", "name": "f", "target": "app", "at": 500}, r"faults\[0\]\.at: starts at 500s"),
    "wrong kind": ({"kind": "slow", "name": "f", "at": 10, "target": "cache", "factor": 2},
                   r"faults\[0\]\.target: a slow fault can hit a service or database"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_validate_command_exits_2_on_a_bad_fault(tmp_path, case):
    """`cascade validate FILE` prints FILE[:LINE]: key.path: message and exits with code 2."""
    fault, message = BAD_FILES[case]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(with_fault(fault), sort_keys=False))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2
    line = re.compile(rf"^{re.escape(str(path))}(:\d+)?: {message}", re.MULTILINE)
    assert line.search(result.stderr), result.stderr
    assert "Traceback" not in result.output
