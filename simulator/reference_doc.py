"""The scenario reference (``docs/reference.md``), generated from the spec models.

Hand-written reference pages drift from the schema; this one is printed by ``cascade schema
--markdown`` from the same pydantic models that validate scenario files, so every key, type,
default and one-line meaning (the attribute docstrings) is the one the loader enforces. A test
compares the committed file with this output. The walk is in field order and models are visited
once, so the text is deterministic: same code, same bytes.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, WithJsonSchema
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from simulator import units
from simulator.scenario.base import NAME_PATTERN

REGENERATE = "python -m simulator schema --markdown > docs/reference.md"
"""The one-liner that rewrites the committed reference (quoted by the test and the README)."""

_UNIT_TYPES = {  # marker (the alias's WithJsonSchema) -> (type, unit)
    id(units.Duration.__metadata__[-1]): ("duration", "s"),
    id(units.PositiveDuration.__metadata__[-1]): ("duration > 0", "s"),
    id(units.Rate.__metadata__[-1]): ("rate > 0", "1/s"),
    id(units.Fraction.__metadata__[-1]): ("fraction", "0..1 or %"),
    id(units.Count.__metadata__[-1]): ("count", ""),
    id(units.Number.__metadata__[-1]): ("number", ""),
}
"""The unit-bearing field types, recognised by identity of the marker every use shares."""

_UNITS_NOTE = (
    "Units: a **duration** is seconds or text with a unit (`250us`, `20ms`, `2s`, `5m`, `1h`, `1d`); "
    "a **rate** is per second or text (`300/s`, `18k/min`, `5/h`); a **fraction** is 0..1 or a "
    "percentage (`60%`); a **count** is a whole number, optionally with `k`, `M` or `G` (`20k`); "
    "a **name** is lowercase letters, digits, `_` and `-`, starting with a letter, at most 100 characters. "
    "A **distribution** key also takes a bare duration, meaning a constant. "
    "Any key can be overridden per variant or with `--set` by its dotted path "
    "(`components.app.replicas`, `mitigations.breaker.enabled`)."
)

_VARIANTS_NOTE = (
    "`variants:` maps a variant name to dotted-path overrides of the base scenario, e.g. "
    "`{small: {components.app.replicas: 3}, large: {components.app.replicas: 8}}`; an empty "
    "variant (`baseline:`) runs the base unchanged. List entries are addressed by their `name` "
    "(`components.app`, `faults.crash`, `mitigations.budget`, `workload.api`). Every variant is "
    "validated like the base when the file loads."
)


@dataclass
class _Section:
    """One ``##`` section: a title, a sentence of introduction, and the models it documents."""

    title: str
    intro: str
    roots: tuple[type[BaseModel], ...]
    recurse: bool = True
    models: list[tuple[type[BaseModel], str]] = field(default_factory=list)  # (model, key path)

    @property
    def anchor(self) -> str:
        return _slug(self.title)


def reference_markdown() -> str:
    """The whole reference as Markdown, ending with one newline."""
    sections = _sections()
    _assign(sections)
    families = _families(sections)
    lines = ["# Scenario reference", "",
             f"Generated from the schema by `{REGENERATE}`; do not edit by hand.", "", _UNITS_NOTE, "",
             "Sections: " + ", ".join(f"[{s.title}](#{s.anchor})" for s in sections) + ".", ""]
    for section in sections:
        lines += _section_lines(section, families)
    return "\n".join(lines).rstrip("\n") + "\n"


def _sections() -> list[_Section]:
    """The fixed sections in reading order, then one per top-level key not covered (new blocks)."""
    from simulator.scenario import schema
    from simulator.scenario.expectations import ExpectationSpec
    from simulator.scenario.faults import FaultSpec
    from simulator.scenario.mitigations import MitigationSpec
    from simulator.scenario.slo import SloSpec

    top = schema.ScenarioSpec
    fixed = [
        _Section("Scenario (top level)", "The keys of a scenario file itself.", (top,), recurse=False),
        _Section("Workload", "`workload:` entries: request streams and the clients behind them.",
                 (schema.WorkloadSpec,)),
        _Section("Arrival patterns", "`arrivals:` of a workload, chosen by `pattern`.",
                 _members(schema.ArrivalsSpec)),
        _Section("Rate profiles", "`profile:` of an open-loop workload, chosen by `kind` "
                 "(a bare list of steps means `kind: steps`).", _members(schema.ProfileSpec)),
        _Section("Distributions", "Durations drawn at random (`service_time`, `latency`, ...), chosen by "
                 "`dist`; a bare duration means `dist: constant`.", _members(schema.DistSpec)),
        _Section("Key popularity", "`keys:` of a cache, chosen by `dist`.", _members(schema.KeysSpec)),
        _Section("Components", "`components:` entries, chosen by `kind`.", _members(schema.ComponentSpec)),
        _Section("Faults", "`faults:` entries, chosen by `kind`.", _members(FaultSpec)),
        _Section("Mitigations", "`mitigations:` entries, chosen by `kind` (defences, autoscaler, "
                 "schedule, deployment, hedge...).", _members(MitigationSpec)),
        _Section("SLO", "`slo:`: what recovery metrics are judged by.", (SloSpec,)),
        _Section("Expectations", "`expect:` entries, verified by `cascade check`.", (ExpectationSpec,)),
    ]
    covered = {model for section in fixed for model in section.roots}
    extra = [_Section(name.replace("_", " ").capitalize(), f"`{name}:` {_one_line(info.description or '')}",
                      models)
             for name, info in top.model_fields.items()
             if (models := tuple(m for m in _models_in(info.annotation) if m not in covered))]
    variants = _Section("Variants", _VARIANTS_NOTE, ())
    return [*fixed, *extra, variants]


def _assign(sections: list[_Section]) -> None:
    """Give each model to one section: its own roots first, then what they nest, depth first."""
    claimed: set[type[BaseModel]] = {model for section in sections for model in section.roots}
    for section in sections:
        for root in section.roots:
            section.models.append((root, _root_path(section, root)))
            if section.recurse:
                _nest(root, _root_path(section, root), section, claimed)


def _nest(model: type[BaseModel], path: str, section: _Section, claimed: set[type[BaseModel]]) -> None:
    for name, info in model.model_fields.items():
        for child in _models_in(_full(info)):
            if child not in claimed:
                claimed.add(child)
                child_path = f"{path}.{info.alias or name}" if path else (info.alias or name)
                section.models.append((child, child_path))
                _nest(child, child_path, section, claimed)


def _root_path(section: _Section, model: type[BaseModel]) -> str:
    """How nested headings name their place: the kind (``service``) or the top-level key."""
    from simulator.scenario.schema import ScenarioSpec

    tag = _tag(model)
    if tag and len(section.roots) > 1:
        return tag[1]
    keys = [info.alias or name for name, info in ScenarioSpec.model_fields.items()
            if model in set(_models_in(info.annotation))]
    return keys[0] if keys else ""


def _families(sections: list[_Section]) -> dict[frozenset[type], tuple[str, str]]:
    """Unions documented as one section (all the distributions...) -> (link text, anchor)."""
    names = {"Distributions": "distribution", "Key popularity": "keys", "Rate profiles": "profile",
             "Arrival patterns": "arrivals", "Components": "component", "Faults": "fault",
             "Mitigations": "mitigation"}
    return {frozenset(s.roots): (names.get(s.title, s.title), s.anchor) for s in sections if len(s.roots) > 1}


def _section_lines(section: _Section, families: dict[frozenset[type], tuple[str, str]]) -> list[str]:
    lines = [f"## {section.title}", ""]
    if section.intro:
        lines += [section.intro, ""]
    for model, path in section.models:
        heading = _heading(model, path, model in section.roots and len(section.roots) > 1)
        lines += [f'<a id="{_model_anchor(model)}"></a>', "", f"### {heading}", ""]
        lines += [_one_line(model.__doc__ or ""), ""]
        lines += ["| key | type | unit | default | meaning |", "|---|---|---|---|---|"]
        lines += [_row(name, info, families) for name, info in model.model_fields.items()]
        lines.append("")
    return lines


def _heading(model: type[BaseModel], path: str, member: bool) -> str:
    """``kind: service`` for a union member, ``Client (workload.client)`` for a nested model."""
    tag = _tag(model)
    if member and tag:
        return f"`{tag[0]}: {tag[1]}`"
    return f"{_title(model)} (`{path}`)" if path else _title(model)


def _row(name: str, info: FieldInfo, families: dict[frozenset[type], tuple[str, str]]) -> str:
    annotation = _full(info)
    key = info.alias or name
    kind, unit = _type(annotation, families)
    if _single_literal(info.annotation) is not None and not info.description:
        meaning = "Selects this kind."
        default = "**required**"
    else:
        meaning = _one_line(info.description or "")
        default = "**required**" if info.is_required() else _default(info)
    return "| " + " | ".join(_cell(text) for text in (f"`{key}`", kind, unit, default, meaning)) + " |"


def _type(tp: Any, families: dict[frozenset[type], tuple[str, str]]) -> tuple[str, str]:
    """(type text, unit) of an annotation as an author writes the value."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Annotated:
        return _annotated(tp, families)
    if origin in (typing.Union, types.UnionType):
        return _union([a for a in args if a is not type(None)], families)
    if origin is typing.Literal:
        return " or ".join(f"`{_scalar(a)}`" for a in args), ""
    if origin in (list, tuple) or tp in (list, tuple):
        inner = [_type(a, families) for a in args if a is not Ellipsis]
        texts = ", ".join(text for text, _ in inner) or "any"
        unit = inner[0][1] if len(inner) == 1 else ""
        return (f"list of {texts}" if origin is list else f"({texts})"), unit
    if origin is dict:
        if not args:
            return "mapping", ""
        value, unit = _type(args[1], families)
        return f"mapping of {_type(args[0], families)[0]} to {value}", unit
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return f"[{_title(tp)}](#{_model_anchor(tp)})", ""
    return {bool: "true or false", int: "integer", float: "number", str: "text"}.get(tp, "any"), ""


def _annotated(tp: Any, families: dict[frozenset[type], tuple[str, str]]) -> tuple[str, str]:
    """An ``Annotated`` type: a unit alias, a shorthand's input type, or the base plus constraints."""
    metadata = _flat(tp.__metadata__)
    for item in metadata:
        if id(item) in _UNIT_TYPES:
            kind, unit = _UNIT_TYPES[id(item)]
            extra = _constraints(metadata).strip()
            return (f"{kind}{', ' if '>' in kind else ' '}{extra}" if extra else kind), unit
    for item in metadata:
        given = getattr(item, "json_schema_input_type", PydanticUndefined)
        if given is not PydanticUndefined and given is not typing.Any:
            return _type(given, families)
    for item in metadata:
        if isinstance(item, WithJsonSchema) and item.json_schema:
            return _one_line(item.json_schema.get("description", "value")).rstrip("."), ""
    if tp.__origin__ is str and any(getattr(m, "pattern", None) == NAME_PATTERN for m in metadata):
        return "name", ""  # the pattern is explained once, at the top
    base, unit = _type(tp.__origin__, families)
    return base + _constraints(metadata), unit


def _union(members: list[Any], families: dict[frozenset[type], tuple[str, str]]) -> tuple[str, str]:
    models = frozenset(m for m in _models_in(typing.Union[tuple(members)]))  # noqa: UP007
    for family, (text, anchor) in families.items():
        if models and family == models:
            return f"[{text}](#{anchor})", "s" if text == "distribution" else ""
    parts = [_type(member, families) for member in members]
    units_found = sorted({unit for _, unit in parts if unit})
    text = " or ".join(dict.fromkeys(text for text, _ in parts))
    return text, units_found[0] if len(units_found) == 1 else ""


def _constraints(metadata: list[Any]) -> str:
    """Bounds and sizes as short text: ``>= 1``, ``> 0, <= 1800``, ``(exactly 2)``."""
    found = {attr: [value for item in metadata if not isinstance(item, FieldInfo)
                    if (value := getattr(item, attr, None)) is not None]
             for attr in ("ge", "gt", "le", "lt", "min_length", "max_length")}
    lower = max([(v, "ge") for v in found["ge"]] + [(v, "gt") for v in found["gt"]], default=None)
    upper = min([(v, "le") for v in found["le"]] + [(v, "lt") for v in found["lt"]], default=None)
    bounds = [f"{_BOUNDS[kind]} {_scalar(value)}" for value, kind in filter(None, (lower, upper))]
    low, high = max(found["min_length"], default=None), min(found["max_length"], default=None)
    limits = (("at least", low), ("at most", high))
    sizes = ([f"exactly {low}"] if low is not None and low == high else
             [f"{word} {value}" for word, value in limits if value is not None])
    text = (" " + ", ".join(bounds)) if bounds else ""
    return text + (f" ({', '.join(sizes)})" if sizes else "")


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}


def _flat(metadata: Any) -> list[Any]:
    """Annotated metadata with nested ``Field(...)`` infos opened up."""
    out: list[Any] = []
    for item in metadata:
        out += [item, *item.metadata] if isinstance(item, FieldInfo) else [item]
    return out


def _full(info: FieldInfo) -> Any:
    """A field's annotation with the metadata pydantic moved onto the FieldInfo put back."""
    return typing.Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


def _models_in(tp: Any) -> Iterator[type[BaseModel]]:
    """The spec models an annotation mentions, in order (shorthand input types included)."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        yield tp
        return
    for arg in typing.get_args(tp):
        yield from _models_in(arg)
    for item in getattr(tp, "__metadata__", ()):
        given = getattr(item, "json_schema_input_type", PydanticUndefined)
        if given is not PydanticUndefined:
            yield from _models_in(given)


def _members(union: Any) -> tuple[type[BaseModel], ...]:
    """The kinds of a discriminated union (shorthand input types left out)."""
    return tuple(dict.fromkeys(model for model in _models_in(union) if _tag(model)))


def _tag(model: type[BaseModel]) -> tuple[str, str] | None:
    """(discriminator key, value) of a union member: the first single-value Literal field."""
    for name, info in model.model_fields.items():
        value = _single_literal(info.annotation)
        if value is not None:
            return info.alias or name, value
    return None


def _single_literal(tp: Any) -> str | None:
    args = typing.get_args(tp)
    return str(args[0]) if typing.get_origin(tp) is typing.Literal and len(args) == 1 else None


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is None:
        return "none"
    if isinstance(value, BaseModel):
        dumped = value.model_dump(mode="json", exclude_defaults=True, by_alias=True)
        tag = _tag(type(value))
        if tag:
            dumped = {tag[0]: tag[1], **dumped}
        return f"`{_flow(dumped)}`" if dumped else "(all defaults)"
    return f"`{_flow(value)}`"


def _flow(value: Any) -> str:
    """A value in YAML flow style: ``{dist: constant, value: 0.0005}``, ``[]``, ``""``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, str):
        return value if value and re.fullmatch(r"[A-Za-z0-9_./-]+", value) else f'"{value}"'
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _title(model: type[BaseModel]) -> str:
    """``HealthCheckSpec`` -> ``HealthCheck``: the name links and headings use."""
    return model.__name__.removesuffix("Spec")


def _model_anchor(model: type[BaseModel]) -> str:
    return "spec-" + model.__name__.lower()


def _slug(title: str) -> str:
    """GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", title.lower()).replace(" ", "-")


def _one_line(text: str) -> str:
    """Whitespace collapsed, and docstring ``code`` written as Markdown `code`."""
    return re.sub(r"``([^`]+)``", r"`\1`", " ".join(text.split()))


def _cell(text: str) -> str:
    """Table cells cannot hold a bare '|'."""
    return text.replace("|", "\\|")
