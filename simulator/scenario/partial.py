"""What can still be checked of a scenario whose fields do not all validate.

Pydantic runs a model's cross-field checks only when every field is valid, so a file with a bad
``replicas`` would hide a warm-up longer than the run, a workload entering a missing component
and a fault after the end until the first mistake is fixed: one mistake per round trip. Here
each top-level field is validated on its own (each entry on its own, for a list), a spec is
assembled from what is valid, and every consistency check whose fields are whole runs on it.
Only entries that validated are checked, and a check that needs a field (``components``) runs
only when all of that field validated, so no problem is reported that fixing the others would
make disappear.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

from simulator.scenario.base import Loc
from simulator.scenario.fault_checks import TARGET_KINDS, unknown_component
from simulator.scenario.schema import CONSISTENCY_CHECKS, ScenarioSpec


def partial_problems(raw: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """The consistency problems of ``raw`` (a scenario that failed validation) that its valid parts show."""
    values, whole, kept = _valid_parts(raw)
    spec = ScenarioSpec.model_construct(**values)
    problems: list[tuple[Loc, str]] = []
    for needs, check in CONSISTENCY_CHECKS:
        if not needs <= whole:
            continue
        try:
            found = check(spec)
        except Exception:  # noqa: BLE001 - a check on a partial spec may meet what it never sees whole
            continue
        problems += [(_raw_loc(loc, kept), message) for loc, message in found]
    if "components" not in whole:
        problems += [(_raw_loc(loc, kept), message) for loc, message in _dangling_names(spec, raw)]
    return problems


def _dangling_names(spec: Any, raw: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Workload entries and fault targets naming no component at all, when some components are
    invalid: a name that no entry of ``components:`` has is wrong whatever those entries hold."""
    entries = raw.get("components")
    names = {entry.get("name"): None for entry in (entries if isinstance(entries, list) else [])
             if isinstance(entry, Mapping) and isinstance(entry.get("name"), str)}
    if not names:  # no components at all is its own problem; every name would dangle
        return []
    problems: list[tuple[Loc, str]] = [
        (("workload", index, "entry"), unknown_component(workload.entry, names))
        for index, workload in enumerate(getattr(spec, "workload", [])) if workload.entry not in names]
    problems += [(("faults", index, "target"), unknown_component(fault.target, names))
                 for index, fault in enumerate(getattr(spec, "faults", []))
                 if fault.kind in TARGET_KINDS and fault.target not in names]
    return problems


def _valid_parts(raw: Mapping[str, Any]) -> tuple[dict[str, Any], set[str], dict[str, list[int]]]:
    """(validated value per field, the fields valid as a whole, raw index of each kept list entry)."""
    values: dict[str, Any] = {}
    whole: set[str] = set()
    kept: dict[str, list[int]] = {}
    for name, field in ScenarioSpec.model_fields.items():
        if name not in raw:
            if not field.is_required():
                values[name] = field.get_default(call_default_factory=True)
                whole.add(name)
            continue
        try:
            values[name] = _adapter(name).validate_python(raw[name])
            whole.add(name)
        except ValidationError:
            entries = _entries(name, raw[name])
            if entries is not None:
                values[name] = [value for _, value in entries]
                kept[name] = [index for index, _ in entries]
    return values, whole, kept


def _entries(name: str, data: Any) -> list[tuple[int, Any]] | None:
    """The valid entries of a list field, with their indices; ``None`` for other fields."""
    entry = _entry_adapter(name)
    if entry is None or not isinstance(data, list):
        return None
    valid = []
    for index, item in enumerate(data):
        try:
            valid.append((index, entry.validate_python(item)))
        except ValidationError:
            continue
    return valid


def _raw_loc(loc: Loc, kept: dict[str, list[int]]) -> Loc:
    """A location in the assembled spec as a location in the raw data (list entries re-indexed)."""
    if len(loc) > 1 and loc[0] in kept and isinstance(loc[1], int):
        return (loc[0], kept[str(loc[0])][loc[1]], *loc[2:])
    return loc


@cache
def _adapter(name: str) -> TypeAdapter[Any]:
    field = ScenarioSpec.model_fields[name]
    return TypeAdapter(Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation)


@cache
def _entry_adapter(name: str) -> TypeAdapter[Any] | None:
    annotation = ScenarioSpec.model_fields[name].annotation
    if get_origin(annotation) is not list:
        return None
    return TypeAdapter(get_args(annotation)[0])
