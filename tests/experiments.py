"""Tiny scenarios for the experiment tests: a few hundred requests, a few milliseconds per run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def tiny(rate: float = 30.0, duration: float = 20.0, variants: dict[str, Any] | None = None,
         **extra: Any) -> dict[str, Any]:
    """One service with 3 workers (Exp 80 ms service) under Poisson load; variants change workers."""
    data: dict[str, Any] = {
        "name": "tiny",
        "duration": duration,
        "warmup": 2,
        "seed": 3,
        "workload": [{"name": "jobs", "entry": "app", "arrivals": {"pattern": "poisson", "rate": rate},
                      "client": {"timeout": 1.0}}],
        "components": [{"kind": "service", "name": "app", "replicas": 1, "workers": 3,
                        "service_time": {"dist": "exponential", "mean": 0.08}}],
        "variants": variants if variants is not None else {
            "three": {}, "four": {"components.app.workers": 4}, "six": {"components.app.workers": 6}},
    }
    data.update(extra)
    return data


def write(path: Path, data: dict[str, Any]) -> Path:
    """Write scenario data as a YAML file; return its path."""
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
