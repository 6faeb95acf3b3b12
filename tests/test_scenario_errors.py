"""Every way a scenario can be wrong gives a problem naming the file, the key path and the expectation."""

import copy
import re

import pytest
import yaml

from simulator.scenario import ScenarioError, apply_overrides, load_scenario, scenario_from_dict

BASE = {
    "name": "three-tier",
    "duration": "10m",
    "warmup": "1m",
    "workload": [
        {"name": "feed", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "300/s"},
         "client": {"timeout": "1s", "retry": {"max_attempts": 3}}},
    ],
    "components": [
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "replicas": 4, "workers": 16, "calls": ["api"],
         "service_time": {"dist": "lognormal", "mean": "15ms", "p99": "80ms"}},
        {"kind": "service", "name": "api", "service_time": {"dist": "exponential", "mean": "5ms"},
         "calls": [{"target": "cache"}]},
        {"kind": "cache", "name": "cache", "capacity": "20k", "backend": "db",
         "keys": {"dist": "zipf", "alpha": 0.9, "catalog": "1e6"}},
        {"kind": "database", "name": "db", "connections": 40, "query_time": "6ms"},
    ],
}
KNOWN = "known components: lb, app, api, cache, db"


@pytest.fixture
def problems(tmp_path):
    """Write BASE with some overrides applied and return the problem lines loading it raises."""

    def load(overrides=None, data=None):
        document = data if data is not None else apply_overrides(BASE, overrides or {})[0]
        path = tmp_path / "scenario.yaml"
        path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        prefix = re.compile(rf"^{re.escape(str(path))}(:\d+)?: ")
        return [prefix.sub("", line) for line in str(info.value).splitlines()]

    return load


def test_base_scenario_is_valid(tmp_path):
    """The scenario the error tests start from is itself valid."""
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(BASE))
    assert load_scenario(path).spec.name == "three-tier"


def test_problem_line_names_file_and_path(tmp_path):
    """Each line reads FILE:LINE: KEY.PATH: message."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(apply_overrides(BASE, {"components.api.service_time.mean": "fast"})[0]))
    line = path.read_text().splitlines().index("    mean: fast") + 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (f"{path}:{line}: components[2].service_time.mean: expected a duration such as "
                               "'250us', '20ms', '2s', '5m', '1h'; got 'fast'")


def test_problems_carry_file_path_and_message(tmp_path):
    """ScenarioError.problems holds structured Problem values."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(apply_overrides(BASE, {"components.app.replicas": 0})[0]))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert (problem.file, problem.path, problem.message) == (str(path), "components[1].replicas",
                                                             "must be at least 1; got 0")


def test_unknown_key_lists_allowed_keys(problems):
    """An unknown key is named, with a suggestion and every allowed key."""
    assert problems({"components.app.replica": 3}) == [
        "components[1].replica: unknown key 'replica' (did you mean 'replicas'?); expected one of: kind, "
        "name, replicas, workers, queue_limit, service_time, error_rate, calls, parallel, balance, region, "
            "drop_expired"]


def test_unknown_nested_key_path(problems):
    """Unknown keys deep inside a workload get their full path."""
    [line] = problems({"workload.feed.client.retry.max_attempt": 3})
    assert line.startswith("workload[0].client.retry.max_attempt: unknown key 'max_attempt'")


def test_unknown_top_level_key(problems):
    """An unknown top-level key lists the scenario's keys."""
    [line] = problems({"seeed": 3})
    assert line.startswith("seeed: unknown key 'seeed' (did you mean 'seed'?); expected one of: name, ")


def test_unknown_key_inside_call_shorthand_entry(problems):
    """Unknown keys in a call entry list the call's keys."""
    [line] = problems({"components.api.calls": [{"target": "cache", "optinal": True}]})
    assert line == "components[2].calls[0].optinal: unknown key 'optinal' (did you mean 'optional'?); " \
                   "expected one of: target, optional, timeout, retry"


def test_unknown_kind_lists_kinds(problems):
    """An unknown component kind lists the known kinds."""
    assert problems({"components.db.kind": "databse"}) == [
        "components[4].kind: unknown kind 'databse' (did you mean 'database'?); "
        "expected one of: service, load_balancer, database, cache, external, global, dns, registry, queue, "
        "counter"]


def test_unknown_dist_lists_dists(problems):
    """An unknown distribution names the known ones."""
    [line] = problems({"components.api.service_time.dist": "expo"})
    assert line.startswith("components[2].service_time.dist: unknown dist 'expo'; expected one of: constant")


def test_unknown_arrival_pattern(problems):
    """An unknown arrival pattern lists poisson, deterministic, closed and batch."""
    [line] = problems({"workload.feed.arrivals.pattern": "bursty"})
    assert line == "workload[0].arrivals.pattern: unknown pattern 'bursty'; expected one of: poisson, " \
                   "deterministic, closed, batch"


def test_missing_kind(problems):
    """A component without kind says kind is required and lists the kinds."""
    [line] = problems({"components.db": {"name": "db", "connections": 4, "query_time": "1ms"}})
    assert line.startswith("components[4]: missing required key 'kind'; expected one of: service,")


def test_missing_required_key(problems):
    """A missing required key is named at its parent's path."""
    assert problems({"components.api": {"kind": "service", "name": "api"}}) == [
        "components[2]: missing required key 'service_time'"]


def test_bad_literal_lists_options(problems):
    """A misspelt option lists the allowed values."""
    [line] = problems({"components.lb.policy": "least_connections"})
    assert line.startswith("components[0].policy: expected one of: round_robin, random, least_outstanding, ")


def test_entry_names_no_component(problems):
    """A workload entry naming nothing lists the known components."""
    assert problems({"workload.feed.entry": "lbb"}) == [
        f"workload[0].entry: 'lbb' names no component; {KNOWN}"]


def test_load_balancer_target_names_no_component(problems):
    """A load balancer target naming nothing is reported at targets."""
    assert problems({"components.lb.targets": "ap"}) == [
        f"components[0].targets: 'ap' names no component; {KNOWN}"]


def test_load_balancer_target_must_be_service(problems):
    """A load balancer can only spread traffic over a service's replicas."""
    assert problems({"components.lb.targets": "db"}) == [
        "components[0].targets: a load balancer must target a service; 'db' is a database"]


def test_cache_backend_names_no_component(problems):
    """A cache backend naming nothing is reported at backend."""
    assert problems({"components.cache.backend": "dbb"}) == [
        f"components[3].backend: 'dbb' names no component; {KNOWN}"]


def test_call_shorthand_names_no_component(problems):
    """A bare-string call naming nothing is reported at the list entry."""
    assert problems({"components.app.calls": ["apii"]}) == [
        f"components[1].calls[0]: 'apii' names no component; {KNOWN}"]


def test_call_mapping_names_no_component(problems):
    """A call mapping naming nothing is reported at its target key."""
    assert problems({"components.api.calls": [{"target": "cach"}]}) == [
        f"components[2].calls[0].target: 'cach' names no component; {KNOWN}"]


def test_weights_required_when_weighted(problems):
    """The weighted policy needs weights."""
    [line] = problems({"components.lb.policy": "weighted"})
    assert line.startswith("components[0]: missing required key 'weights'")


def test_weights_need_weighted_policy(problems):
    """Weights with another policy would be ignored, so they are an error."""
    [line] = problems({"components.lb.weights": [1, 1, 1, 1]})
    assert line.startswith("components[0].weights: weights need policy weighted")


def test_weights_one_per_replica(problems):
    """There must be one weight per replica of the target service."""
    assert problems({"components.lb.policy": "weighted", "components.lb.weights": [1, 2]}) == [
        "components[0].weights: expected one weight per replica of 'app' (4); got 2"]


def test_call_cycle_reported_with_path(problems):
    """A cycle in the calls is reported with the cycle spelled out."""
    assert problems({"components.api.calls": ["app"]}) == [
        "components[1].calls[0]: call graph has a cycle: app -> api -> app"]


def test_self_call_is_a_cycle(problems):
    """A service calling itself is a cycle."""
    looping = {"kind": "service", "name": "db", "service_time": "1ms", "calls": ["db"]}
    assert problems({"components.db": looping}) == [
        "components[4].calls[0]: call graph has a cycle: db -> db"]


def test_cycle_through_cache_backend(problems):
    """Cache backends count as calls when looking for cycles."""
    assert problems({"components.cache.backend": "app"}) == [
        "components[1].calls[0]: call graph has a cycle: app -> api -> cache -> app"]


@pytest.mark.parametrize("rate", ["0/s", "-3/s", 0, -5])
def test_non_positive_rate(problems, rate):
    """Zero and negative arrival rates are rejected at the rate's path."""
    [line] = problems({"workload.feed.arrivals.rate": rate})
    assert line.startswith("workload[0].arrivals.rate: a rate must be greater than zero")


def test_malformed_rate(problems):
    """A malformed rate says what a rate looks like."""
    [line] = problems({"workload.feed.arrivals.rate": "lots"})
    assert line.startswith("workload[0].arrivals.rate: expected a rate such as '300/s'")


def test_malformed_timeout(problems):
    """A malformed timeout says what a duration looks like."""
    [line] = problems({"workload.feed.client.timeout": "soon"})
    assert line.startswith("workload[0].client.timeout: expected a duration such as '250us'")


def test_malformed_count(problems):
    """A fractional cache capacity is rejected as not a whole number."""
    [line] = problems({"components.cache.capacity": "2.5"})
    assert line.startswith("components[3].capacity: expected a whole number")


def test_bool_is_not_a_replica_count(problems):
    """replicas: yes is an error, not one replica."""
    assert problems({"components.app.replicas": True}) == [
        "components[1].replicas: expected a whole number; got True"]


def test_bad_shorthand_duration_points_at_field(problems):
    """A bad bare-duration distribution is reported at the field, without the shorthand's inner keys."""
    [line] = problems({"components.api.service_time": "fast"})
    assert line.startswith("components[2].service_time: expected a duration")


def test_duplicate_component_names(problems):
    """Two components with one name are an error at the second."""
    data = copy.deepcopy(BASE)
    data["components"].append({"kind": "external", "name": "api", "latency": "100ms"})
    assert problems(data=data) == ["components[5].name: duplicate name 'api' (also components[2])"]


def test_component_name_pattern(problems):
    """Component names must be lowercase identifiers."""
    [line] = problems({"components.db.name": "DB", "components.cache.backend": "DB"})
    assert line.startswith("components[4].name: expected a lowercase name such as 'app'")


def test_warmup_must_be_shorter_than_duration(problems):
    """The warmup must end before the run does."""
    assert problems({"warmup": "10m"}) == ["warmup: must be less than duration (600s); got 600s"]


def test_profile_needs_open_loop(problems):
    """Closed-loop users cannot follow a rate profile."""
    [line] = problems({"workload.feed.arrivals": {"pattern": "closed", "users": 10, "think_time": "1s"},
                       "workload.feed.profile": [{"at": "1m", "rate": "10/s"}]})
    assert line.startswith("workload[0].profile: a profile needs open-loop arrivals")


def test_steps_must_be_sorted(problems):
    """Profile steps out of order are reported at the offending step."""
    [line] = problems({"workload.feed.profile": [{"at": "5m", "rate": "1k/s"}, {"at": "1m", "rate": "10/s"}]})
    assert line == "workload[0].profile[1].at: steps must be sorted by at; 60s comes after 300s"


def test_lognormal_tail_too_heavy(problems):
    """A p99/mean ratio no lognormal can have suggests median and sigma."""
    assert problems({"components.app.service_time.p99": "1s"}) == [
        "components[1].service_time.p99: a lognormal cannot have p99/mean above 14.9; "
        "give median and sigma instead"]


def test_normal_truncation_that_shifts_the_mean_is_refused(problems):
    """normal {mean: 1s, std: 2s} would average 2.02s; the std is refused, pointing to lognormal/gamma."""
    [line] = problems({"components.api.service_time": {"dist": "normal", "mean": "1s", "std": "2s"}})
    assert line.startswith("components[2].service_time.std: std 2s is too wide for mean 1s")
    assert "the mean would be 2.02s" in line and "lognormal" in line and "gamma" in line


def test_lognormal_p99_must_exceed_mean(problems):
    """A lognormal's p99 must be above its mean."""
    [line] = problems({"components.app.service_time.p99": "10ms"})
    assert line.startswith("components[1].service_time.p99: p99 must be greater than mean")


def test_lognormal_needs_exactly_one_pair(problems):
    """Giving both parameterisations is an error."""
    [line] = problems({"components.app.service_time.median": "10ms",
                       "components.app.service_time.sigma": 0.5})
    assert line == "components[1].service_time: give either mean and p99, or median and sigma, not both"


def test_lognormal_half_pair(problems):
    """A mean without p99 names the missing key."""
    [line] = problems({"components.app.service_time": {"dist": "lognormal", "mean": "15ms"}})
    assert line.startswith("components[1].service_time: missing required key 'p99'")


def test_pareto_bounds(problems):
    """A bounded Pareto needs low < high."""
    pareto = {"dist": "pareto", "low": "1s", "high": "1s", "alpha": 1.2}
    [line] = problems({"components.api.service_time": pareto})
    assert line.startswith("components[2].service_time.high: high must be greater than low")


def test_uniform_bounds(problems):
    """A uniform distribution needs low <= high."""
    [line] = problems({"components.api.service_time": {"dist": "uniform", "low": "2s", "high": "1s"}})
    assert line.startswith("components[2].service_time.high: high must be at least low")


def test_empirical_quantiles_need_ends(problems):
    """Empirical quantiles need p=0 and p=1."""
    empirical = {"dist": "empirical", "quantiles": {0: "1ms", 0.5: "2ms"}}
    [line] = problems({"components.api.service_time": empirical})
    assert line == "components[2].service_time.quantiles: quantiles need the key 1 (the maximum)"


def test_empirical_quantiles_non_decreasing(problems):
    """Empirical quantile values must not decrease."""
    [line] = problems({"components.api.service_time": {
        "dist": "empirical", "quantiles": {0: "1ms", 0.5: "5ms", 1: "2ms"}}})
    assert line.startswith("components[2].service_time.quantiles: quantile values must not decrease")


def test_empirical_quantile_key_out_of_range(problems):
    """Quantile keys outside [0, 1] are reported at the key."""
    [line] = problems({"components.api.service_time": {
        "dist": "empirical", "quantiles": {0: "1ms", 1.5: "5ms", 1: "6ms"}}})
    assert line.startswith("components[2].service_time.quantiles[1.5]: expected a fraction")


def test_all_problems_are_collected(problems):
    """Independent problems in different places are all reported at once."""
    lines = problems({"components.app.replica": 3, "workload.feed.arrivals.rate": "0/s",
                      "components.api.service_time.mean": "fast"})
    assert [line.split(":")[0] for line in lines] == [
        "workload[0].arrivals.rate", "components[1].replica", "components[2].service_time.mean"]


def test_reference_problems_are_collected(problems):
    """Several dangling names are each reported, not just the first."""
    lines = problems({"workload.feed.entry": "x", "components.cache.backend": "y"})
    assert [line.split(":")[0] for line in lines] == ["workload[0].entry", "components[3].backend"]


def test_yaml_syntax_error_has_line_and_column(tmp_path):
    """Invalid YAML is a problem with line and column."""
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\ncomponents: [a, b\nduration: 5s\n")
    with pytest.raises(ScenarioError, match=rf"^{path}: invalid YAML at line \d+, column \d+: "):
        load_scenario(path)


def test_top_level_must_be_mapping(tmp_path):
    """A file holding a list is rejected with what the top level should be."""
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ScenarioError, match=rf"^{path}: expected a mapping with name, duration, workload and "
                                            r"components at the top level; got a list$"):
        load_scenario(path)


def test_empty_file(tmp_path):
    """An empty file is a problem, not a crash."""
    path = tmp_path / "empty.yaml"
    path.write_text("")
    with pytest.raises(ScenarioError, match="the file is empty"):
        load_scenario(path)


def test_missing_file(tmp_path):
    """A path that does not exist and is no built-in name is a problem."""
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match=rf"^{missing}: no such file, and no built-in scenario"):
        load_scenario(missing)


def test_missing_csv_profile(problems):
    """A CSV profile that does not exist names the file."""
    [line] = problems({"workload.feed.profile": {"kind": "csv", "path": "traffic.csv"}})
    assert line.startswith("workload[0].profile.path: cannot read profile CSV ")
    assert "traffic.csv" in line


def test_bad_csv_profile_row_names_line(problems, tmp_path):
    """A CSV row that does not parse is reported with its file and line."""
    (tmp_path / "traffic.csv").write_text("time,rate\n0,100\n60,lots\n")
    [line] = problems({"workload.feed.profile": {"kind": "csv", "path": "traffic.csv"}})
    csv_file = tmp_path / "traffic.csv"
    assert line == f"workload[0].profile.path: {csv_file} line 3: expected a number for rate; got 'lots'"


def test_bad_csv_header(problems, tmp_path):
    """A CSV without the time,rate header is reported at line 1."""
    (tmp_path / "traffic.csv").write_text("t,r\n0,100\n")
    [line] = problems({"workload.feed.profile": {"kind": "csv", "path": "traffic.csv"}})
    assert "traffic.csv line 1: expected the header 'time,rate'" in line


def test_variant_schema_problem_names_variant(problems):
    """A variant that makes the scenario invalid is reported under variants.NAME, entries by name."""
    data = copy.deepcopy(BASE) | {"variants": {"big": {"components.app.replicas": 0}}}
    assert problems(data=data) == ["variants.big.components.app.replicas: must be at least 1; got 0"]


def test_bad_variant_path(problems):
    """A variant addressing a list entry that does not exist names the variant and the known entries."""
    data = copy.deepcopy(BASE) | {"variants": {"big": {"components.ap.replicas": 8}}}
    assert problems(data=data) == [
        "variants.big: components.ap: no entry named 'ap' in components (known: lb, app, api, cache, db) "
        "(did you mean 'app'?)"]


def test_variant_must_be_mapping(problems):
    """A variant that is not a mapping of overrides is reported at its name."""
    data = copy.deepcopy(BASE) | {"variants": {"big": 3}}
    assert problems(data=data) == ["variants.big: expected a mapping; got 3"]


def test_empty_component_list(problems):
    """A scenario needs at least one component."""
    assert problems({"components": []}) == ["components: needs at least 1 entry; got 0"]


def test_component_must_be_mapping(problems):
    """A bare string where a component mapping belongs says a mapping was expected."""
    assert problems({"components.db": "db"}) == ["components[4]: expected a mapping; got 'db'"]


def test_duplicate_key_is_an_error(tmp_path):
    """A key given twice in one mapping is reported with its line instead of silently overwritten."""
    from simulator.scenario import ScenarioError, load_scenario

    path = tmp_path / "dup.yaml"
    path.write_text("name: dup\nduration: 10s\nduration: 20s\nworkload: []\ncomponents: []\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    message = str(info.value)
    assert "dup.yaml" in message and "duplicate key 'duration'" in message and "line 3" in message


SMALL = """\
name: small
duration: 1m
workload:
  - {name: jobs, entry: server, arrivals: {pattern: poisson, rate: 8/s}}
components:
  - kind: service
    name: server
    replicas: 2
    service_time: 10ms
"""


def load_problems(tmp_path, text, **kwargs):
    """Write ``text`` to small.yaml and return (its path, the problems loading it raises)."""
    path = tmp_path / "small.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, **kwargs)
    return path, info.value.problems


def test_unknown_key_names_its_line(tmp_path):
    """An unknown key is reported at the line that has it."""
    text = SMALL.replace("    replicas: 2\n", "    replicas: 2\n    workerz: 3\n")
    path, [problem] = load_problems(tmp_path, text)
    assert problem.line == 9
    assert str(problem).startswith(f"{path}:9: components[0].workerz: unknown key 'workerz'")


def test_bad_value_in_flow_mapping_names_its_line(tmp_path):
    """A value inside a {...} mapping is reported at the line of that mapping."""
    path, [problem] = load_problems(tmp_path, SMALL.replace("rate: 8/s", "rate: lots"))
    assert str(problem).startswith(f"{path}:4: workload[0].arrivals.rate: expected a rate")


def test_missing_key_names_the_mapping_line(tmp_path):
    """A missing key is reported at the line of the mapping that lacks it."""
    path, [problem] = load_problems(tmp_path, SMALL.replace("    service_time: 10ms\n", ""))
    assert str(problem).startswith(f"{path}:6: components[0]: missing required key 'service_time'")


def test_dict_scenario_has_no_line():
    """Data that never was a file keeps the FILE: KEY.PATH: message form."""
    data = apply_overrides(BASE, {"components.app.replicas": 0})[0]
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, source="s.yaml")
    [problem] = info.value.problems
    assert problem.line is None
    assert str(problem) == "s.yaml: components[1].replicas: must be at least 1; got 0"


def test_set_value_has_no_line(tmp_path):
    """A problem with a value from --set does not point at the file's (different) value."""
    path, [problem] = load_problems(tmp_path, SMALL, overrides=["components.server.replicas=0"])
    assert str(problem) == f"{path}: components[0].replicas: must be at least 1; got 0"


def test_variant_problem_names_override_line(tmp_path):
    """A variant problem is reported at the line of the override that causes it."""
    text = SMALL + ("variants:\n  big:\n    workload.jobs.arrivals.rate: 1/s\n"
                    "    components.server.replicas: 0\n")
    path, [problem] = load_problems(tmp_path, text)
    assert str(problem) == f"{path}:13: variants.big.components.server.replicas: must be at least 1; got 0"


def test_variant_problem_lines_inside_and_outside_overrides(tmp_path):
    """A variant problem is found inside its override; a path the variant does not write gets no line."""
    text = SMALL + ("variants:\n  calls:\n    components.server.calls: [server]\n"
                    "  odd:\n    components.server: 3\n")
    path, problems = load_problems(tmp_path, text)
    assert [str(problem) for problem in problems] == [
        f"{path}:12: variants.calls.components.server.calls[0]: call graph has a cycle: server -> server",
        f"{path}: variants.odd.components[0]: expected a mapping; got 3",
    ]
