"""Dotted-path overrides, --set parsing, and scenario variants built on them."""

import copy

import pytest
import yaml

from simulator.scenario import (
    ScenarioError,
    apply_overrides,
    load_scenario,
    parse_set_option,
    scenario_from_dict,
)

DATA = {
    "name": "small",
    "duration": "5m",
    "workload": [{"name": "feed", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "100/s"}}],
    "components": [
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "replicas": 4, "service_time": "10ms", "calls": ["db"]},
        {"kind": "database", "name": "db", "connections": 10, "query_time": "2ms"},
    ],
}


def with_variants(**variants):
    """DATA with the given variants block."""
    return copy.deepcopy(DATA) | {"variants": variants}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("components.app.replicas=8", ("components.app.replicas", 8)),
     ("workload.feed.client.timeout=20ms", ("workload.feed.client.timeout", "20ms")),
     ("components.app.parallel=true", ("components.app.parallel", True)),
     ("components.app.queue_limit=", ("components.app.queue_limit", None)),
     ("components.app.service_time={dist: exponential, mean: 5ms}",
      ("components.app.service_time", {"dist": "exponential", "mean": "5ms"})),
     (" description = a=b ", ("description", "a=b"))],
)
def test_parse_set_option_reads_yaml_values(text, expected):
    """The value after '=' is parsed as YAML: ints, bools, unit strings, mappings."""
    assert parse_set_option(text) == expected


@pytest.mark.parametrize("text", ["components.app.replicas", "=8", ""])
def test_parse_set_option_malformed(text):
    """Text without PATH=VALUE is a problem that shows the expected form."""
    with pytest.raises(ScenarioError, match=r"expected PATH=VALUE, such as components.app.replicas=8") as err:
        parse_set_option(text)
    assert err.value.problems[0].path == f"--set {text}"


def test_parse_set_option_invalid_yaml_value():
    """A value that is not valid YAML is a problem."""
    with pytest.raises(ScenarioError, match="the value is not valid YAML"):
        parse_set_option("components.app.calls=[db")


def test_override_selects_list_entry_by_name():
    """A segment in a list of mappings selects the entry with that name."""
    data, issues = apply_overrides(DATA, {"components.app.replicas": 8})
    assert issues == [] and data["components"][1]["replicas"] == 8


def test_override_selects_list_entry_by_index():
    """A numeric segment selects a list entry by position."""
    data, _ = apply_overrides(DATA, {"components.2.connections": 20})
    assert data["components"][2]["connections"] == 20


def test_override_creates_missing_mappings():
    """Missing intermediate mappings are created, so a default block can be set."""
    data, issues = apply_overrides(DATA, {"workload.feed.client.timeout": "2s"})
    assert issues == [] and data["workload"][0]["client"] == {"timeout": "2s"}


def test_override_replaces_whole_entry():
    """The last segment may replace a whole list entry."""
    data, _ = apply_overrides(DATA, {"components.db": {"kind": "external", "name": "db", "latency": "5ms"}})
    assert data["components"][2]["kind"] == "external"


def test_override_never_mutates_input():
    """Overrides work on a deep copy; the base data is untouched."""
    before = copy.deepcopy(DATA)
    apply_overrides(DATA, {"components.app.replicas": 8, "workload.feed.client.timeout": "2s"})
    assert DATA == before


def test_override_accepts_pairs():
    """Overrides may be given as (path, value) pairs, applied in order."""
    data, _ = apply_overrides(DATA, [("components.app.replicas", 2), ("components.app.replicas", 3)])
    assert data["components"][1]["replicas"] == 3


def test_unknown_entry_name_is_an_issue():
    """A name that matches no list entry names the list and the known entries."""
    _, issues = apply_overrides(DATA, {"components.ap.replicas": 8})
    assert issues == [("components.ap",
                       "no entry named 'ap' in components (known: lb, app, db) (did you mean 'app'?)")]


def test_override_into_scalar_is_an_issue():
    """A path that continues below a scalar explains what sits there."""
    _, issues = apply_overrides(DATA, {"components.app.service_time.mean": "5ms"})
    assert issues == [("components.app.service_time.mean",
                       "cannot set 'mean' inside components.app.service_time, which is text ('10ms')")]


def test_empty_segment_is_an_issue():
    """A path with an empty segment is rejected."""
    _, issues = apply_overrides(DATA, {"components..replicas": 1})
    assert issues[0][1].startswith("empty key in the path")


def test_variant_names_in_file_order():
    """variant_names lists the variants as written."""
    scenario = scenario_from_dict(with_variants(zeta={}, alpha={"components.app.replicas": 8}))
    assert scenario.variant_names == ["zeta", "alpha"]


def test_variant_names_default_to_base():
    """A scenario without variants has the single variant 'base'."""
    assert scenario_from_dict(DATA).variant_names == ["base"]


def test_resolve_applies_variant():
    """resolve(name) returns the spec with the variant's overrides."""
    scenario = scenario_from_dict(with_variants(big={"components.app.replicas": 8}))
    assert scenario.resolve("big").component("app").replicas == 8
    assert scenario.spec.component("app").replicas == 4


@pytest.mark.parametrize("name", [None, "base"])
def test_resolve_base(name):
    """None and 'base' resolve to the unmodified spec."""
    scenario = scenario_from_dict(with_variants(big={"components.app.replicas": 8}))
    assert scenario.resolve(name) == scenario.spec


def test_resolve_does_not_mutate_raw():
    """Resolving a variant leaves the scenario's raw data as it was."""
    scenario = scenario_from_dict(with_variants(big={"components.app.replicas": 8}))
    before = copy.deepcopy(scenario.raw)
    scenario.resolve("big")
    assert scenario.raw == before


def test_resolve_unknown_variant_lists_known():
    """An unknown variant name is an error listing the known variants."""
    scenario = scenario_from_dict(with_variants(big={}, small={}))
    expected = r"^<dict>: variants: no variant named 'bigg'; known variants: big, small \(did you mean"
    with pytest.raises(ScenarioError, match=expected):
        scenario.resolve("bigg")


def test_null_variant_means_no_overrides():
    """'baseline:' with nothing after it is a variant without overrides."""
    scenario = scenario_from_dict(with_variants(baseline=None))
    assert scenario.resolve("baseline").components == scenario.spec.components


def test_all_variants_validated_at_load():
    """A broken variant fails loading even if nobody asks for it, naming every broken variant."""
    data = with_variants(ok={}, big={"components.app.replicas": 0}, odd={"components.db.connections": "many"})
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    assert [problem.path for problem in info.value.problems] == [
        "variants.big.components.app.replicas", "variants.odd.components.db.connections"]


def test_variant_reference_problem_names_variant():
    """Semantic checks also run for each variant."""
    expected = r"^s.yaml: variants.loop.components.app.calls\[0\]: call graph has a cycle: app -> app$"
    with pytest.raises(ScenarioError, match=expected):
        scenario_from_dict(with_variants(loop={"components.app.calls": ["app"]}), source="s.yaml")


def test_set_overrides_base(tmp_path):
    """--set values change the base scenario."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(DATA))
    scenario = load_scenario(path, overrides=["components.app.replicas=8", "duration=1h"])
    assert scenario.spec.component("app").replicas == 8 and scenario.spec.duration == 3600


def test_set_wins_over_variant():
    """The command line is applied after a variant, so it wins on the same key."""
    scenario = scenario_from_dict(with_variants(big={"components.app.replicas": 16}),
                                  overrides=["components.app.replicas=8"])
    assert scenario.resolve("big").component("app").replicas == 8


def test_set_bad_path_is_a_problem():
    """A --set path naming no entry is reported under --set."""
    expected = r"^s.yaml: --set: components.ap: no entry named 'ap' in components"
    with pytest.raises(ScenarioError, match=expected):
        scenario_from_dict(DATA, source="s.yaml", overrides=["components.ap.replicas=8"])


def test_set_invalid_value_is_a_schema_problem():
    """A --set value the schema rejects is reported at its key path."""
    with pytest.raises(ScenarioError, match=r"^s.yaml: components\[1\].replicas: must be at least 1; got 0$"):
        scenario_from_dict(DATA, source="s.yaml", overrides=["components.app.replicas=0"])


def test_all_malformed_set_options_reported():
    """Every malformed --set is reported, not only the first."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(DATA, overrides=["a", "b"])
    assert [problem.path for problem in info.value.problems] == ["--set a", "--set b"]
