"""Components no workload reaches are legal but idle: the loader warns instead of staying silent."""

from simulator.scenario import load_scenario, scenario_from_dict
from simulator.scenario.references import unreachable_components

SCENARIO = """\
name: idle-cache
duration: 1m
workload:
  - {name: w, entry: app, arrivals: {pattern: poisson, rate: 10/s}}
components:
  - {kind: service, name: app, service_time: 10ms, calls: [db]}
  - kind: cache
    name: cache
    capacity: 100
    keys: {dist: uniform, catalog: 1000}
    backend: db
  - {kind: database, name: db, connections: 4, query_time: 2ms}
"""


def spec_of(components, entries=("lb",)):
    """A validated spec with the given components and one workload per entry."""
    workload = [{"name": f"w{i}", "entry": entry, "arrivals": {"pattern": "poisson", "rate": 1}}
                for i, entry in enumerate(entries)]
    return scenario_from_dict({"name": "t", "duration": "1m", "workload": workload,
                               "components": components}).spec


def test_requests_travel_along_targets_calls_and_backends():
    """LB targets, calls (optional ones too) and cache backends all carry requests; the rest is idle."""
    spec = spec_of([
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "service_time": "1ms",
         "calls": [{"target": "cache", "optional": True}]},
        {"kind": "cache", "name": "cache", "capacity": 10, "keys": {"dist": "uniform", "catalog": 100},
         "backend": "db"},
        {"kind": "database", "name": "db", "connections": 1, "query_time": "1ms"},
        {"kind": "external", "name": "payments", "latency": "50ms"},
        {"kind": "service", "name": "batch", "service_time": "1ms", "calls": ["payments"]},
    ])
    assert unreachable_components(spec.workload, spec.components) == ["payments", "batch"]


def test_every_workload_entry_is_a_start():
    """A component that only a second workload enters is reached."""
    spec = spec_of([{"kind": "service", "name": "a", "service_time": "1ms"},
                    {"kind": "service", "name": "b", "service_time": "1ms"}], entries=("a", "b"))
    assert unreachable_components(spec.workload, spec.components) == []


def test_unreached_cache_warns_with_file_line_and_path(tmp_path):
    """A cache nobody calls gets one warning line: FILE:LINE: components.cache: warning: ..."""
    path = tmp_path / "idle.yaml"
    path.write_text(SCENARIO)
    [warning] = load_scenario(path).warnings
    assert str(warning) == (f"{path}:7: components.cache: warning: no workload reaches this component "
                            "(its metrics will be empty)")


def test_warning_names_the_variants_that_miss_a_component(tmp_path):
    """A component only some variants cut off is named with those variants."""
    path = tmp_path / "variants.yaml"
    external = "backend: db\n  - {kind: external, name: ext, latency: 5ms}"
    path.write_text(SCENARIO.replace("backend: db", external)
                    + "variants:\n  plain: {}\n  lean: {components.app.calls: []}\n")
    messages = [f"{w.path}: {w.message}" for w in load_scenario(path).warnings]
    unreached = "warning: no workload reaches this component"
    assert messages == [
        f"components.cache: {unreached} (its metrics will be empty)",
        f"components.ext: {unreached} (its metrics will be empty)",
        f"components.db: {unreached} in variant lean (its metrics will be empty)",
    ]


def test_fully_reached_scenario_has_no_warnings():
    """The built-in demo reaches every component."""
    assert load_scenario("three-tier-viral-spike").warnings == ()
