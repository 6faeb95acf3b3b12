"""Parsing of durations, rates, fractions and counts, and their pydantic types."""

import json
import math
import re

import pytest
from pydantic import BaseModel, ValidationError

from simulator.units import (
    Count,
    Duration,
    Fraction,
    PositiveDuration,
    Rate,
    format_duration,
    parse_count,
    parse_duration,
    parse_fraction,
    parse_number,
    parse_rate,
)


class Quantities(BaseModel):
    duration: Duration = 0.0
    positive: PositiveDuration = 1.0
    rate: Rate = 1.0
    fraction: Fraction = 0.0
    count: Count = 0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("250us", 250e-6), ("250µs", 250e-6), ("20ms", 0.02), ("2s", 2.0), ("5m", 300.0), ("5min", 300.0),
     ("1h", 3600.0), ("1d", 86400.0), ("1.5s", 1.5), (" 2 s ", 2.0), ("1e6", 1e6), ("2.5", 2.5),
     (".5ms", 0.0005)],
)
def test_duration_units(text, seconds):
    """Each duration unit converts to seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("number", [0, 3, 2.5, 1e6])
def test_duration_bare_number_is_seconds(number):
    """A bare YAML number is a duration in seconds."""
    assert parse_duration(number) == number


@pytest.mark.parametrize("bad", ["fast", "20 parsecs", "ms", "", "1.2.3s", None, [1], {"s": 1}])
def test_malformed_duration_names_expectation(bad):
    """A malformed duration says what a duration looks like and echoes the input."""
    with pytest.raises(ValueError, match=r"expected a duration such as '250us', '20ms', '2s', '5m', '1h'"):
        parse_duration(bad)


def test_malformed_duration_echoes_input():
    """The message quotes exactly what the author wrote."""
    with pytest.raises(ValueError, match=r"got 'fast'$"):
        parse_duration("fast")


@pytest.mark.parametrize("flag", [True, False])
def test_duration_rejects_bool(flag):
    """A boolean is never a duration, even though Python treats it as an int."""
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(flag)


@pytest.mark.parametrize("bad", ["-5s", -1, -0.5])
def test_duration_rejects_negative(bad):
    """Durations cannot be negative."""
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_duration(bad)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "1e999s"])
def test_duration_rejects_non_finite(bad):
    """NaN and infinity are rejected."""
    with pytest.raises(ValueError, match="finite"):
        parse_duration(bad)


def test_positive_duration_rejects_zero():
    """A positive duration must be greater than zero."""
    with pytest.raises(ValueError, match="greater than zero"):
        parse_duration("0ms", positive=True)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [("300/s", 300.0), ("18k/min", 300.0), ("5/h", 5 / 3600), ("1.2k/s", 1200.0), ("2M/d", 2e6 / 86400),
     ("30/m", 0.5), (7, 7.0), (0.25, 0.25), ("1e3", 1000.0), ("300 / s", 300.0)],
)
def test_rate_units(text, per_second):
    """Rates convert to events per second; a bare number is per second."""
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize("bad", ["0/s", 0, -3, "-3/s", 0.0])
def test_rate_must_be_positive(bad):
    """Zero and negative rates are rejected."""
    with pytest.raises(ValueError, match="greater than zero"):
        parse_rate(bad)


@pytest.mark.parametrize("bad", ["lots", "300/fortnight", "k/s", True, None])
def test_malformed_rate_names_expectation(bad):
    """A malformed rate says what a rate looks like."""
    with pytest.raises(ValueError, match=r"expected a rate such as '300/s', '18k/min', '5/h'"):
        parse_rate(bad)


@pytest.mark.parametrize(("value", "fraction"), [("60%", 0.6), (0.6, 0.6), ("0.6", 0.6), (0, 0.0), (1, 1.0),
                                                 ("100%", 1.0), ("0.5 %", 0.005)])
def test_fraction_forms(value, fraction):
    """Fractions accept percentages and plain numbers in [0, 1]."""
    assert parse_fraction(value) == pytest.approx(fraction)


def test_fraction_above_one_suggests_percent():
    """A bare 60 is probably meant as 60%, and the message says so."""
    with pytest.raises(ValueError, match=r"between 0 and 1; got 60 \(did you mean '60%'\?\)"):
        parse_fraction(60)


@pytest.mark.parametrize("bad", [-0.1, "150%", True, "half"])
def test_fraction_rejects_out_of_range_and_garbage(bad):
    """Fractions outside [0, 1] and non-numbers are rejected with the expectation."""
    with pytest.raises(ValueError, match=r"expected a fraction such as '60%' or 0.6"):
        parse_fraction(bad)


@pytest.mark.parametrize(("value", "count"), [(20000, 20000), ("20k", 20000), ("1e6", 1_000_000),
                                              ("2.5M", 2_500_000), (1e6, 1_000_000), ("1.2k", 1200),
                                              ("3G", 3e9)])
def test_count_forms(value, count):
    """Counts accept ints, suffixes and scientific notation, and come back as exact ints."""
    parsed = parse_count(value)
    assert parsed == count
    assert isinstance(parsed, int)


@pytest.mark.parametrize("bad", ["2.5", 2.5, "1.0001k"])
def test_count_must_be_whole(bad):
    """A count with a fractional part is rejected."""
    with pytest.raises(ValueError, match="expected a whole number"):
        parse_count(bad)


@pytest.mark.parametrize("bad", [True, "many", None, math.nan, math.inf])
def test_malformed_count_names_expectation(bad):
    """A malformed count says what a count looks like."""
    with pytest.raises(ValueError, match=r"expected a count such as 20000, '20k', '1e6' or '2.5M'"):
        parse_count(bad)


def test_count_rejects_negative():
    """Counts cannot be negative."""
    with pytest.raises(ValueError, match="cannot be negative"):
        parse_count(-5)


def test_number_accepts_numeric_string():
    """Plain numbers accept strings such as '1e-3', which YAML leaves unparsed."""
    assert parse_number("1e-3") == pytest.approx(0.001)


def test_annotated_types_parse_in_models():
    """The annotated types turn unit strings into floats and ints inside models."""
    model = Quantities(duration="20ms", positive="2s", rate="18k/min", fraction="60%", count="2.5M")
    assert (model.duration, model.positive, model.rate, model.fraction, model.count) == (
        pytest.approx(0.02), 2.0, pytest.approx(300.0), pytest.approx(0.6), 2_500_000)


def test_annotated_type_error_has_no_pydantic_prefix():
    """Validation errors carry the parser's message verbatim."""
    with pytest.raises(ValidationError) as info:
        Quantities(duration="fast")
    expected = "expected a duration such as '250us', '20ms', '2s', '5m', '1h'; got 'fast'"
    assert info.value.errors()[0]["msg"] == expected


def test_json_schema_advertises_string_or_number():
    """The JSON schema lets editors accept both "20ms" and 0.02."""
    schema = Quantities.model_json_schema()
    json.dumps(schema)
    variants = schema["properties"]["duration"]["anyOf"]
    assert {entry["type"] for entry in variants} == {"number", "string"}
    pattern = next(entry["pattern"] for entry in variants if entry["type"] == "string")
    assert re.match(pattern, "20ms") and not re.match(pattern, "fast")


@pytest.mark.parametrize("name", ["rate", "fraction", "count"])
def test_json_schema_patterns_match_examples(name):
    """Each advertised pattern accepts the documented examples."""
    examples = {"rate": "18k/min", "fraction": "60%", "count": "2.5M"}
    variants = Quantities.model_json_schema()["properties"][name]["anyOf"]
    pattern = next(entry["pattern"] for entry in variants if entry["type"] == "string")
    assert re.match(pattern, examples[name])


@pytest.mark.parametrize(("seconds", "text"), [(0.02, "20ms"), (90, "1.5m"), (0.00025, "250us"), (0, "0s"),
                                               (7200, "2h")])
def test_format_duration(seconds, text):
    """Durations render in the largest readable unit."""
    assert format_duration(seconds) == text
