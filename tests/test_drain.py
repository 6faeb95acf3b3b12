"""What a run counts: served throughput, the drain after the measurement window, replications."""

from __future__ import annotations

import json

import numpy as np
import pytest

from simulator import run
from simulator.scenario.schema import DEFAULT_DRAIN, ClientSpec, client_patience


def _mmc(**extra) -> dict:
    return {"name": "mmc", "duration": "2000s", "warmup": "100s", "seed": 3,
            "workload": [{"name": "jobs", "entry": "server",
                          "arrivals": {"pattern": "poisson", "rate": "8/s"}}],
            "components": [{"kind": "service", "name": "server", "workers": 10,
                            "service_time": {"dist": "exponential", "mean": "1s"}}], **extra}


def test_healthy_run_reports_full_availability(make_scenario):
    """M/M/c at 80% load: every measured request ends during the drain, so availability is 1.0."""
    s = run(make_scenario(_mmc())).summary
    assert s["incomplete"] == 0
    assert s["availability"] == 1.0
    assert s["completed"] == s["offered"]


def test_stuck_requests_still_count_as_incomplete(make_scenario):
    """An overloaded server whose clients never time out: what the drain cannot finish is incomplete."""
    data = _mmc(drain="30s")
    data["workload"][0]["arrivals"]["rate"] = "12/s"  # 120% of capacity: the queue grows forever
    s = run(make_scenario(data)).summary
    assert s["incomplete"] > 1000
    assert s["availability"] < 0.9
    assert s["offered"] == s["ok"] + s["incomplete"]


def test_drain_keeps_traffic_coming(make_scenario):
    """During the drain new requests keep arriving (the system is not emptied artificially)."""
    data = _mmc(duration="200s", warmup="0s", drain="50s")
    data["workload"][0]["arrivals"]["rate"] = "12/s"
    result = run(make_scenario(data))
    assert result.requests["t_arrival"].max() > 200.0
    assert result.summary["offered"] == (result.requests["t_arrival"] < 200.0).sum()
    assert result.traffic["t"].max() < 200.0  # the table covers the measurement window only


def test_throughput_counts_only_served_requests(make_scenario):
    """Overloaded bounded queue: throughput = goodput + served errors; rejections are not served."""
    data = _mmc(duration="600s", warmup="60s")
    data["workload"][0]["arrivals"]["rate"] = "20/s"
    data["components"][0].update(queue_limit=5, error_rate="10%")
    result = run(make_scenario(data))
    s = result.summary
    assert s["rejected"] > 1000
    span = 600 - 60
    served = result.requests.query("t_end >= 60 and t_end <= 600 and outcome in ['ok', 'error']")
    assert s["throughput"] == pytest.approx(len(served) / span)
    assert s["throughput"] == pytest.approx(10.0, rel=0.03)  # capacity: 10 workers x 1/s
    assert s["goodput"] == pytest.approx(0.9 * s["throughput"], rel=0.03)
    t = result.traffic
    np.testing.assert_allclose(t["throughput"], t["ok"] + t["error"])
    assert t["throughput"].mean() == pytest.approx(10.0, rel=0.03)  # what the load plot draws
    assert t["offered"].mean() == pytest.approx(20.0, rel=0.03)


def test_default_drain_covers_the_longest_client_wait():
    """Default drain: every attempt timing out plus the longest backoffs; 60 s without a timeout."""
    assert client_patience(ClientSpec()) == DEFAULT_DRAIN
    assert client_patience(ClientSpec(timeout=2.0)) == 2.0
    spec = ClientSpec.model_validate({"timeout": 1.0, "retry": {"max_attempts": 3, "base": 0.1, "cap": 0.15,
                                                                 "jitter": "full"}})
    assert client_patience(spec) == pytest.approx(3.0 + 0.1 + 0.15)


def test_replications_give_one_row_each(tmp_path):
    """cascade run --replications 3: three distinct rows per metric; the table shows their mean."""
    from typer.testing import CliRunner

    from simulator.cli import app
    from simulator.results import read_summary

    path = tmp_path / "mmc.yaml"
    path.write_text(json.dumps(_mmc(duration="300s", warmup="0s")))
    result = CliRunner().invoke(app, ["run", str(path), "--replications", "3", "--no-plots",
                                      "--out", str(tmp_path / "out"), "--json"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (tmp_path / "out" / "mmc").iterdir()
    summary = read_summary(run_dir / "summary.csv")
    offered = summary[summary.metric == "offered"]
    assert sorted(offered.replication) == [0, 1, 2]
    assert offered.value.nunique() == 3
    shown = json.loads(result.stdout)["offered"]
    assert shown == pytest.approx(offered.value.mean())
