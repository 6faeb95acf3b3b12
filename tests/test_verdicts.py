"""Verdicts that cannot mislead (issue 15): a CI gate that cannot pass vacuously, claims and
measurements shown in the metric's unit, and a summary.md that quotes names as data."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from typer.testing import CliRunner

from simulator import check, scenario_from_dict
from simulator.cli import app
from simulator.experiment import ExperimentError
from simulator.experiment.check import CheckReport, markdown_text
from simulator.experiment.expectations import ROW_COLUMNS
from tests.experiments import tiny, write

runner = CliRunner()


def _check(tmp_path, path, *args):
    return runner.invoke(app, ["check", str(path), "--jobs", "1", "--replications", "3",
                               "--out", str(tmp_path / "res"), *args])


def test_a_file_without_expectations_is_exit_2_unless_allowed(tmp_path):
    """Before: "all expectations hold" above an empty table, exit 0. Now exit 2 with one line;
    --allow-empty accepts it explicitly."""
    path = write(tmp_path / "none.yaml", tiny())
    out = _check(tmp_path, path)
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "none.yaml: no expect: block" in lines[0] and "--allow-empty" in lines[0]
    assert "Traceback" not in out.stderr
    allowed = _check(tmp_path, path, "--allow-empty")
    assert allowed.exit_code == 0, allowed.stdout + allowed.stderr


def test_a_claim_on_a_metric_null_in_its_runs_is_exit_2(tmp_path):
    """stuck without any trigger is null in every run: judging it would pass or fail on nothing."""
    claim = {"variant": "six", "metric": "stuck", "at_most": 0}
    out = _check(tmp_path, write(tmp_path / "null.yaml", tiny(expect=[claim])))
    assert out.exit_code == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "expect[0].metric: 'stuck' is null" in lines[0]
    assert "3 of 3 runs of six" in lines[0] and "no trigger" in lines[0]
    with pytest.raises(ExperimentError, match="is null"):
        check([scenario_from_dict(tiny(expect=[claim]))], replications=3)


def test_claims_measurements_and_margins_are_shown_in_the_metric_unit(tmp_path):
    """Before: "better by 5%" showed the paired difference as raw seconds (-0.02...). Now the claim,
    the measured value and the margin carry units: ms, %, and the improvement as a share."""
    claims = [{"variant": "six", "metric": "latency_mean", "better_than": "three", "by": "5%"},
              {"variant": "three", "metric": "latency_p99", "below": "2s"},
              {"variant": "six", "metric": "availability", "at_least": "99%"}]
    result = check([scenario_from_dict(tiny(expect=claims))], replications=3)
    better, bound, share = (row for row in result.rows.itertuples(index=False))
    assert better.test == "better_than" and better.improvement > 0.05
    assert better.margin == pytest.approx(better.improvement - 0.05)  # no confidence: the mean's
    assert bound.expectation == "three latency_p99 < 2,000 ms"
    assert bound.margin == pytest.approx(2.0 - bound.measured)
    assert share.expectation == "six availability >= 99%"
    out = _check(tmp_path, write(tmp_path / "units.yaml", tiny(expect=claims)))
    assert out.exit_code == 0, out.stdout + out.stderr
    text = out.stdout
    assert f"{better.improvement:.1%} better" in text and " ms)" in text  # share, then the ms difference
    assert f"{better.margin * 100:+.1f} pp" in text
    assert "< 2,000 ms" in text and "99%" in text


def test_summary_md_escapes_what_it_quotes():
    """Names are data: a pipe must not split the table, HTML must not reach a CI page."""
    nasty = "a|b <img src=x onerror=alert(1)> & `tick`\nnext \\|"
    assert markdown_text(nasty) == ("a\\|b &lt;img src=x onerror=alert(1)&gt; &amp; &#96;tick&#96; "
                                    "next \\\\\\|")
    row = {"scenario": nasty, "expectation": f"{nasty} availability >= 99%", "variant": nasty,
           "metric": "availability", "measured": 0.5, "low": 0.4, "high": 0.6, "confidence": 0.95,
           "passed": False, "reason": "mean 50% is not at least 99%", "test": "at_least",
           "improvement": math.nan, "margin": -0.49}
    summary = CheckReport(pd.DataFrame([row], columns=ROW_COLUMNS), {}, [nasty]).markdown()
    table_row = next(line for line in summary.splitlines() if line.startswith("| **FAIL**"))
    assert "<img" not in summary and "`" not in summary
    unescaped_pipes = table_row.replace("\\|", "").count("|")
    assert unescaped_pipes == 8  # 7 cells: the pipes are the table's own, no more
    assert "| 50% | -49 pp |" in table_row
