"""Variant names: what a scenario's runs are called when its file declares no variants.

One constant, imported by the loader, the runner, the expectation checks and the CLI, so that
a scenario without ``variants:`` is called the same everywhere (in messages, ``summary.csv``,
``meta.json`` and the run store).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_VARIANT = "base"
"""The one variant of a scenario without ``variants:``; also the file as written, unmodified."""


def declared_variants(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The ``variants:`` mapping of raw scenario data (name -> overrides); empty when it has none
    or when it is not a mapping (the schema reports that)."""
    variants = raw.get("variants")
    return variants if isinstance(variants, dict) else {}
