"""The HTML report: one self-contained page, tables and embedded plots, checked in a real browser."""

from __future__ import annotations

import json
import shutil
import subprocess

import matplotlib.image
import pytest
from typer.testing import CliRunner

from simulator import compare, scenario_from_dict, sweep
from simulator.cli import app
from simulator.experiment.output import write_comparison
from simulator.experiment.report import render_report, write_report
from simulator.experiment.sweep_output import write_sweep
from tests.experiments import tiny

runner = CliRunner()
INSTALL = "apt-get install -y chromium"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """A finished comparison directory (2 replications of the tiny scenario)."""
    directory = tmp_path_factory.mktemp("compare")
    result = compare(scenario_from_dict(tiny()), replications=2, out=directory)
    write_comparison(result, directory)
    return directory


def test_report_is_one_self_contained_page(compared):
    """Tables and every plot are inside the page: no links to files, no scripts."""
    html = render_report(compared)
    assert html.count("data:image/png;base64,") == 2
    assert "<table>" in html and "diff vs three" in html and "latency_p99" in html
    assert "<script" not in html and 'src="plots/' not in html


def test_report_escapes_what_it_shows(compared, tmp_path):
    """Names and commands are text, never markup (a template engine with autoescape)."""
    shutil.copytree(compared, tmp_path / "copy")
    meta = json.loads((tmp_path / "copy" / "experiment.json").read_text())
    meta["command"] = "cascade compare <script>alert(1)</script>"
    (tmp_path / "copy" / "experiment.json").write_text(json.dumps(meta))
    html = render_report(tmp_path / "copy")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html


def test_report_command_and_bad_directory(compared, tmp_path):
    """`cascade report DIR` writes DIR/report.html; a directory that is no experiment exits 2."""
    out = runner.invoke(app, ["report", str(compared)])
    assert out.exit_code == 0 and (compared / "report.html").is_file()
    out = runner.invoke(app, ["report", str(tmp_path)])
    assert out.exit_code == 2 and "not an experiment directory" in out.stderr


def test_sweep_report_has_its_table_and_heatmap(tmp_path):
    """A two-parameter sweep renders its per-point table and its heatmap."""
    result = sweep(scenario_from_dict(tiny(variants={})), ["components.app.workers=3,4",
                                                           "workload.jobs.arrivals.rate=20,30"],
                   replications=2)
    write_sweep(result, tmp_path)
    html = render_report(tmp_path)
    assert "<h2>Sweep</h2>" in html and html.count("data:image/png;base64,") == 1


def test_report_renders_in_headless_chromium(compared, tmp_path):
    """Debian's chromium opens the page with no console errors and the plots visibly drawn."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip(f"chromium is not installed; install it with: {INSTALL}")
    page, shot = write_report(compared), tmp_path / "shot.png"
    done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1800",
                           "--enable-logging=stderr", "--v=0", f"--screenshot={shot}", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    pixels = matplotlib.image.imread(shot)[..., :3]
    colourful = (pixels.max(axis=-1) - pixels.min(axis=-1)) > 0.3  # the page's text and rules are grey
    assert colourful.sum() > 20_000  # the bars and lines of the embedded plots are drawn
    assert pixels.std() > 0.05  # a page with content, not a blank one
