"""What the terminal shows: readable numbers, labels that say what a row counts, a short progress clock."""

from __future__ import annotations

import pytest
from rich.console import Console

from simulator.console import format_clock, format_metric, row_label, summary_table
from simulator.metrics import is_count


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0, "0s"), (3.27, "3.2s"), (42.9, "42s"), (60.0, "1m"), (3200.4567, "53m20s"),
    (19999.99, "5h33m"), (3600.0, "1h"), (129659.0, "1d12h"),
])
def test_progress_clock_shows_two_whole_units(seconds, text):
    """Simulated time reads like a clock (53m20s / 5h33m), never 53.3409m; it rounds down."""
    assert format_clock(seconds) == text


@pytest.mark.parametrize("name", ["offered", "late_answers", "timeouts.checkout", "unavailable.lb",
                                  "queue_max.app"])
def test_counts_are_known_in_every_form(name):
    """Counts are recognised by family, per workload and per component too, and shown without decimals."""
    assert is_count(name)
    assert format_metric(name, 598192.0) == "598,192"


@pytest.mark.parametrize("name", ["availability", "goodput", "latency_p99", "queue_mean.app"])
def test_non_counts_are_not_counts(name):
    """Rates, ratios, latencies and averages keep their fractions."""
    assert not is_count(name)


def test_rows_say_what_latency_and_queues_count():
    """Latency rows are ok-only, queue_mean sums replicas, queue_max is the longest single queue."""
    assert row_label("latency_p99") == "latency_p99 (ok only)"
    assert row_label("latency_p50.browse") == "latency_p50.browse (ok only)"
    assert row_label("queue_mean.app") == "queue_mean.app (all replicas)"
    assert row_label("queue_max.app") == "queue_max.app (longest single queue)"
    assert row_label("availability") == "availability"


def test_table_rows_carry_the_labels():
    """The summary table shows the qualified labels next to the formatted values."""
    console = Console(width=200, record=True)
    console.print(summary_table({"base": {"latency_p99": 0.25, "queue_max.app": 3.0}}))
    text = console.export_text()
    assert "latency_p99 (ok only)" in text and "250.0 ms" in text
    assert "queue_max.app (longest single queue)" in text
