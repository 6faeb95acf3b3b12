"""The ``expect:`` block: claims a scenario makes about its own results, checked by ``cascade check``.

Expectations are data, never evaluated code: each names a variant, a metric and one test,

    - {variant: small, metric: availability, below: 0.9}
    - {variant: large, metric: latency_p99, at_most: 250ms, confidence: 0.95}
    - {variant: large, metric: availability, better_than: small, by: 20%}

``at_least``/``at_most``/``above``/``below`` judge the variant's mean (for yes/no metrics such as
``stuck``, the proportion of runs); ``better_than`` judges the paired difference from another
variant, improved by at least ``by`` of that variant's mean (default: any improvement).
With ``confidence``, a claim holds only if the whole confidence interval satisfies it.

Thresholds take the units scenario files use (``250ms``, ``99%``, ``300/s``) or plain numbers in
the metric's own unit (seconds, fractions, per second). Variant names are checked here, when the
file loads; metric names can only be checked against what runs report, so ``cascade check``
refuses an unknown one after running (exit 2), never letting a typo pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema, model_validator

from simulator.metrics import shown
from simulator.scenario.base import Loc, SpecModel, spec_error
from simulator.scenario.problems import suggest
from simulator.scenario.variants import DEFAULT_VARIANT
from simulator.units import parse_duration, parse_fraction, parse_number, parse_rate, pydantic_validator

BOUNDS = ("at_least", "at_most", "above", "below")
TESTS = (*BOUNDS, "better_than")
SYMBOLS = {"at_least": ">=", "at_most": "<=", "above": ">", "below": "<"}
THRESHOLD_EXAMPLES = "a number, a duration ('250ms'), a percentage ('99%') or a rate ('300/s')"


def parse_threshold(value: Any) -> float:
    """A threshold in the metric's unit: ``0.99``, ``"99%"``, ``"250ms"``, ``"300/s"``."""
    if isinstance(value, bool):
        raise ValueError(f"expected {THRESHOLD_EXAMPLES}; got {value!r}")
    if isinstance(value, int | float):
        return parse_number(value)
    text = str(value).strip()
    for parse in (parse_number, _percentage, parse_duration, parse_rate):
        try:
            return parse(text)
        except ValueError:
            continue
    raise ValueError(f"expected {THRESHOLD_EXAMPLES}; got {value!r}")


def _percentage(text: str) -> float:
    """``"120%"`` -> 1.2 (``by`` may exceed 100%: twice the throughput is 100% better)."""
    if not text.endswith("%"):
        raise ValueError("not a percentage")
    return parse_number(text[:-1]) / 100


def _schema(description: str) -> WithJsonSchema:
    """Editors must accept ``"99%"`` and ``"250ms"`` as well as numbers."""
    return WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string"}], "description": description})


Threshold = Annotated[float, pydantic_validator(parse_threshold),
                      _schema("A number in the metric's unit, or '250ms', '99%', '300/s'.")]
"""A bound in the metric's own unit; units as in scenario files are accepted."""

Margin = Annotated[float, pydantic_validator(parse_threshold), Field(ge=0),
                   _schema("A relative improvement >= 0: '20%' or 0.2.")]
"""A relative improvement >= 0: ``20%`` or 0.2."""

Confidence = Annotated[float, pydantic_validator(parse_fraction), Field(gt=0, lt=1),
                       _schema("A confidence level between 0 and 1 (exclusive): '95%' or 0.95.")]
"""A confidence level strictly between 0 and 1: ``95%`` or 0.95."""


class ExpectationSpec(SpecModel):
    """One claim about a variant's results: exactly one of at_least, at_most, above, below, better_than."""

    variant: Annotated[str, Field(min_length=1)]
    """The variant the claim is about (``base`` when the scenario has no variants)."""
    metric: Annotated[str, Field(min_length=1)]
    """A summary metric name, e.g. ``availability``, ``latency_p99``, ``stuck``, ``latency_p99.checkout``."""
    at_least: Threshold | None = None
    """The mean must be >= this."""
    at_most: Threshold | None = None
    """The mean must be <= this."""
    above: Threshold | None = None
    """The mean must be > this."""
    below: Threshold | None = None
    """The mean must be < this."""
    better_than: str | None = None
    """Another variant this one must beat (paired difference, in the metric's better direction)."""
    by: Margin | None = None
    """With better_than: the least improvement, relative to the other variant's mean (``20%``)."""
    confidence: Confidence | None = None
    """When given, the whole confidence interval must satisfy the claim, not just the mean."""

    @model_validator(mode="after")
    def _one_test(self) -> ExpectationSpec:
        given = [name for name in TESTS if getattr(self, name) is not None]
        if len(given) != 1:
            found = f"got {', '.join(given)}" if given else "got none"
            raise spec_error(f"expected exactly one of {', '.join(TESTS)}; {found}")
        if self.by is not None and self.better_than is None:
            raise spec_error("'by' only goes with 'better_than'", "by")
        if self.better_than is not None and self.better_than == self.variant:
            raise spec_error("a variant cannot be better than itself", "better_than")
        return self

    @property
    def test(self) -> str:
        """Which test the claim makes: one of at_least, at_most, above, below, better_than."""
        return next(name for name in TESTS if getattr(self, name) is not None)

    def describe(self) -> str:
        """The claim in one line, in the metric's unit: ``large availability >= 99% (95% confidence)``,
        ``large latency_p99 <= 250 ms``."""
        if self.test == "better_than":
            text = f"{self.variant} {self.metric} better than {self.better_than}"
            text += f" by {self.by:.0%}" if self.by else ""
        else:
            limit = shown(self.metric, getattr(self, self.test))
            text = f"{self.variant} {self.metric} {SYMBOLS[self.test]} {limit}"
        return text + (f" ({self.confidence:.0%} confidence)" if self.confidence else "")


def expectation_problems(expect: Sequence[ExpectationSpec],
                         variants: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Expectations naming a variant the scenario does not have (``base`` when it has none)."""
    known = list(variants) or [DEFAULT_VARIANT]
    problems: list[tuple[Loc, str]] = []
    for index, expectation in enumerate(expect):
        for key in ("variant", "better_than"):
            name = getattr(expectation, key)
            if name is not None and name not in known:
                problems.append((("expect", index, key), f"no variant named '{name}'; known variants: "
                                                         f"{', '.join(known)}{suggest(name, known)}"))
    return problems
