"""The built-in scenario library: YAML files shipped with the package or kept in the repo.

An installed wheel carries them in ``simulator/builtin_scenarios/``; a source checkout has them
in the repository's ``scenarios/``. Both are searched, in that order, so ``cascade run
three-tier-viral-spike`` works either way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import yaml

PACKAGE_DIR = Path(__file__).resolve().parents[1]
SCENARIO_DIRS = (PACKAGE_DIR / "builtin_scenarios", PACKAGE_DIR.parent / "scenarios")
YAML_SUFFIXES = (".yaml", ".yml")


class BuiltinScenario(NamedTuple):
    """A scenario from the library, for ``cascade list``."""

    name: str
    """File name without ``.yaml``; what ``load_scenario`` accepts."""
    path: Path
    """Where the file is."""
    description: str
    """First sentence of the file's ``description`` (empty if it has none or does not parse)."""


def builtin_scenarios(directories: Sequence[Path] | None = None) -> list[BuiltinScenario]:
    """All built-in scenarios, sorted by name; a name found in two directories is listed once."""
    found: dict[str, Path] = {}
    for directory in SCENARIO_DIRS if directories is None else directories:
        if directory.is_dir():
            for path in sorted(directory.iterdir()):
                if path.suffix in YAML_SUFFIXES and path.is_file():
                    found.setdefault(path.stem, path)
    return [BuiltinScenario(name, path, _description(path)) for name, path in sorted(found.items())]


def find_builtin(name: str, directories: Sequence[Path] | None = None) -> Path | None:
    """The file of the built-in scenario ``name`` (``.yaml`` optional), or None."""
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in YAML_SUFFIXES else name
    for directory in SCENARIO_DIRS if directories is None else directories:
        for suffix in YAML_SUFFIXES:
            candidate = directory / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def first_sentence(text: str) -> str:
    """The first sentence of a description, on one line."""
    flat = " ".join(text.split())
    return re.split(r"(?<=[.!?])\s", flat, maxsplit=1)[0]


def _description(path: Path) -> str:
    """A listing must not fail because one file is broken; ``cascade validate`` reports that."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    description = data.get("description") if isinstance(data, dict) else None
    return first_sentence(description) if isinstance(description, str) else ""
