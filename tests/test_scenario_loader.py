"""Loading scenario files into typed specs: schema, shorthands, means, built-ins."""

import json
import math
import pickle
from pathlib import Path

import pydantic
import pytest
import yaml

from simulator.scenario import ScenarioError, builtin_scenarios, catalog, load_scenario, scenario_from_dict
from simulator.scenario.schema import (
    CallSpec,
    ClientSpec,
    ConstantDistSpec,
    EmpiricalDistSpec,
    ErlangDistSpec,
    ExponentialDistSpec,
    GammaDistSpec,
    LognormalDistSpec,
    NormalDistSpec,
    ParetoDistSpec,
    PoissonArrivalsSpec,
    ScenarioSpec,
    ServiceSpec,
    StepsProfileSpec,
    UniformDistSpec,
    WorkloadSpec,
    ZipfKeysSpec,
)
from tests.theory import MMC_CONTRACT  # noqa: E402

MMC = MMC_CONTRACT


def minimal(**component):
    """A one-service scenario whose service has the given extra keys."""
    service = {"kind": "service", "name": "app", "service_time": "10ms"} | component
    return {"name": "t", "duration": "1m", "components": [service],
            "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": 10}}]}


@pytest.fixture
def mmc_path(tmp_path):
    path = tmp_path / "mmc.yaml"
    path.write_text(MMC)
    return path


def test_mmc_file_accepted_unchanged(mmc_path):
    """The M/M/c example loads as written, with units converted to seconds and per second."""
    spec = load_scenario(mmc_path).spec
    assert (spec.duration, spec.warmup, spec.seed) == (20000.0, 1000.0, 1)
    assert spec.workload[0].arrivals == PoissonArrivalsSpec(rate=8.0)
    assert spec.component("server").service_time == ExponentialDistSpec(mean=1.0)


def test_scenario_records_source_and_base_dir(mmc_path):
    """The Scenario remembers its file and directory."""
    scenario = load_scenario(mmc_path)
    assert (scenario.source, scenario.base_dir, scenario.name) == (str(mmc_path), mmc_path.parent, "mmc")


def test_json_schema_serialises():
    """ScenarioSpec.model_json_schema() is JSON-serialisable."""
    json.dumps(ScenarioSpec.model_json_schema())


def test_json_schema_descriptions_state_units():
    """Field descriptions in the JSON schema state units."""
    properties = ScenarioSpec.model_json_schema()["properties"]
    assert "seconds" in properties["duration"]["description"]


def string_types(node):
    """Every {"type": "string", ...} schema nested anywhere inside node."""
    if isinstance(node, dict):
        nested = [found for value in node.values() for found in string_types(value)]
        return [node] * (node.get("type") == "string") + nested
    return [s for value in node for s in string_types(value)] if isinstance(node, list) else []


@pytest.mark.parametrize(("model", "field"), [("ServiceSpec", "service_time"), ("ServiceSpec", "calls"),
                                              ("ServiceSpec", "replicas")])
def test_json_schema_accepts_shorthands(model, field):
    """Editors are told that a distribution may be "20ms" and a call a bare name, but replicas not text."""
    schema = ScenarioSpec.model_json_schema()["$defs"][model]["properties"][field]
    assert bool(string_types(schema)) == (field != "replicas")


def test_dist_shorthand_is_constant():
    """A bare duration for a distribution means a constant."""
    spec = scenario_from_dict(minimal(service_time="20ms")).spec
    assert spec.component("app").service_time == ConstantDistSpec(value=0.02)


def test_call_shorthand_is_target():
    """A bare string in calls means {target: name}."""
    data = minimal(calls=["db"])
    data["components"].append({"kind": "external", "name": "db", "latency": "5ms"})
    assert scenario_from_dict(data).spec.component("app").calls == [CallSpec(target="db")]


def test_profile_list_shorthand_is_steps():
    """A bare list for a profile means steps."""
    data = minimal()
    data["workload"][0]["profile"] = [{"at": "1m", "rate": "20/s", "ramp": "10s"}]
    profile = scenario_from_dict(data).spec.workload[0].profile
    assert isinstance(profile, StepsProfileSpec) and profile.steps[0].ramp == 10.0


def test_csv_profile_resolved_against_scenario_dir(tmp_path):
    """A CSV profile path is relative to the scenario file's directory."""
    (tmp_path / "traffic.csv").write_text("time,rate\n0,10\n60,20\n")
    data = minimal()
    data["workload"][0]["profile"] = {"kind": "csv", "path": "traffic.csv"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_scenario(path).spec.workload[0].profile.path == "traffic.csv"


def test_defaults():
    """Omitted keys take the documented defaults."""
    spec = scenario_from_dict(minimal()).spec
    service = spec.component("app")
    assert (service.replicas, service.workers, service.queue_limit, service.calls) == (1, 1, None, [])
    assert spec.workload[0].client == ClientSpec()
    assert spec.workload[0].client.retry_on == ["error", "timeout", "rejected", "unavailable"]
    assert (spec.warmup, spec.replications, spec.variants) == (0.0, 1, {})


def test_cache_defaults_and_keys():
    """A cache gets a 0.5 ms constant hit time and parses its key catalog."""
    data = minimal(calls=["cache"])
    data["components"] += [
        {"kind": "cache", "name": "cache", "capacity": "20k", "backend": "db",
         "keys": {"dist": "zipf", "alpha": 0.9, "catalog": "1e6"}},
        {"kind": "database", "name": "db", "connections": 4, "query_time": "5ms"},
    ]
    cache = scenario_from_dict(data).spec.component("cache")
    assert cache.hit_time == ConstantDistSpec(value=0.0005)
    assert cache.keys == ZipfKeysSpec(alpha=0.9, catalog=1_000_000) and cache.capacity == 20000


def test_effective_sample_interval():
    """Without sample_interval the series step is max(1 s, duration / 2000)."""
    assert scenario_from_dict(minimal()).spec.effective_sample_interval == 1.0
    data = minimal() | {"duration": "10h"}
    assert scenario_from_dict(data).spec.effective_sample_interval == 18.0


def test_components_by_name_keeps_file_order():
    """components_by_name maps names to specs in file order."""
    data = minimal(calls=["db"])
    data["components"].append({"kind": "external", "name": "db", "latency": "5ms"})
    assert list(scenario_from_dict(data).spec.components_by_name) == ["app", "db"]


def test_component_unknown_name():
    """component() with an unknown name raises KeyError listing the known ones."""
    with pytest.raises(KeyError, match="no component named 'nope'; known: app"):
        scenario_from_dict(minimal()).spec.component("nope")


def test_specs_are_frozen():
    """Specs cannot be changed after validation."""
    spec = scenario_from_dict(minimal()).spec
    with pytest.raises(pydantic.ValidationError):
        spec.duration = 5


def test_specs_can_be_built_in_python():
    """Specs can be constructed directly, with the discriminators defaulted."""
    spec = ScenarioSpec(
        name="py", duration=60,
        workload=[WorkloadSpec(name="w", entry="app", arrivals=PoissonArrivalsSpec(rate=5))],
        components=[ServiceSpec(name="app", service_time=ExponentialDistSpec(mean=0.01))],
    )
    assert spec.component("app").kind == "service"


def test_scenario_pickles(mmc_path):
    """A Scenario survives pickling, as process pools require."""
    scenario = load_scenario(mmc_path)
    assert pickle.loads(pickle.dumps(scenario)).spec == scenario.spec


@pytest.mark.parametrize(
    ("dist", "mean"),
    [(ConstantDistSpec(value=0.02), 0.02),
     (ExponentialDistSpec(mean=0.5), 0.5),
     (UniformDistSpec(low=1, high=3), 2.0),
     (NormalDistSpec(mean=5, std=0), 5.0),
     (NormalDistSpec.model_construct(mean=0.0, std=1.0), math.sqrt(2 / math.pi)),  # the schema refuses it
     (LognormalDistSpec(median=1, sigma=0.5), math.exp(0.125)),
     (LognormalDistSpec(mean=0.015, p99=0.08), 0.015),
     (GammaDistSpec(mean=2, shape=0.5), 2.0),
     (ErlangDistSpec(mean=3, k=4), 3.0),
     (ParetoDistSpec(low=1, high=100, alpha=1.5), 1 / 0.999 * 3 * 0.9),
     (ParetoDistSpec(low=1, high=math.e, alpha=1), math.e / (math.e - 1)),
     (EmpiricalDistSpec(samples=[1, 2, 6]), 3.0),
     (EmpiricalDistSpec(quantiles={0: 0, 0.5: 1, 1: 3}), 0.5 * 0.5 + 0.5 * 2)],
)
def test_analytic_mean(dist, mean):
    """Every distribution spec reports its analytic mean in seconds."""
    assert dist.analytic_mean() == pytest.approx(mean)


def test_lognormal_by_mean_and_p99_reproduces_p99():
    """The (mu, sigma) derived from mean and p99 give back that p99."""
    mu, sigma = LognormalDistSpec(mean=0.015, p99=0.08).mu_sigma()
    assert math.exp(mu + 2.3263478740408408 * sigma) == pytest.approx(0.08)


def test_load_builtin_by_name(tmp_path, monkeypatch):
    """A name that is not a file is looked up among the built-in scenarios."""
    (tmp_path / "mmc.yaml").write_text(MMC)
    monkeypatch.setattr(catalog, "SCENARIO_DIRS", (tmp_path / "missing", tmp_path))
    monkeypatch.chdir(tmp_path / "..")
    assert load_scenario("mmc").spec.name == "mmc"


def test_unknown_builtin_lists_builtins(tmp_path, monkeypatch):
    """An unknown name lists the built-in scenarios, with a suggestion."""
    (tmp_path / "mmc.yaml").write_text(MMC)
    monkeypatch.setattr(catalog, "SCENARIO_DIRS", (tmp_path,))
    with pytest.raises(ScenarioError, match=r"^mmk: no such file, and no built-in scenario of that name; "
                                            r"built-in scenarios: mmc \(did you mean 'mmc'\?\)$"):
        load_scenario("mmk")


def test_builtin_scenarios_lists_first_sentence(tmp_path):
    """builtin_scenarios gives name, path and the description's first sentence, once per name."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "spike.yaml").write_text("name: spike\ndescription: A viral post.\n  Then the database slows.\n")
    (second / "spike.yaml").write_text("name: other\n")
    (second / "broken.yaml").write_text("name: [\n")
    listing = builtin_scenarios([first, second])
    assert [(entry.name, entry.description) for entry in listing] == [
        ("broken", ""), ("spike", "A viral post.")]
    assert listing[1].path == first / "spike.yaml"


def test_repository_scenarios_directory_is_searched():
    """The repo-level scenarios/ directory is one of the built-in locations."""
    assert Path(__file__).resolve().parents[1] / "scenarios" in catalog.SCENARIO_DIRS
