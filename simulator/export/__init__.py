"""Exporting a finished run to the formats monitoring tools read: OpenMetrics text (Prometheus,
``promtool tsdb create-blocks-from openmetrics``) and OTLP/JSON traces (OpenTelemetry)."""

from simulator.export.openmetrics import ORIGIN, openmetrics_text
from simulator.export.otlp import otlp_json, sample_mask
from simulator.export.writer import export_run, parse_fraction

__all__ = ["ORIGIN", "export_run", "openmetrics_text", "otlp_json", "parse_fraction", "sample_mask"]
