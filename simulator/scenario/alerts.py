"""Alert rule specs: the ``alerts:`` list (monitoring inside the simulation, see docs/alerts.md).

Three kinds, each evaluated at multiples of ``evaluation_interval`` with Prometheus' state machine
(inactive -> pending -> firing -> resolved; ``for`` and ``keep_firing_for`` as in Prometheus):

- ``threshold``: a metric over a trailing ``window`` compared with a value (``error_ratio > 5%``);
- ``burn_rate``: the SRE workbook's multiwindow alert on the scenario's ``slo.availability``: the
  error ratio exceeds ``burn_rate x (1 - slo)`` over both ``long_window`` and ``short_window``;
- ``anomaly``: a detector (``ewma`` or ``rolling_zscore``) judging a metric per evaluation interval.

Variants override entries by name (``alerts.<name>.value: 0.1``) as for faults and mitigations.
Which metric names exist, and which workloads and components they may name, is checked once the
whole scenario is known (:func:`alert_problems`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Union

from pydantic import Field, model_validator

from simulator.scenario.alert_actions import ActionSpec
from simulator.scenario.base import Loc, Name, PositiveInt, PositiveNumber, SpecModel, spec_error
from simulator.scenario.expectations import parse_threshold
from simulator.scenario.problems import suggest
from simulator.units import Duration, PositiveDuration, pydantic_validator

Threshold = Annotated[float, pydantic_validator(parse_threshold)]
"""A value in the metric's unit as scenario files write it: ``0.05``, ``5%``, ``250ms``, ``300/s``."""

REQUEST_METRICS = ("error_ratio", "availability", "goodput", "offered", "throughput")
"""Per-window request metrics (optionally of one ``workload``); plus ``latency_pNN`` of ok requests."""
GAUGES = {"utilization": "utilization", "queue_length": "queue", "replicas": "replicas",
          "in_flight": "in_flight", "busy": "busy"}
"""``<gauge>.<component>`` names -> the component's sampled gauge (services and databases)."""
GAUGE_KINDS = ("service", "database")
LATENCY = re.compile(r"^latency_p(\d{1,2}(?:\.\d+)?)$")

Op = Literal[">", ">=", "<", "<="]


def latency_quantile(metric: str) -> float | None:
    """``latency_p99`` -> 0.99; None for any other name."""
    match = LATENCY.match(metric)
    return float(match.group(1)) / 100.0 if match else None


class _Alert(SpecModel):
    """What every rule shares: its name, Prometheus timing and how it is scored against faults."""

    name: Name
    """Alert name: in events (kind ``alert``) and summary metrics (``alerts_fired.<name>``...)."""
    hold: Duration = Field(default=0.0, alias="for")
    """``for:``: the condition must have been true at every evaluation for this long before the alert
    fires (0: it fires at the first true evaluation), seconds."""
    evaluation_interval: PositiveDuration = 15.0
    """Time between evaluations, seconds; evaluations happen at its multiples up to the duration."""
    keep_firing_for: Duration = 0.0
    """Once firing, keep firing this long after the condition turns false (Prometheus
    ``keep_firing_for``), seconds."""
    grace: Duration = 300.0
    """A firing that starts up to this long after a fault ends still counts as caused by it (not a
    false alarm; it detects the fault), seconds."""
    on_fire: list[ActionSpec] = []
    """Actions taken once per firing, each ``delay`` after it: ``restart``, ``scale_out``,
    ``shift_traffic``, ``rollback``, ``page`` (see docs/alerts.md, "Actions")."""

    model_config = SpecModel.model_config | {"populate_by_name": True}


class ThresholdAlertSpec(_Alert):
    """A metric over a trailing window compared with a fixed value."""

    kind: Literal["threshold"] = "threshold"
    metric: str
    """``error_ratio``, ``availability``, ``goodput``, ``offered``, ``throughput``, ``latency_pNN``,
    or a gauge ``utilization.<c>``, ``queue_length.<c>``, ``replicas.<c>``, ``in_flight.<c>``."""
    window: PositiveDuration = 60.0
    """The span (t - window, t] the metric is computed over at each evaluation t, seconds."""
    op: Op
    """How the metric is compared with ``value``."""
    value: Threshold
    """The threshold in the metric's own unit (fraction, seconds, per second, count); ``5%``,
    ``250ms`` and ``300/s`` are accepted."""
    workload: Name | None = None
    """Request metrics of this workload only (none: all workloads together)."""


class BurnRateAlertSpec(_Alert):
    """The SRE workbook's multiwindow burn-rate alert on ``slo.availability``."""

    kind: Literal["burn_rate"] = "burn_rate"
    long_window: PositiveDuration
    """The long window (e.g. ``1h``): the alert needs enough budget spent to matter, seconds."""
    short_window: PositiveDuration
    """The short window (e.g. ``5m``): the alert resets soon after the errors stop, seconds."""
    burn_rate: PositiveNumber
    """Fires when the error ratio exceeds ``burn_rate x (1 - slo.availability)`` over both windows."""
    workload: Name | None = None
    """Requests of this workload only (none: all workloads together)."""

    @model_validator(mode="after")
    def _windows(self) -> BurnRateAlertSpec:
        if self.short_window >= self.long_window:
            raise spec_error(f"must be shorter than long_window ({self.long_window:g}s); "
                             f"got {self.short_window:g}s", "short_window")
        return self


class AnomalyAlertSpec(_Alert):
    """A detector over a metric computed per evaluation interval."""

    kind: Literal["anomaly"] = "anomaly"
    method: Literal["ewma", "rolling_zscore", "isolation_forest"]
    """``ewma``: distance from an exponentially weighted mean in exponentially weighted standard
    deviations; ``rolling_zscore``: z-score against the values of the trailing ``window``;
    ``isolation_forest``: scikit-learn's IsolationForest over ``metric`` and ``metrics`` (needs the
    ``anomaly`` extra), trained on the first ``train`` of the run."""
    metric: str
    """As for thresholds; computed over each evaluation interval (t - evaluation_interval, t]."""
    threshold: PositiveNumber = 3.0
    """An evaluation is anomalous when the value is more than this many standard deviations away
    (not ``isolation_forest``, whose threshold is set by ``contamination``)."""
    direction: Literal["both", "above", "below"] = "both"
    """Which deviations count: either way, only rises, or only drops."""
    alpha: Annotated[float, Field(gt=0, lt=1)] | None = None
    """``ewma`` only: the weight of the newest value (default 0.1)."""
    window: PositiveDuration | None = None
    """``rolling_zscore`` only: the trailing span of past values the z-score is taken against
    (default 10m), seconds."""
    metrics: list[str] | None = None
    """``isolation_forest`` only: further metrics judged together with ``metric``."""
    train: PositiveDuration | None = None
    """``isolation_forest`` only: the span at the start of the run the forest learns from (default
    1h), seconds; it judges from the first evaluation after it."""
    contamination: Annotated[float, Field(gt=0, le=0.5)] | None = None
    """``isolation_forest`` only: the share of training evaluations taken as outliers, which sets
    the score threshold (default 0.01)."""
    min_samples: PositiveInt = 20
    """``ewma``: evaluations with data before the detector judges (``rolling_zscore`` judges once its
    window is full)."""
    workload: Name | None = None
    """Request metrics of this workload only (none: all workloads together)."""

    @model_validator(mode="after")
    def _method_keys(self) -> AnomalyAlertSpec:
        if self.method != "ewma" and self.alpha is not None:
            raise spec_error("alpha applies to method ewma only", "alpha")
        if self.method != "rolling_zscore" and self.window is not None:
            raise spec_error("window applies to method rolling_zscore only", "window")
        for key in ("metrics", "train", "contamination"):
            if self.method != "isolation_forest" and getattr(self, key) is not None:
                raise spec_error(f"{key} applies to method isolation_forest only", key)
        return self

    @property
    def forest_train(self) -> float:
        """The isolation forest's training span, seconds (default 1h)."""
        return 3600.0 if self.train is None else self.train

    @property
    def forest_contamination(self) -> float:
        return 0.01 if self.contamination is None else self.contamination

    @property
    def features(self) -> list[str]:
        """Every metric the detector judges: ``metric``, then ``metrics``."""
        return [self.metric, *(self.metrics or [])]

    @property
    def ewma_alpha(self) -> float:
        return 0.1 if self.alpha is None else self.alpha

    @property
    def history(self) -> float:
        """The rolling z-score's trailing span, seconds."""
        return 600.0 if self.window is None else self.window


AlertSpec = Annotated[
    Union[ThresholdAlertSpec, BurnRateAlertSpec, AnomalyAlertSpec],  # noqa: UP007
    Field(discriminator="kind"),
]
"""Any alert rule, chosen by ``kind``."""


def alert_problems(spec: Any) -> list[tuple[Loc, str]]:
    """Every alert's metric, workload and timing, checked against the rest of ``spec``."""
    problems: list[tuple[Loc, str]] = []
    workloads = [w.name for w in spec.workload]
    for index, alert in enumerate(spec.alerts):
        loc: Loc = ("alerts", index)
        metric = getattr(alert, "metric", None)
        if metric is not None:
            problems += [((*loc, "metric"), m) for m in metric_problems(metric, spec)]
        problems += _forest_problems(alert, loc, spec)
        if alert.workload is not None and alert.workload not in workloads:
            problems.append(((*loc, "workload"), f"no workload named '{alert.workload}'; known: "
                             f"{', '.join(workloads)}{suggest(alert.workload, workloads)}"))
        if alert.evaluation_interval > spec.duration:
            problems.append(((*loc, "evaluation_interval"), f"{alert.evaluation_interval:g}s is longer "
                             f"than the run ({spec.duration:g}s): the rule would never be evaluated"))
    return problems


def sklearn_available() -> bool:
    """Whether scikit-learn (the ``anomaly`` extra) can be imported, checked without importing it."""
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


def _forest_problems(alert: Any, loc: Loc, spec: Any) -> list[tuple[Loc, str]]:
    """An isolation forest's further metrics, and scikit-learn being there to run it."""
    if getattr(alert, "method", None) != "isolation_forest":
        return []
    problems = [((*loc, "metrics", i), m) for i, name in enumerate(alert.metrics or [])
                for m in metric_problems(name, spec)]
    if not sklearn_available():
        problems.append(((*loc, "method"), "isolation_forest needs scikit-learn, which is not "
                         "installed: pip install 'cascade-sim[anomaly]'"))
    train = alert.forest_train
    if train >= spec.duration:
        problems.append(((*loc, "train"), f"{train:g}s{'' if alert.train else ' (the default)'} is not "
                         f"shorter than the run ({spec.duration:g}s): the forest would never judge"))
    return problems


def metric_problems(metric: str, spec: Any) -> list[str]:
    """Why ``metric`` cannot be computed per window in ``spec`` (empty when it can)."""
    if metric in REQUEST_METRICS or latency_quantile(metric) is not None:
        return []
    gauge, _, component = metric.partition(".")
    known = f"{', '.join(REQUEST_METRICS)}, latency_pNN, or <gauge>.<component> with gauge one of " \
            f"{', '.join(GAUGES)}"
    if gauge not in GAUGES or not component:
        return [f"unknown metric '{metric}'; expected {known}{suggest(metric, [*REQUEST_METRICS, *GAUGES])}"]
    kinds = {c.name: c.kind for c in spec.components}
    if component not in kinds:
        hint = suggest(component, list(kinds))
        return [f"no component named '{component}'; known: {', '.join(kinds)}{hint}"]
    if kinds[component] not in GAUGE_KINDS:
        return [f"'{gauge}' is sampled for services and databases only; '{component}' is a "
                f"{kinds[component]}"]
    return []
