"""Paired comparisons: means and intervals per variant, paired differences, verdicts, files, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator import compare, scenario_from_dict
from simulator.cli import app
from simulator.experiment import ExperimentError
from simulator.experiment.compare import comparison_of
from simulator.experiment.stats import paired_interval, welch_interval
from simulator.experiment.tasks import RunRecord
from simulator.experiment.warmup import mser
from tests.experiments import tiny, write

runner = CliRunner()


def _values(comparison, variant, metric):
    rows = comparison.summary[(comparison.summary["variant"] == variant)
                              & (comparison.summary["metric"] == metric)]
    return list(rows.sort_values("replication")["value"])


def _row(comparison, variant, metric):
    table = comparison.table
    return table[(table["variant"] == variant) & (table["metric"] == metric)].iloc[0]


def test_more_workers_is_better_on_latency_and_the_verdict_says_so():
    """A planted difference (3 vs 6 workers) is found, in the right direction, with an interval."""
    result = compare(scenario_from_dict(tiny()), replications=4)
    assert result.baseline == "three" and result.replications == 4
    six = _row(result, "six", "latency_mean")
    assert six["diff_high"] < 0 and six["verdict"] == "better"
    assert six["low"] <= six["mean"] <= six["high"]
    assert _row(result, "three", "latency_mean")["verdict"] == "baseline"
    assert six["diff"] == pytest.approx(six["mean"] - _row(result, "three", "latency_mean")["mean"])


def test_paired_intervals_are_narrower_than_unpaired_ones():
    """Common random numbers at work: the paired interval of a real difference is the narrower one."""
    result = compare(scenario_from_dict(tiny(rate=25)), ["four", "six"], replications=6)
    four, six = _values(result, "four", "latency_mean"), _values(result, "six", "latency_mean")
    paired, unpaired = paired_interval(six, four), welch_interval(six, four)
    assert paired.high - paired.low < 0.7 * (unpaired.high - unpaired.low)


def test_a_null_difference_is_flagged_at_about_the_stated_rate():
    """Two variants that differ only in their seed: about 5% of 95% paired intervals miss zero."""
    flagged = 0
    for experiment in range(40):
        variants = {"a": {"seed": 2 * experiment + 1}, "b": {"seed": 2 * experiment + 2}}
        scenario = scenario_from_dict(tiny(rate=20, duration=10, variants=variants))
        row = _row(compare(scenario, replications=4), "b", "latency_mean")
        flagged += row["verdict"] != "no significant difference"
    assert flagged <= 6  # expected 2 of 40; P(7 or more) is about 0.3%


def test_yes_no_metrics_are_proportions_with_wilson_intervals():
    """``stuck`` is reported as the share of runs, its interval inside [0, 1]."""
    summaries = {(v, r): {"stuck": v == "bad" and r < 3, "latency_p99": 0.1 + (v == "bad") + r / 100}
                 for v in ("good", "bad") for r in range(5)}
    records = [RunRecord(v, r, (), 1, "", 0.0, summary) for (v, r), summary in summaries.items()]
    result = comparison_of(records, "planted", ["good", "bad"], "good", 5)
    bad = _row(result, "bad", "stuck")
    assert (bad["kind"], bad["mean"]) == ("proportion", 0.6)
    assert bad["low"] == pytest.approx(0.2307, abs=1e-4) and bad["high"] == pytest.approx(0.8824, abs=1e-4)
    assert _row(result, "bad", "latency_p99")["verdict"] == "worse"
    assert -1 <= bad["diff_low"] <= bad["diff_high"] <= 1  # a difference of shares stays a share


def test_json_has_the_documented_shape_and_no_nan(tmp_path):
    """--json prints one strict object: baseline, replications, variants{mean,low,high}, paired{...}."""
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["compare", str(path), "--replications", "3", "--jobs", "1", "--json",
                              "--no-plots", "--out", str(tmp_path / "res"), "--baseline", "four"])
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert set(data) == {"baseline", "replications", "variants", "paired"}
    assert (data["baseline"], data["replications"]) == ("four", 3)
    assert set(data["variants"]) == {"three", "four", "six"} and set(data["paired"]) == {"three", "six"}
    assert set(data["variants"]["six"]["availability"]) == {"mean", "low", "high"}
    six = data["paired"]["six"]["latency_p99"]
    assert set(six) == {"diff", "low", "high", "verdict"}
    means = {v: data["variants"][v]["latency_p99"]["mean"] for v in ("six", "four")}
    assert six["diff"] == pytest.approx(means["six"] - means["four"])


def test_compare_writes_tables_and_plots(tmp_path):
    """summary.csv (variant, replication, metric, value), comparison.csv and the two plots."""
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["compare", str(path), "--variants", "three,six", "--replications", "2",
                              "--jobs", "1", "--out", str(tmp_path / "res")])
    assert out.exit_code == 0, out.stderr
    assert "paired differences vs three" in out.stdout and "verdict" in out.stdout
    directory = tmp_path / "res" / "tiny" / "compare"
    header = (directory / "summary.csv").read_text().splitlines()[0]
    assert header == "variant,replication,metric,value"
    assert (directory / "comparison.csv").read_text().startswith("metric,variant,kind,n,mean,low,high,diff")
    for name in ("intervals.png", "timeseries.png"):
        assert (directory / "plots" / name).read_bytes()[:4] == b"\x89PNG"


def test_rerunning_the_same_compare_runs_nothing_again(tmp_path):
    """Finished runs are kept under the output directory and reused by the same command."""
    calls = []
    scenario = scenario_from_dict(tiny())
    first = compare(scenario, replications=2, out=tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (0, 6) and calls[-1] == (6, 6)
    calls.clear()
    again = compare(scenario, replications=3, out=tmp_path, progress=lambda d, t: calls.append((d, t)))
    assert calls[0] == (6, 9)  # the six finished runs are loaded, three new ones run
    assert again.summary[again.summary["replication"] < 2].reset_index(drop=True).equals(
        first.summary.reset_index(drop=True))


def test_a_changed_scenario_does_not_reuse_stale_runs(tmp_path):
    """A stored run is reused only if the resolved spec, seed and duration are the same."""
    compare(scenario_from_dict(tiny()), replications=1, out=tmp_path)
    calls = []
    compare(scenario_from_dict(tiny(rate=31)), replications=1, out=tmp_path,
            progress=lambda d, t: calls.append(d))
    assert calls[0] == 0


def test_new_variants_and_expectations_keep_stored_runs(tmp_path):
    """Adding a variant, an expectation or a description changes no run: nothing is redone."""
    compare(scenario_from_dict(tiny()), ["three"], replications=2, out=tmp_path)
    more = tiny(description="edited", expect=[{"variant": "three", "metric": "goodput", "above": 1}])
    more["variants"]["eight"] = {"components.app.workers": 8}
    calls = []
    compare(scenario_from_dict(more), ["three"], replications=2, out=tmp_path,
            progress=lambda d, t: calls.append(d))
    assert calls == [2]


def test_auto_warmup_is_chosen_by_mser_and_reported():
    """warmup='auto' picks a truncation point from a pilot run and reports it."""
    result = compare(scenario_from_dict(tiny(duration=30)), ["three", "six"], replications=2, warmup="auto")
    assert result.warmup_auto and 0 <= result.warmup < 15


def test_mser_cuts_an_initial_transient():
    """A series that starts 50 below its steady level is cut where the transient ends."""
    series = [min(i, 50) * 1.0 + (i % 3) for i in range(200)]  # ramp up over 50 values, then flat
    assert 45 <= mser(series) <= 60
    assert mser([5.0] * 100) == 0


@pytest.mark.parametrize("options", [["--variants", "three,nope"], ["--baseline", "nope"],
                                     ["--replications", "0"], ["--warmup", "soon"]])
def test_bad_options_exit_2_with_one_line(tmp_path, options):
    """Unknown variants, zero replications and malformed warm-ups are input errors."""
    path = write(tmp_path / "tiny.yaml", tiny())
    out = runner.invoke(app, ["compare", str(path), "--jobs", "1", "--out", str(tmp_path), *options])
    assert out.exit_code == 2
    assert "Traceback" not in out.stderr and out.stderr.strip()


def test_library_refuses_unknown_variant():
    """The Python API raises ExperimentError naming the known variants."""
    with pytest.raises(ExperimentError, match="the scenario has: three, four, six"):
        compare(scenario_from_dict(tiny()), ["three", "seven"], replications=1)


def test_auto_warmup_sees_a_latency_transient_that_goodput_hides():
    """A queue filling up: goodput flat from the start, median latency rising for 300 s. Before,
    MSER-5 on goodput alone cut at 0 s; on goodput and latency it takes the later (latency) cut."""
    from simulator.experiment.warmup import truncation_time

    t = np.arange(0.0, 2000.0, 10.0)
    wobble = np.where(np.arange(t.size) % 2 == 0, 0.01, -0.01)
    traffic = pd.DataFrame({"t": t, "workload": "web", "goodput": 8.0 + wobble,
                            "latency_p50": np.minimum(t, 300.0) / 300.0 + wobble})
    assert truncation_time(traffic[["t", "workload", "goodput"]]) == 0.0  # the old, goodput-only view
    assert 250.0 <= truncation_time(traffic) <= 350.0
    traffic.loc[traffic["t"] < 50, "latency_p50"] = np.nan  # intervals without an ok answer
    assert 250.0 <= truncation_time(traffic) <= 350.0
