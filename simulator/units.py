"""Quantities with units, as written in scenario files, parsed into plain floats and ints.

Inside the engine time is seconds and rates are per second. Scenario authors write
``20ms``, ``5m``, ``18k/min``, ``60%`` or ``2.5M``; this module turns those into numbers and,
when it cannot, says what it expected with examples. The annotated types (``Duration``,
``Rate``, ...) plug the parsers into pydantic and advertise "string or number" in the JSON
schema so editors accept ``"20ms"``.

PyYAML reads ``1e6`` (no dot) as a string, so every parser accepts numeric strings too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_UNSIGNED = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"

DURATION_UNITS = {
    "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
    "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0,
}
RATE_UNITS = {"s": 1.0, "sec": 1.0, "m": 1 / 60, "min": 1 / 60, "h": 1 / 3600, "d": 1 / 86400}
MULTIPLIERS = {"": 1, "k": 1_000, "K": 1_000, "M": 1_000_000, "G": 1_000_000_000}

_DURATION_RE = re.compile(rf"^\s*({_NUMBER})\s*(us|µs|μs|ms|s|min|m|h|d)?\s*$")
_RATE_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKMG]?)\s*(?:/\s*(sec|s|min|m|h|d))?\s*$")
_FRACTION_RE = re.compile(rf"^\s*({_NUMBER})\s*(%?)\s*$")
_COUNT_RE = re.compile(rf"^\s*({_NUMBER})\s*([kKMG]?)\s*$")

DURATION_PATTERN = rf"^\s*{_UNSIGNED}\s*(us|µs|μs|ms|s|min|m|h|d)?\s*$"
RATE_PATTERN = rf"^\s*{_UNSIGNED}\s*[kKMG]?\s*(/\s*(sec|s|min|m|h|d))?\s*$"
FRACTION_PATTERN = rf"^\s*{_UNSIGNED}\s*%?\s*$"
COUNT_PATTERN = rf"^\s*{_UNSIGNED}\s*[kKMG]?\s*$"
NUMBER_PATTERN = rf"^\s*{_NUMBER}\s*$"
_NUMBER_RE = re.compile(NUMBER_PATTERN)

_DURATION_EXAMPLES = "a duration such as '250us', '20ms', '2s', '5m', '1h'"
_RATE_EXAMPLES = "a rate such as '300/s', '18k/min', '5/h' (a bare number is per second)"
_FRACTION_EXAMPLES = "a fraction such as '60%' or 0.6"
_COUNT_EXAMPLES = "a count such as 20000, '20k', '1e6' or '2.5M'"


def _show(value: Any) -> str:
    """Render the offending input the way the author wrote it, shortened for one-line messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(what: str, value: Any) -> ValueError:
    return ValueError(f"expected {what}; got {_show(value)}")


def _match(pattern: re.Pattern[str], value: Any, what: str) -> re.Match[str] | None:
    """Return the regex match for a string, None for a real number; reject anything else.

    Booleans are ints in Python, but ``replicas: yes`` is a mistake, never a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _expected(what, value)
    if isinstance(value, str):
        match = pattern.match(value)
        if match is None:
            raise _expected(what, value)
        return match
    return None


def _finite(number: float, what: str, value: Any) -> float:
    if not math.isfinite(number):
        raise _expected(f"a finite value ({what})", value)
    return number


def parse_number(value: Any) -> float:
    """Parse a plain finite number, accepting numeric strings such as ``"1e-3"``."""
    match = _match(_NUMBER_RE, value, "a number")
    number = float(match.group(0)) if match else float(value)
    return _finite(number, "a number", value)


def parse_duration(value: Any, *, positive: bool = False) -> float:
    """Parse a duration into seconds; bare numbers are seconds.

    Args:
        value: ``"250us"``, ``"20ms"``, ``"2s"``, ``"5m"`` (minutes), ``"1h"``, ``"1d"``, or a number.
        positive: Reject zero too (timeouts, periods, means of distributions).
    """
    match = _match(_DURATION_RE, value, _DURATION_EXAMPLES)
    seconds = float(match.group(1)) * DURATION_UNITS[match.group(2) or "s"] if match else float(value)
    _finite(seconds, _DURATION_EXAMPLES, value)
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative; got {_show(value)}")
    if positive and seconds == 0:
        raise ValueError(f"expected a duration greater than zero such as '20ms' or '2s'; got {_show(value)}")
    return seconds


def parse_rate(value: Any) -> float:
    """Parse a rate into events per second; must be greater than zero.

    Args:
        value: ``"300/s"``, ``"18k/min"``, ``"1.2k/s"``, ``"5/h"``, or a number (per second).
    """
    match = _match(_RATE_RE, value, _RATE_EXAMPLES)
    if match:
        per = RATE_UNITS[match.group(3) or "s"]
        rate = float(match.group(1)) * MULTIPLIERS[match.group(2)] * per
    else:
        rate = float(value)
    _finite(rate, _RATE_EXAMPLES, value)
    if rate <= 0:
        raise ValueError(f"a rate must be greater than zero; got {_show(value)}")
    return rate


def parse_fraction(value: Any) -> float:
    """Parse a fraction in [0, 1]; ``"60%"`` and ``0.6`` are the same value."""
    match = _match(_FRACTION_RE, value, _FRACTION_EXAMPLES)
    if match:
        fraction = float(match.group(1)) / (100 if match.group(2) else 1)
    else:
        fraction = float(value)
    _finite(fraction, _FRACTION_EXAMPLES, value)
    if not 0 <= fraction <= 1:
        is_percent = bool(match and match.group(2))
        hint = f" (did you mean '{value}%'?)" if 1 < fraction <= 100 and not is_percent else ""
        raise ValueError(f"expected {_FRACTION_EXAMPLES}, between 0 and 1; got {_show(value)}{hint}")
    return fraction


def parse_count(value: Any) -> int:
    """Parse a whole, non-negative count: ``20000``, ``"20k"``, ``"1e6"``, ``"2.5M"``.

    Decimal arithmetic keeps ``"1.2k"`` exactly 1200 instead of 1200.0000000000002.
    """
    match = _match(_COUNT_RE, value, _COUNT_EXAMPLES)
    try:
        if match:
            number = Decimal(match.group(1)) * MULTIPLIERS[match.group(2)]
        else:
            number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise _expected(_COUNT_EXAMPLES, value) from None
    if not number.is_finite():
        raise _expected(_COUNT_EXAMPLES, value)
    if number != number.to_integral_value():
        raise ValueError(f"expected a whole number ({_COUNT_EXAMPLES}); got {_show(value)}")
    if number < 0:
        raise ValueError(f"a count cannot be negative; got {_show(value)}")
    return int(number)


def format_duration(seconds: float) -> str:
    """Render seconds in the largest unit that keeps the number readable (``0.02`` -> ``"20ms"``)."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0), ("ms", 1e-3)):
        if abs(seconds) >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds / 1e-6:g}us" if seconds else "0s"


def format_rate(per_second: float) -> str:
    """Render a rate per second, e.g. ``300.0`` -> ``"300/s"``."""
    return f"{per_second:g}/s"


def pydantic_validator(parse: Callable[[Any], Any]) -> BeforeValidator:
    """Wrap a parser so its message reaches the user verbatim (no "Value error, " prefix)."""

    def validate(value: Any) -> Any:
        try:
            return parse(value)
        except ValueError as error:
            raise PydanticCustomError("unit", "{message}", {"message": str(error)}) from None

    return BeforeValidator(validate)


def _string_or_number(pattern: str, description: str, **number: Any) -> WithJsonSchema:
    return WithJsonSchema(
        {
            "anyOf": [{"type": "number"} | number, {"type": "string", "pattern": pattern}],
            "description": description,
        }
    )


Duration = Annotated[
    float,
    pydantic_validator(parse_duration),
    _string_or_number(DURATION_PATTERN, "Duration: '250us', '20ms', '2s', '5m', '1h' or seconds.", minimum=0),
]
"""Seconds, >= 0."""

PositiveDuration = Annotated[
    float,
    pydantic_validator(lambda value: parse_duration(value, positive=True)),
    _string_or_number(DURATION_PATTERN, "Duration > 0: '20ms', '2s', '5m' or seconds.", exclusiveMinimum=0),
]
"""Seconds, > 0."""

Rate = Annotated[
    float,
    pydantic_validator(parse_rate),
    _string_or_number(RATE_PATTERN, "Rate > 0: '300/s', '18k/min', '5/h' or a number per second.",
                      exclusiveMinimum=0),
]
"""Events per second, > 0."""

Fraction = Annotated[
    float,
    pydantic_validator(parse_fraction),
    _string_or_number(FRACTION_PATTERN, "Fraction: '60%' or a number between 0 and 1.", minimum=0, maximum=1),
]
"""A number in [0, 1]."""

Count = Annotated[
    int,
    pydantic_validator(parse_count),
    _string_or_number(COUNT_PATTERN, "Whole number >= 0: 20000, '20k', '1e6', '2.5M'.",
                      minimum=0, type="integer"),
]
"""A whole number >= 0."""

Number = Annotated[
    float,
    pydantic_validator(parse_number),
    _string_or_number(NUMBER_PATTERN, "A finite number; numeric strings such as '1e-3' are accepted."),
]
"""A finite float without units (shape parameters, weights)."""
