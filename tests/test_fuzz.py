"""Fuzzing the front door: whatever a scenario file holds, loading and validating it ends in a
scenario or in the project's user error (``ScenarioError``: exit 2, one line per problem naming the
file), never another exception and never a hang.

Documents come two ways. Mutations of the built-in scenarios (a value replaced by one of the wrong
type, a negative or huge number, an unknown key, a key deleted) reach every corner the real
files use. Structured generation builds entries of each section (faults, mitigations, autoscalers,
deployments, queues, batch workloads, variants, expect) from the spec models' own fields, with
values that are sometimes right and sometimes not, so the cross-field checks get entries that
pass the schema and then refer to the wrong thing. A few generated documents that validate are
also run for a couple of simulated seconds.

Hypothesis is derandomized and has no example database: every run of the suite tries the same
documents, so a CI result does not depend on luck. The example counts keep the file near a minute.
"""

from __future__ import annotations

import copy
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from simulator.scenario import ScenarioError, builtin_scenarios, load_scenario, scenario_from_dict
from simulator.scenario.autoscaling import AutoscalerSpec
from simulator.scenario.deployment import DeploymentSpec
from simulator.scenario.expectations import ExpectationSpec
from simulator.scenario.faults import FaultSpec
from simulator.scenario.messages import type_members
from simulator.scenario.mitigations import ALL_SPECS
from simulator.scenario.queue import QueueSpec
from simulator.scenario.workload import BatchArrivalsSpec


@pytest.fixture(scope="module")
def work_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where documents are written to be read back as files (one folder for the whole module)."""
    return tmp_path_factory.mktemp("fuzz")


FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
HANG_SECONDS = 10
"""Longest any one document may take to load (or to run, for the short runs): more is a hang."""

BUILTINS = {entry.name: yaml.safe_load(entry.path.read_text(encoding="utf-8"))
            for entry in builtin_scenarios()}

HOSTILE = [None, True, False, 0, -1, -0.5, 1, 2.5, 10**30, -(10**30), 1e308, float("inf"), float("nan"),
           "", "abc", "-5s", "1e400s", "nan", "inf", "5s", "0s", "10ms", "50%", "150%", "10/s", "1e12/s",
           "x->y", "$x$", "a/b", "é", "a" * 300, [], [1, "a"], {}, {"unknown": 1}, {"kind": "nope"}]
"""Values put where they do not belong: wrong types, bad units, out-of-range and non-finite numbers."""

TAME = [0, 1, 2, 3, 0.5, "0s", "1s", "2s", "500ms", "10ms", "50%", "10%", "5/s", "20/s", True, False]
"""Plausible values, for documents that should often validate (and are run)."""


def _pick(draw: st.DrawFn, pool: list[Any]) -> Any:
    """A copy of one value of ``pool``: a document must never share (and mutate) the pool's ``{}``."""
    return copy.deepcopy(draw(st.sampled_from(pool)))


@contextmanager
def _no_hang(seconds: int = HANG_SECONDS) -> Iterator[None]:
    """Fail the example, not the suite, if it takes longer than ``seconds`` of wall-clock time."""
    def alarm(_signum: int, _frame: Any) -> None:
        raise TimeoutError(f"took more than {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _outcome(document: Any, *, into: Path | None = None) -> Any:
    """Load ``document`` (written as YAML into the folder ``into`` and read back, or as a dict); a
    scenario or ``None`` when refused with a proper user error; any other exception propagates and
    fails the example."""
    with _no_hang():
        try:
            if into is not None:
                path = into / "fuzz.yaml"
                text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
                path.write_text(text, encoding="utf-8")
                return load_scenario(path)
            return scenario_from_dict(document, source="fuzz.yaml")
        except ScenarioError as error:
            _assert_one_line_each(error)
            return None


def _assert_one_line_each(error: ScenarioError) -> None:
    """Exit 2 output: at least one problem, each a single line that names the file."""
    assert error.problems
    for problem in error.problems:
        text = str(problem)
        assert "\n" not in text and text.split(":", 1)[0].endswith("fuzz.yaml"), text


# ---- mutations of the built-in scenarios --------------------------------------------------------

def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path in the document (mappings and lists), the document itself first."""
    yield path
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _places(child, (*path, key))


def _parent(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


@st.composite
def mutated_builtins(draw: st.DrawFn) -> Any:
    """A built-in scenario with one to three things broken in it."""
    document = copy.deepcopy(BUILTINS[draw(st.sampled_from(sorted(BUILTINS)))])
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(document))[1:]
        if not places:
            break
        path = draw(st.sampled_from(places))
        parent, key = _parent(document, path), path[-1]
        action = draw(st.sampled_from(["replace", "replace", "delete", "unknown_key", "wrap", "duplicate",
                                       "rekey"]))
        if action == "replace":
            parent[key] = _pick(draw, HOSTILE)
        elif action == "delete":
            del parent[key]
        elif action == "unknown_key" and isinstance(parent[key], dict):
            parent[key][draw(st.sampled_from(["replicaz", "kind", "name", "1", "enabled"]))] = \
                _pick(draw, HOSTILE)
        elif action == "wrap":
            parent[key] = [parent[key]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif action == "rekey" and isinstance(parent, dict):  # keys YAML allows: numbers, null, dotted text
            parent[draw(st.sampled_from([1, 2.5, None, True, "a.b", "[0]", ""]))] = parent.pop(key)
    return document


@settings(FUZZ, max_examples=1500)
@given(mutated_builtins(), st.booleans())
def test_mutated_builtin_scenarios_load_or_are_refused_cleanly(work_dir, document, as_file):
    _outcome(document, into=work_dir if as_file else None)


SET_VALUES = ["8", "-1", "0", "1e400", "abc", "[1, 2]", "{a: 1}", "", "null", "5s", "-5s", "true", "50%",
              "{dist: exponential, mean: 5ms}", "[", "a: b: c", "*x", "&a [*a]", "9" * 40]


@settings(FUZZ, max_examples=400)
@given(st.sampled_from(sorted(BUILTINS)), st.data())
def test_set_and_duration_overrides_are_judged_like_the_file(name, data):
    """``--set PATH=VALUE`` on any path of a built-in scenario (or one it lacks), then ``--duration``:
    a scenario or a user error, like a file that says the same."""
    from simulator.scenario.overrides import with_duration

    paths = [".".join(str(part) for part in path) for path in _places(BUILTINS[name])][1:]
    path = data.draw(st.sampled_from([*paths, "nope.x", "components.nope.replicas", "a..b", "=", ""]))
    value = data.draw(st.sampled_from(SET_VALUES))
    duration = data.draw(st.sampled_from([0.001, 1.0, 30.0, 120.0, 1e6]))
    with _no_hang():
        try:
            scenario = load_scenario(name, overrides=[f"{path}={value}"])
            for variant in scenario.variant_names:
                with_duration(scenario.resolve(variant), duration, "fuzz.yaml")
        except ScenarioError as error:
            assert error.problems and all("\n" not in str(problem) for problem in error.problems)


# ---- structured generation, section by section ---------------------------------------------------

def _value(draw: st.DrawFn, annotation: Any, names: list[str], pool: list[Any], depth: int,
           metadata: Any = ()) -> Any:
    """A value for a field: often of the right shape (a model's fields, a literal's options, a
    list of such, a value of the field's unit), otherwise anything from the pool or a name."""
    members = type_members(annotation)
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    literals = [option for m in members if get_origin(m) is Literal for option in get_args(m)]
    lists = [get_args(m)[0] for m in members if get_origin(m) is list and get_args(m)]
    choice = draw(st.integers(0, 9))
    if models and depth < 3 and choice < 6:
        return _entry(draw, draw(st.sampled_from(models)), names, pool, depth + 1)
    if literals and choice < 7:
        return draw(st.sampled_from(literals))
    if lists and depth < 3 and choice < 7:
        return [_value(draw, lists[0], names, pool, depth + 1) for _ in range(draw(st.integers(1, 2)))]
    unit = _unit_values(f"{annotation!r} {metadata!r}".lower(), names)
    if unit and (pool is TAME or choice < 7):
        return draw(st.sampled_from(unit))
    if choice < 8 and names:
        return draw(st.sampled_from(names))
    return _pick(draw, pool)


def _unit_values(text: str, names: list[str]) -> list[Any]:
    """Plausible values for a field whose type reads ``text`` (its annotation and validators)."""
    if "duration" in text:
        return ["0s", "500ms", "1s", "2s", "10ms"]
    if "rate" in text or "/s" in text:
        return ["5/s", "20/s", 10]
    if "fraction" in text or "%" in text:
        return ["10%", "50%", 0.9]
    if "count" in text or "int" in text:
        return [1, 2, 3, 10]
    if "bool" in text:
        return [True, False]
    if "float" in text or "number" in text:
        return [0.5, 1, 2, 1.5]
    if "str" in text:
        return names
    return []


def _entry(draw: st.DrawFn, model: type[BaseModel], names: list[str], pool: list[Any],
           depth: int = 0) -> dict:
    """A mapping for ``model``: each field present or not, with a value of the right shape or not;
    the discriminator (kind, pattern, dist) nearly always, so the entry reaches its own checks."""
    entry = {}
    optional_odds = 2 if pool is TAME else 4
    for field_name, field in model.model_fields.items():
        keep = draw(st.integers(0, 9))
        if field_name in ("kind", "pattern", "dist") and get_origin(field.annotation) is Literal:
            if keep < 9:
                entry[field_name] = get_args(field.annotation)[0]
        elif field_name == "name":
            entry[field_name] = f"gen{draw(st.integers(0, 3))}" if keep < 9 else _pick(draw, pool)
        elif keep < (9 if field.is_required() else optional_odds):
            entry[field_name] = _value(draw, field.annotation, names, pool, depth, field.metadata)
    if pool is not TAME and draw(st.integers(0, 19)) == 0:
        entry["replicaz"] = 1
    return entry


def _names(document: dict) -> list[str]:
    """Component and workload names, and call edges, for targets that often exist."""
    components = [c.get("name") for c in document.get("components", []) if isinstance(c, dict)]
    workloads = [w for w in document.get("workload", []) if isinstance(w, dict)]
    edges = [f"{w.get('name')}->{w.get('entry')}" for w in workloads]
    workloads = [w.get("name") for w in workloads]
    return [name for name in components + workloads + edges if isinstance(name, str)]


SECTIONS = {
    "faults": type_members(FaultSpec),
    "mitigations": [spec for spec in ALL_SPECS if spec not in (AutoscalerSpec, DeploymentSpec)],
    "autoscalers": [AutoscalerSpec],
    "deployments": [DeploymentSpec],
    "queues": [QueueSpec],
    "batch": [BatchArrivalsSpec],
    "expect": [ExpectationSpec],
}


def _add_section(draw: st.DrawFn, document: dict, section: str, pool: list[Any]) -> None:
    names = _names(document)
    entries = [_entry(draw, draw(st.sampled_from(SECTIONS[section])), names, pool)
               for _ in range(1 if pool is TAME else draw(st.integers(1, 3)))]
    if section in ("faults", "mitigations", "autoscalers", "deployments"):
        key = section if section in ("faults", "mitigations") else "mitigations"
        for index, entry in enumerate(entries):
            entry["name"] = f"gen{index}" if pool is TAME else entry.get("name", f"gen{index}")
        document[key] = [*(document.get(key) or []), *entries]
    elif section == "queues":
        document["components"] = [*document["components"], *entries]
    elif section == "batch":
        entry_point = document["workload"][0]["entry"]
        batches = [{"name": f"batch{i}", "entry": entry_point, "arrivals": {**entry, "pattern": "batch"}}
                   for i, entry in enumerate(entries)]
        document["workload"] = [*document["workload"], *batches]
    else:
        document["expect"] = entries


def _add_variants(draw: st.DrawFn, document: dict, pool: list[Any]) -> None:
    """Variants overriding paths that exist (a name, a number) or not, with right or wrong values."""
    paths = [".".join(str(part) for part in path) for path in _places(document)][1:]
    variants = {}
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(["a", "b", "fast", "a/b", "a-b", "Fast", "", "x" * 120, "$m$", "é"]))
        variants[name] = {draw(st.sampled_from(paths)): _pick(draw, pool)
                          for _ in range(draw(st.integers(0, 2)))}
    document["variants"] = variants


@st.composite
def generated_documents(draw: st.DrawFn, pool: list[Any] = HOSTILE) -> Any:
    """A built-in scenario with generated entries in one or two sections, or generated variants."""
    document = copy.deepcopy(BUILTINS[draw(st.sampled_from(sorted(BUILTINS)))])
    document.pop("variants", None) if draw(st.booleans()) else None
    sections = st.lists(st.sampled_from([*SECTIONS, "variants"]), min_size=1, max_size=2, unique=True)
    for section in draw(sections):
        if section == "variants":
            _add_variants(draw, document, pool)
        else:
            _add_section(draw, document, section, pool)
    return document


@settings(FUZZ, max_examples=2000)
@given(generated_documents(), st.booleans())
def test_generated_sections_load_or_are_refused_cleanly(work_dir, document, as_file):
    _outcome(document, into=work_dir if as_file else None)


TINY = {
    "name": "tiny", "duration": "20s", "seed": 1,
    "workload": [{"name": "users", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "20/s"},
                  "client": {"timeout": "1s", "retry": {"max_attempts": 2}}}],
    "components": [
        {"kind": "load_balancer", "name": "lb", "targets": "app"},
        {"kind": "service", "name": "app", "replicas": 2, "workers": 4, "service_time": "20ms",
         "calls": [{"target": "db"}]},
        {"kind": "database", "name": "db", "connections": 10, "query_time": "5ms"},
    ],
}


@st.composite
def tame_documents(draw: st.DrawFn) -> Any:
    """A tiny three-tier scenario with plausible generated faults, mitigations, queues or batches."""
    document = copy.deepcopy(TINY)
    _add_section(draw, document, draw(st.sampled_from(sorted(set(SECTIONS) - {"expect"}))), TAME)
    return document


@settings(FUZZ, max_examples=600)
@given(tame_documents())
def test_generated_documents_that_validate_also_run(document):
    """A 20-second run (400 requests) of each document that validates: no exception but a user error."""
    from simulator.runner import run

    scenario = _outcome(document)
    if scenario is None:
        return
    with _no_hang():
        try:
            run(scenario)
        except ScenarioError as error:
            _assert_one_line_each(error)


def test_the_generators_reach_valid_documents_too():
    """Fuzzing only invalid documents would never reach the checks behind the schema or the runs."""
    accepted = []

    @settings(FUZZ, max_examples=60)
    @given(tame_documents())
    def collect(document):
        accepted.append(_outcome(document) is not None)

    collect()
    assert 0.05 < sum(accepted) / len(accepted) < 0.95, sum(accepted)
