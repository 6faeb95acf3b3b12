"""Dotted-path overrides, shared by scenario ``variants:`` and the CLI's ``--set PATH=VALUE``.

``components.app.replicas: 8`` walks the raw scenario data: a segment is a mapping key, or,
in a list of mappings, the entry whose ``name`` equals it (a number selects by index). The
overrides change raw data, before validation, so a variant is judged by exactly the same
schema and checks as the base scenario.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from simulator.scenario.problems import Problem, ScenarioError, suggest
from simulator.scenario.yamlread import load_limited

COMMAND_LINE = "<command line>"

Issue = tuple[str, str]
"""(the part of the override path that failed, what is wrong there)."""


def parse_set_option(text: str) -> tuple[str, Any]:
    """Split ``"components.app.replicas=8"`` into ``("components.app.replicas", 8)``.

    The value is read as YAML, so ``8`` is an int, ``true`` a bool, ``20ms`` stays a string
    for the unit parsers, and ``{dist: exponential, mean: 5ms}`` is a mapping.

    Raises:
        ScenarioError: The text has no ``=``, no path, or a value that is not valid YAML.
    """
    path, separator, value = text.partition("=")
    path = path.strip()
    if not separator or not path:
        raise _set_error(text, "expected PATH=VALUE, such as components.app.replicas=8")
    try:
        return path, load_limited(value)[0]
    except yaml.YAMLError as error:
        raise _set_error(text, f"the value is not valid YAML: {_first_line(error)}") from None


def _set_error(text: str, message: str) -> ScenarioError:
    return ScenarioError([Problem(COMMAND_LINE, f"--set {text}", message)])


def _first_line(error: yaml.YAMLError) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def override_items(overrides: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Overrides as (path, value) pairs, whether given as a mapping or as pairs."""
    return list(overrides.items() if isinstance(overrides, Mapping) else overrides)


def apply_overrides(
    data: Mapping[str, Any], overrides: Mapping[str, Any] | Iterable[tuple[str, Any]]
) -> tuple[dict[str, Any], list[Issue]]:
    """A deep copy of ``data`` with every override applied, and the overrides that could not be.

    The input is never mutated: variants are all derived from the same base data.
    """
    result = copy.deepcopy(dict(data))
    issues = []
    for path, value in override_items(overrides):
        issue = set_path(result, str(path), copy.deepcopy(value))
        if issue is not None:
            issues.append(issue)
    return result, issues


def set_path(data: dict[str, Any], path: str, value: Any) -> Issue | None:
    """Set one dotted path inside ``data`` in place; missing intermediate mappings are created.

    Setting a key that the schema does not know is allowed here: validation then reports it
    with the list of allowed keys, which is a better message than this module could give.
    """
    segments = path.split(".")
    if not all(segments):
        return path, "empty key in the path; expected dotted keys such as components.app.replicas"
    node: Any = data
    for depth, segment in enumerate(segments):
        walked, is_last = ".".join(segments[: depth + 1]), depth == len(segments) - 1
        parent = ".".join(segments[:depth]) or "the top level"
        if isinstance(node, dict):
            if is_last:
                node[segment] = value
                return None
            if not isinstance(node.get(segment), (dict, list)):
                node[segment] = {} if node.get(segment) is None else node[segment]
            node = node[segment]
        elif isinstance(node, list):
            index = _select(node, segment)
            if index is None:
                return walked, _no_entry(node, segment, parent)
            if is_last:
                node[index] = value
                return None
            node = node[index]
        else:
            return walked, f"cannot set '{segment}' inside {parent}, which is {describe_kind(node)}"
    return None


def _select(entries: list[Any], segment: str) -> int | None:
    """The index of the entry named ``segment``; a number selects by position."""
    for index, entry in enumerate(entries):
        if isinstance(entry, Mapping) and entry.get("name") == segment:
            return index
    if segment.isdigit() and int(segment) < len(entries):
        return int(segment)
    return None


def _no_entry(entries: list[Any], segment: str, parent: str) -> str:
    names = [str(e["name"]) for e in entries if isinstance(e, Mapping) and "name" in e]
    if names:
        known = ", ".join(names)
    else:
        known = f"indices 0 to {len(entries) - 1}" if entries else "the list is empty"
    return f"no entry named '{segment}' in {parent} (known: {known}){suggest(segment, names)}"


def describe_kind(value: Any) -> str:
    """``"a number (8)"`` or ``"text ('20ms')"``: what sits where a mapping was expected."""
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value!r})"
    return f"a {type(value).__name__}"


def with_duration(spec: Any, duration: float, source: str) -> Any:
    """``spec`` with another duration (``--duration``), judged by the same cross-field checks as a
    file that says it: a fault that would start after the shorter run, a warm-up as long as it,
    a batch released after it are refused, not silently dropped.

    Raises:
        ScenarioError: Every check the shorter run fails, as ``--duration 5s: faults[0].at: ...``.
    """
    from simulator.scenario.schema import consistency_problems

    changed = spec.model_copy(update={"duration": float(duration)})
    option = f"--duration {duration:g}s"
    problems = [Problem(source, option, f"{_dotted(loc)}: {message}")
                for loc, message in consistency_problems(changed)]
    if problems:
        raise ScenarioError(problems)
    return changed


def _dotted(loc: Iterable[Any]) -> str:
    """``("faults", 0, "at")`` -> ``faults[0].at``."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
