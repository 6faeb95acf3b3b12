"""One self-contained HTML page per experiment directory: ``cascade report DIR``.

The page is rendered by a jinja2 template (autoescaped: scenario names and reasons are data,
never markup) from what the experiment wrote: ``experiment.json``, its table (comparison.csv,
sweep.csv or results.csv) and every PNG under ``plots/``, embedded as base64 so the single
file can be attached to a CI run or mailed without its directory. No scripts, no external
requests: it opens the same in any browser, online or not.
"""

from __future__ import annotations

import base64
import math
import struct
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from simulator.experiment.cli_support import fmt, fmt_range
from simulator.experiment.errors import ExperimentError
from simulator.experiment.output import EXPERIMENT_FILE, read_meta
from simulator.files import atomic_write_text

TEMPLATES = Path(__file__).parent / "templates"
REPORT_FILE = "report.html"
SHOWN_SWEEP = ("availability", "goodput", "latency_p99", "amplification", "stuck")


def write_report(directory: Path) -> Path:
    """Render ``directory`` (a compare, sweep or check directory) to ``directory/report.html``."""
    directory = Path(directory)
    return atomic_write_text(directory / REPORT_FILE, render_report(directory))


def render_report(directory: Path) -> str:
    """The HTML page of an experiment directory."""
    directory = Path(directory)
    if not (directory / EXPERIMENT_FILE).is_file():
        raise ExperimentError(f"{directory}: not an experiment directory (no {EXPERIMENT_FILE}; "
                              "run cascade compare, sweep or check first)")
    meta = read_meta(directory)
    kind = meta.get("kind", "experiment")
    builders = {"compare": _compare_tables, "sweep": _sweep_tables, "check": _check_tables}
    tables = builders.get(kind, lambda d, m: [])(directory, meta)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("report.html.j2").render(
        title=f"cascade {kind}: {meta.get('scenario', directory.name)}", kind=kind,
        scenario=meta.get("scenario"), timestamp=meta.get("timestamp"), command=meta.get("command"),
        notes=_notes(meta), status=_status(meta), tables=tables, figures=_figures(directory),
        version=meta.get("versions", {}).get("cascade-sim", ""),
        confidence=f"{meta.get('confidence', 0.95):.0%}")


def _notes(meta: dict[str, Any]) -> list[str]:
    notes = []
    if "replications" in meta and not isinstance(meta["replications"], dict):
        notes.append(f"{meta['replications']} replications per variant"
                     + (f", variants {', '.join(meta['variants'])}" if meta.get("variants") else ""))
    if meta.get("warmup") is not None:
        how = "chosen by MSER-5 on goodput" if meta.get("warmup_auto") else "fixed"
        notes.append(f"warm-up {meta['warmup']:g} s ({how}), excluded from every metric")
    if meta.get("params"):
        notes.append(f"swept: {', '.join(meta['params'])}")
    return notes


def _status(meta: dict[str, Any]) -> dict[str, str] | None:
    if meta.get("kind") != "check":
        return None
    passed = bool(meta.get("passed"))
    return {"css": "pass" if passed else "fail",
            "text": "all expectations hold" if passed else "some expectations FAIL"}


def _compare_tables(directory: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison: per metric and variant, mean and interval, paired diff and verdict."""
    frame = pd.read_csv(directory / "comparison.csv", keep_default_na=False, na_values=[""])
    baseline = meta.get("baseline", "")
    rows = []
    for metric, group in frame.groupby("metric", sort=False):
        for index, row in enumerate(group.itertuples(index=False)):
            is_base = row.verdict == "baseline"
            cells = [_cell(metric if index == 0 else "", "text"), _cell(row.variant, "text"),
                     _cell(fmt(metric, row.mean, row.kind)),
                     _cell(fmt_range(metric, row.low, row.high, row.kind)),
                     _cell("" if is_base else fmt(metric, row.diff, row.kind, signed=True)),
                     _cell("" if is_base else fmt_range(metric, row.diff_low, row.diff_high, row.kind, True)),
                     _cell("baseline" if is_base else row.verdict,
                           "text " + ("muted" if is_base else str(row.verdict)))]
            rows.append({"css": "group" if index == 0 else "", "cells": cells})
    headers = ["metric", "variant", "mean", "interval", f"diff vs {baseline}", "interval", "verdict"]
    return [{"title": "Comparison", "headers": headers, "text_columns": [0, 1, 6], "rows": rows,
             "note": "diff = variant minus baseline, paired by replication (common random numbers)"}]


def _sweep_tables(directory: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The sweep: per point and variant, the key metrics with intervals."""
    frame = pd.read_csv(directory / "sweep.csv", keep_default_na=False, na_values=[""])
    params = list(meta.get("params", []))
    metrics = [m for m in SHOWN_SWEEP if (frame["metric"] == m).any()]
    rows = []
    for key, group in frame[frame["metric"].isin(metrics)].groupby([*params, "variant"], sort=False):
        by_metric = {r.metric: r for r in group.itertuples(index=False)}
        cells = [_cell(str(k), "text") for k in key]
        for m in metrics:
            r = by_metric.get(m)
            text = "–" if r is None else f"{fmt(m, r.mean, r.kind)} {fmt_range(m, r.low, r.high, r.kind)}"
            cells.append(_cell(text))
        rows.append({"css": "", "cells": cells})
    headers = [p.rsplit(".", 1)[-1] for p in params] + ["variant", *metrics]
    return [{"title": "Sweep", "headers": headers, "text_columns": list(range(len(params) + 1)),
             "rows": rows, "note": "mean [interval] per point; every metric is in sweep.csv"}]


def _check_tables(directory: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The claims: pass/fail, measured value and margin in the metric's unit, interval and the reason
    for each failure (a results.csv written before the margin existed shows "-" there)."""
    from simulator.experiment.check import interval_text, margin_text, measured_text
    from simulator.experiment.expectations import ROW_COLUMNS

    frame = pd.read_csv(directory / "results.csv", keep_default_na=False, na_values=[""])
    frame = frame.reindex(columns=list(dict.fromkeys([*ROW_COLUMNS, *frame.columns])))
    rows = []
    for row in frame.itertuples(index=False):
        passed = str(row.passed).lower() == "true"
        cells = [_cell("pass" if passed else "FAIL", "text " + ("pass" if passed else "fail")),
                 _cell(row.scenario, "text"), _cell(row.expectation, "text"), _cell(measured_text(row)),
                 _cell(margin_text(row)), _cell(interval_text(row)), _cell(row.reason or "", "wrap")]
        rows.append({"css": "", "cells": cells})
    headers = ["result", "scenario", "expectation", "measured", "margin", "interval", "reason"]
    return [{"title": "Expectations", "headers": headers, "text_columns": [0, 1, 2, 6], "rows": rows,
             "note": ""}]


def _figures(directory: Path) -> list[dict[str, Any]]:
    """Every PNG under plots/, base64-encoded, with its pixel width (shown at most page-wide)."""
    figures = []
    for path in sorted((directory / "plots").glob("*.png")):
        data = path.read_bytes()
        figures.append({"name": path.name, "data": base64.b64encode(data).decode("ascii"),
                        "width": _png_width(data)})
    return figures


def _png_width(data: bytes) -> int:
    """Width in pixels from the PNG header (IHDR), 800 if unreadable."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int(struct.unpack(">I", data[16:20])[0])
    return 800


def _cell(text: Any, css: str = "") -> dict[str, str]:
    return {"text": "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text),
            "css": css}


def _num(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.4g}"
