"""Selecting the best variant (Kim-Nelson): the truly best wins, decisions don't depend on batching."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from simulator import scenario_from_dict
from simulator.cli import app
from simulator.experiment import ExperimentError
from simulator.experiment.ranking import kn_h2, rank
from tests.experiments import tiny, write

runner = CliRunner()


def test_h2_matches_kim_and_nelson():
    """h^2 = 2 eta (n0 - 1), eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2."""
    assert kn_h2(2, 10, 0.95) == pytest.approx(9 * (0.1 ** (-2 / 9) - 1))
    assert kn_h2(5, 10, 0.95) > kn_h2(2, 10, 0.95)  # more systems, a wider continuation region


def test_the_truly_best_variant_is_selected():
    """Planted case: 6 workers have the lowest mean latency; KN selects them and eliminates the rest."""
    scenario = scenario_from_dict(tiny(rate=25))
    result = rank(scenario, "latency_mean", delta=0.005)
    assert result.best == "six" and result.contenders == ["six"]
    assert set(result.eliminated) == {"three", "four"}
    assert result.means["six"] < result.means["four"] < result.means["three"]


def test_higher_is_better_metrics_are_maximised():
    """For availability the variant with the highest mean wins."""
    scenario = scenario_from_dict(tiny(rate=38, variants={"two": {"components.app.workers": 2},
                                                          "five": {"components.app.workers": 5}}))
    assert rank(scenario, "availability", delta=0.01, first_stage=5).best == "five"


def test_batched_replications_give_the_same_decision(tmp_path):
    """Running several replications at once (a pool) changes nothing in who is eliminated when."""
    scenario = scenario_from_dict(tiny(rate=25))
    one = rank(scenario, "latency_mean", delta=0.005, jobs=1, out=tmp_path)
    batched = rank(scenario, "latency_mean", delta=0.005, jobs=4, out=tmp_path)
    assert (batched.best, batched.eliminated) == (one.best, one.eliminated)


def test_rank_command_prints_json(tmp_path):
    """`cascade compare --rank METRIC --delta X --json` names the best variant."""
    path = write(tmp_path / "tiny.yaml", tiny(rate=25))
    out = runner.invoke(app, ["compare", str(path), "--rank", "latency_mean", "--delta", "5ms", "--jobs", "1",
                              "--json", "--out", str(tmp_path / "res")])
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["best"] == "six" and data["procedure"].startswith("Kim-Nelson")


@pytest.mark.parametrize(("metric", "delta", "message"), [
    ("offered", 1.0, "no better direction"), ("latency_mean", 0.0, "--delta must be greater than 0"),
])
def test_rank_refuses_what_it_cannot_do(metric, delta, message):
    """Neutral metrics and a zero indifference zone are input errors."""
    with pytest.raises(ExperimentError, match=message):
        rank(scenario_from_dict(tiny()), metric, delta=delta)
