"""Pydantic validation errors rewritten as problems that say what was expected.

Pydantic's own wording ("Extra inputs are not permitted") names neither the allowed keys nor
the allowed kinds. This module finds the spec model at an error's location, by walking the
model types along the location, and lists what that model accepts.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simulator.scenario.base import NAME_PATTERN, Loc, describe_value
from simulator.scenario.problems import Problem, join_path, key_path, suggest

DISCRIMINATORS = ("kind", "dist", "pattern")

_SIMPLE = {
    "int_type": "expected a whole number; got {got}",
    "int_parsing": "expected a whole number; got {got}",
    "int_from_float": "expected a whole number; got {got}",
    "float_type": "expected a number; got {got}",
    "float_parsing": "expected a number; got {got}",
    "bool_type": "expected true or false; got {got}",
    "bool_parsing": "expected true or false; got {got}",
    "string_type": "expected text; got {got}",
    "string_too_short": "must not be empty",
    "string_too_long": "must be at most {max_length} characters long; got {got}",
    "list_type": "expected a list; got {got}",
    "dict_type": "expected a mapping; got {got}",
    "model_type": "expected a mapping; got {got}",
    "model_attributes_type": "expected a mapping; got {got}",
    "greater_than": "must be greater than {gt}; got {got}",
    "greater_than_equal": "must be at least {ge}; got {got}",
    "less_than": "must be less than {lt}; got {got}",
    "less_than_equal": "must be at most {le}; got {got}",
    "too_short": "needs at least {min_length} entr{plural}; got {actual_length}",
    "too_long": "allows at most {max_length} entr{plural}; got {actual_length}",
}


def validation_problems(error: ValidationError, raw: Any, root: type[BaseModel], *, file: str,
                        prefix: str = "", by_name: bool = False) -> list[Problem]:
    """One problem per pydantic error (several for a multi-problem check), duplicates removed."""
    problems: dict[tuple[str, str], Problem] = {}
    for item in error.errors(include_url=False):
        for loc, message in _located_messages(item, root):
            path = join_path(prefix, key_path(raw, loc, by_name=by_name))
            problems.setdefault((path, message), Problem(file, path, message))
    return list(problems.values())


def _located_messages(item: dict[str, Any], root: type[BaseModel]) -> list[tuple[Loc, str]]:
    loc, ctx = tuple(item["loc"]), item.get("ctx") or {}
    if item["type"] == "spec" and "problems" in ctx:
        return [(loc + tuple(sub_loc), message) for sub_loc, message in ctx["problems"]]
    if item["type"] == "spec":
        return [(loc + tuple(ctx.get("key", ())), ctx["message"])]
    if item["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return [((*loc, ctx["discriminator"].strip("'")), describe(item, root))]
    return [(loc, describe(item, root))]


def describe(item: dict[str, Any], root: type[BaseModel]) -> str:
    """The message for one pydantic error: what was expected, and what was found."""
    kind, ctx = item["type"], item.get("ctx") or {}
    special: dict[str, Callable[[dict[str, Any], type[BaseModel]], str]] = {
        "missing": lambda i, _: f"missing required key '{i['loc'][-1]}'",
        "extra_forbidden": _unknown_key,
        "union_tag_invalid": _unknown_tag,
        "union_tag_not_found": _missing_tag,
        "literal_error": _not_one_of,
        "string_pattern_mismatch": _bad_pattern,
    }
    if kind in special:
        return special[kind](item, root)
    if kind in _SIMPLE:
        plural = "y" if 1 in (ctx.get("min_length"), ctx.get("max_length")) else "ies"
        return _SIMPLE[kind].format(got=describe_value(item["input"]), plural=plural, **ctx)
    if kind == "value_error":
        return str(item["msg"]).removeprefix("Value error, ")
    return str(ctx.get("message", item["msg"]))


def _unknown_key(item: dict[str, Any], root: type[BaseModel]) -> str:
    key = item["loc"][-1]
    models = [m for m in type_members(_type_at(root, item["loc"][:-1])) if _is_model(m)]
    if len(models) != 1:
        return f"unknown key '{key}'"
    allowed = list(models[0].model_fields)
    return f"unknown key '{key}'{suggest(key, allowed)}; expected one of: {', '.join(allowed)}"


def _unknown_tag(item: dict[str, Any], _root: type[BaseModel]) -> str:
    ctx = item["ctx"]
    tags = _quoted(ctx["expected_tags"])
    discriminator, tag = ctx["discriminator"].strip("'"), ctx["tag"]
    return f"unknown {discriminator} '{tag}'{suggest(tag, tags)}; expected one of: {', '.join(tags)}"


def _missing_tag(item: dict[str, Any], root: type[BaseModel]) -> str:
    discriminator = item["ctx"]["discriminator"].strip("'")
    tags = [tag for member in type_members(_type_at(root, item["loc"])) for tag in _tags(member)]
    choices = f"; expected one of: {', '.join(tags)}" if tags else ""
    return f"missing required key '{discriminator}'{choices}"


def _not_one_of(item: dict[str, Any], _root: type[BaseModel]) -> str:
    options = _quoted(item["ctx"]["expected"])
    got = item["input"]
    return f"expected one of: {', '.join(options)}; got {describe_value(got)}{suggest(got, options)}"


def _bad_pattern(item: dict[str, Any], _root: type[BaseModel]) -> str:
    got = describe_value(item["input"])
    if item["ctx"]["pattern"] == NAME_PATTERN:
        return ("expected a lowercase name such as 'app' or 'db-primary' (letters, digits, '_' and '-', "
                f"starting with a letter); got {got}")
    return f"expected text matching {item['ctx']['pattern']}; got {got}"


def _quoted(text: str) -> list[str]:
    """``"'a', 'b' or 'c'"`` (pydantic's rendering of choices) -> ``["a", "b", "c"]``."""
    return re.findall(r"'([^']*)'", text)


def _type_at(root: Any, loc: Loc) -> Any:
    """The annotated type at a location; elements that are not keys (markers) are skipped."""
    current = root
    for element in loc:
        following = _step(current, element)
        if following is not None:
            current = following
    return current


def _step(current: Any, element: Any) -> Any:
    members = type_members(current)
    for member in members:
        if len(members) > 1 and element in _tags(member):
            return member
    for member in members:
        if _is_model(member) and element in member.model_fields:
            return member.model_fields[element].annotation
        if get_origin(member) is list and isinstance(element, int):
            return get_args(member)[0]
        if get_origin(member) is dict:
            return get_args(member)[1]
    return None


def type_members(annotation: Any) -> list[Any]:
    """Flatten ``Annotated`` and unions (including ``X | None``) into their member types."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return type_members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for arg in get_args(annotation) for member in type_members(arg)]
    return [annotation]


def _tags(member: Any) -> tuple[Any, ...]:
    """The discriminator values a spec model answers to (``("service",)`` for ServiceSpec)."""
    if not _is_model(member):
        return ()
    for name in DISCRIMINATORS:
        field = member.model_fields.get(name)
        if field is not None and get_origin(field.annotation) is Literal:
            return get_args(field.annotation)
    return ()


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
