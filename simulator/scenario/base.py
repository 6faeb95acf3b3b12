"""The shared base of every scenario spec model, and the small typed fields they all use.

Every spec is frozen and forbids unknown keys: a typo in a scenario file must be an error,
never a silently ignored setting. Attribute docstrings become field descriptions, so the
units written there show up in the JSON schema that editors use.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from simulator.units import Number

NAME_PATTERN = r"^[a-z][a-z0-9_-]*$"

Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=100)]
"""A component or workload name: lowercase letters, digits, '_' and '-', starting with a letter;
at most 100 characters (names become folder names and labels; see ``names.MAX_NAME_LENGTH``)."""

PositiveInt = Annotated[int, Field(strict=True, ge=1)]
"""A whole number >= 1; strict so that ``replicas: yes`` or ``replicas: 2.5`` is an error."""

NonNegativeInt = Annotated[int, Field(strict=True, ge=0)]
"""A whole number >= 0."""

PositiveNumber = Annotated[Number, Field(gt=0)]
"""A finite number > 0 without units."""

StrictBool = Annotated[bool, Field(strict=True)]
"""true or false; strict so that ``parallel: 1`` or ``"no"`` is an error."""

Loc = tuple[str | int, ...]
"""A key path into the scenario data, as pydantic reports it: ``("components", 2, "name")``."""


class SpecModel(BaseModel):
    """Base of all scenario specs: frozen, unknown keys forbidden, docstrings as descriptions."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def spec_error(message: str, key: str | Loc | None = None) -> PydanticCustomError:
    """An error raised by a model-level check, pointing at ``key`` inside the model.

    Model validators can only fail at the model's own location; the ``key`` in the context lets
    the loader report ``warmup: must be less than duration`` instead of blaming the whole file.
    """
    loc: Loc = (key,) if isinstance(key, str) else tuple(key or ())
    return PydanticCustomError("spec", "{message}", {"message": message, "key": loc})


def spec_errors(problems: Sequence[tuple[Loc, str]]) -> PydanticCustomError:
    """One error carrying several located problems, so the loader can report all of them at once."""
    text = "; ".join(f"{'.'.join(map(str, loc))}: {message}" for loc, message in problems)
    return PydanticCustomError("spec", "{message}", {"message": text, "problems": list(problems)})


def describe_value(value: Any) -> str:
    """Render a value for a message the way an author would recognise it."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
