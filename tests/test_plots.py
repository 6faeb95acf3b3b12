"""Plots are pure: frames in, Figures out, and empty or NaN input never raises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from simulator import plots


def traffic(n: int = 60, workloads: tuple[str, ...] = ("browse",)) -> pd.DataFrame:
    """A synthetic traffic table shaped like RunResult.traffic."""
    t = np.arange(n, dtype=float)
    rows = []
    for w in workloads:
        rows.append(pd.DataFrame({
            "t": t, "workload": w, "offered": 100.0, "throughput": 95.0, "goodput": 90.0,
            "ok": 90.0, "error": 2.0, "timeout": 2.0, "rejected": 1.0, "unavailable": 0.0,
            "latency_p50": 0.01, "latency_p95": 0.05 + t / 1000, "latency_p99": np.linspace(0.1, 2.0, n)}))
    return pd.concat(rows, ignore_index=True)


def series(n: int = 60) -> pd.DataFrame:
    """A synthetic gauge table shaped like RunResult.series (categoricals, as the recorder makes)."""
    t = np.repeat(np.arange(n, dtype=float), 4)
    component = np.tile(["app", "app", "db", "db"], n)
    metric = np.tile(["utilization", "queue"], 2 * n)
    return pd.DataFrame({"t": t, "component": pd.Categorical(component), "metric": pd.Categorical(metric),
                         "value": np.random.default_rng(1).uniform(0, 1, 4 * n)})


TIME_PLOTS = [plots.plot_load, plots.plot_latency, plots.plot_outcomes]


@pytest.mark.parametrize("plot", TIME_PLOTS)
def test_time_plots_return_figures(plot):
    """Each traffic plot returns a Figure with drawn lines or areas."""
    fig = plot(traffic(workloads=("browse", "buy")))
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.lines or ax.collections


@pytest.mark.parametrize("plot", TIME_PLOTS)
@pytest.mark.parametrize("frame", [pd.DataFrame(), None, traffic(0), traffic(5).assign(
    offered=np.nan, throughput=np.nan, goodput=np.nan, ok=np.nan, error=np.nan, timeout=np.nan,
    rejected=np.nan, unavailable=np.nan, latency_p50=np.nan, latency_p95=np.nan, latency_p99=np.nan)])
def test_time_plots_survive_empty_input(plot, frame):
    """Empty, missing or all-NaN traffic gives a Figure with a 'no data' note, not an exception."""
    fig = plot(frame)
    assert isinstance(fig, Figure)
    assert any("no data" in text.get_text() for text in fig.axes[0].texts)


def test_latency_switches_to_log_scale_for_wide_spread():
    """Latencies spanning orders of magnitude are drawn on a log axis."""
    assert plots.plot_latency(traffic()).axes[0].get_yscale() == "log"
    flat = traffic().assign(latency_p50=0.01, latency_p95=0.012, latency_p99=0.015)
    assert plots.plot_latency(flat).axes[0].get_yscale() == "linear"


def test_components_has_two_panels_one_line_per_component():
    """Utilisation and queue panels each get one line per component."""
    fig = plots.plot_components(series())
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]


@pytest.mark.parametrize("frame", [pd.DataFrame(), None, series(0)])
def test_components_survive_empty_input(frame):
    """No gauges still gives a two-panel Figure."""
    assert len(plots.plot_components(frame).axes) == 2


def test_variant_comparison_bars_per_variant():
    """One panel per metric, one bar per variant; a missing metric is shown, not fatal."""
    summaries = {"baseline": {"availability": 0.8, "latency_p99": 1.2},
                 "breaker": {"availability": 0.99, "latency_p99": float("nan")}}
    fig = plots.plot_variant_comparison(summaries, metrics=["availability", "latency_p99", "goodput"])
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert len(visible[0].patches) == 2
    assert plots.plot_variant_comparison({}).axes


def test_latency_panels_say_successful_requests_only():
    """Latency is measured over ok requests only; the panel and comparison titles say so."""
    ax = plots.plot_latency(traffic()).axes[0]
    assert "successful" in ax.get_title() and "ok only" in ax.get_ylabel()
    fig = plots.plot_variant_comparison({"a": {"latency_p99": 0.2}}, metrics=["latency_p99"])
    assert fig.axes[0].get_title() == "latency_p99 (ms, ok only)"


def test_queue_labels_say_what_they_add_up():
    """The queue panel sums replicas; queue_max is the longest single queue: labels tell them apart."""
    queue_ax = plots.plot_components(series()).axes[1]
    assert "all replicas" in queue_ax.get_ylabel() and "all replicas" in queue_ax.get_title()
    fig = plots.plot_variant_comparison({"a": {"queue_max.app": 12.0}}, metrics=["queue_max.app"])
    assert fig.axes[0].get_title() == "queue_max.app (longest single queue)"


def test_fault_windows_pairs_start_and_end():
    """fault_start/fault_end events become shaded windows; an unfinished fault stays open."""
    events = pd.DataFrame({"t": [10.0, 20.0, 30.0], "kind": ["fault_start", "fault_end", "fault_start"],
                           "component": ["db", "db", "app"], "detail": ["slow", "slow", "crash"]})
    assert plots.fault_windows(events) == [(10.0, 20.0, "slow"), (30.0, float("inf"), "crash")]
    fig = plots.plot_load(traffic(), windows=plots.fault_windows(events))
    assert isinstance(fig, Figure)


def test_save_run_plots_writes_pngs(tmp_path):
    """save_run_plots writes the four PNGs and nothing else (no temp files left)."""
    result = type("R", (), {"scenario": "s", "variant": "v", "traffic": traffic(), "series": series(),
                            "events": pd.DataFrame(columns=["t", "kind", "component", "detail"])})()
    paths = plots.save_run_plots(result, tmp_path / "plots")
    assert sorted(p.name for p in paths) == ["components.png", "latency.png", "load.png", "outcomes.png"]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(p.name for p in paths)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_plots_do_not_touch_pyplot():
    """Building figures never imports pyplot (no global figure registry, no backend selection)."""
    import subprocess
    import sys

    code = ("import sys; from simulator import plots; import pandas as pd; plots.plot_load(pd.DataFrame());"
            "print('matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_components_show_replicas_over_time_when_a_count_changes():
    """Autoscaling or a schedule changes a fleet: a third panel draws replicas for those components."""
    frame = series()
    t = np.arange(0.0, 10.0)
    grown = pd.DataFrame({"t": t, "component": "app", "metric": "replicas",
                          "value": np.where(t < 5, 2.0, 4.0)})
    steady = pd.DataFrame({"t": t, "component": "db", "metric": "replicas", "value": 1.0})
    fig = plots.plot_components(pd.concat([frame, grown, steady], ignore_index=True))
    assert len(fig.axes) == 3
    assert [line.get_label() for line in fig.axes[2].lines] == ["app"]
    assert len(plots.plot_components(pd.concat([frame, steady], ignore_index=True)).axes) == 2


def test_alert_windows_pair_firing_with_resolved():
    """``alert`` events become firing spans per alert; pending ones are not spans; one still firing
    at the end stays open."""
    events = pd.DataFrame({"t": [5.0, 10.0, 20.0, 30.0, 40.0],
                           "kind": ["alert", "alert", "alert", "fault_start", "alert"],
                           "component": ["errs", "errs", "errs", "db", "slow"],
                           "detail": ["pending x=1", "firing x=1", "resolved x=0", "slow", "firing y=2"]})
    assert plots.alert_windows(events) == [(10.0, 20.0, "errs"), (40.0, float("inf"), "slow")]


def alert_spans(fig) -> int:
    """Shaded spans drawn in the alert colour (axvspan patches) on a figure's first axes."""
    from matplotlib.colors import to_rgba

    colour = to_rgba(plots.ALERT_COLOR)[:3]
    return sum(1 for patch in fig.axes[0].patches if tuple(patch.get_facecolor()[:3]) == colour)


def test_timeseries_plots_shade_the_spans_an_alert_fired(tmp_path):
    """A run whose alert fires twice (two outages) gets two shaded spans on every timeseries plot;
    the same plots without alerts get none."""
    from simulator import run
    from simulator.scenario.loader import scenario_from_dict

    outage = {"kind": "errors", "target": "app", "for": 120, "rate": 1.0}
    spec = {"name": "shade", "duration": "15m", "seed": 1,
            "workload": [{"name": "web", "entry": "app", "arrivals": {"pattern": "deterministic",
                                                                      "rate": "10/s"}}],
            "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 4,
                            "service_time": "10ms"}],
            "faults": [{**outage, "name": "one", "at": 180}, {**outage, "name": "two", "at": 540}],
            "alerts": [{"name": "errors", "kind": "threshold", "metric": "error_ratio", "window": "1m",
                        "op": ">", "value": 0.5}]}
    result = run(scenario_from_dict(spec, source="shade.yaml", base_dir=tmp_path))
    alerts = plots.alert_windows(result.events)
    assert len(alerts) == result.summary["alerts_fired.errors"] == 2
    for build, frame in ((plots.plot_load, result.traffic), (plots.plot_latency, result.traffic),
                         (plots.plot_outcomes, result.traffic), (plots.plot_components, result.series)):
        assert alert_spans(build(frame, alerts=alerts)) == 2
        assert alert_spans(build(frame)) == 0
