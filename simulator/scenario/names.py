"""Names that become folders and plot labels, checked when the file is validated.

The scenario's name and its variants' names are free text, but they end up as folder names
(``results/<scenario>/<run>/<variant>/``, the run store's ``<variant>/r0000.json``) and in plot
labels. A name that cannot be either must be refused before any simulating, with the reason,
not found out afterwards: two variants whose folders coincide (``a/b`` and ``a-b``: both become
``a-b``) overwrite each other's runs; a name over 255 bytes cannot be created; two ``$`` make
matplotlib read the text between them as math and fail.

Folder names are made by ``simulator.results._safe_name`` and ``simulator.experiment.store.safe_name``
(each run of unsafe characters becomes ``-``); :func:`folder_forms` repeats both rules here (this
package must not import those), and a test holds them to the same answers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from simulator.scenario.base import Loc

MAX_NAME_LENGTH = 100
"""Longest scenario, variant, component... name: a folder name, with room for suffixes, in 255 bytes."""

_RESULTS_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")  # simulator.results._safe_name
_STORE_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+-]+")  # simulator.experiment.store.safe_name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def label_problem(name: str) -> str | None:
    """What makes ``name`` unusable as a folder name or a plot label, or ``None``."""
    if len(name) > MAX_NAME_LENGTH:
        return (f"is {len(name)} characters long; names are limited to {MAX_NAME_LENGTH} "
                "(they become folder names)")
    if "$" in name:
        return "must not contain '$' (plots would read the text between two '$' as math)"
    if _CONTROL.search(name):
        return f"must not contain control characters such as tabs or line breaks; got {name!r}"
    return None


def folder_forms(name: str) -> tuple[str, str]:
    """The folder names ``name`` gets (results, run store), case folded: file systems on macOS and
    Windows do not tell ``A`` from ``a``. (The run store shortens names over 80 characters to a
    prefix and a hash of the whole name, which keeps distinct names distinct; not repeated here.)"""
    return tuple(pattern.sub("-", name).strip(".-").casefold() or "unnamed"  # type: ignore[return-value]
                 for pattern in (_RESULTS_UNSAFE, _STORE_UNSAFE))


def variant_name_problems(names: Iterable[str]) -> list[tuple[Loc, str]]:
    """Each variant name that is no usable label, or shares a folder with an earlier variant."""
    problems: list[tuple[Loc, str]] = []
    taken: dict[str, str] = {}
    for name in names:
        problem = label_problem(name)
        if problem is not None:
            problems.append((("variants", name), f"variant name {problem}"))
            continue
        clash = next((taken[form] for form in folder_forms(name) if form in taken), None)
        if clash is not None:
            problems.append((("variants", name), _clash_message(folder_forms(name)[0], clash)))
        for form in folder_forms(name):
            taken.setdefault(form, name)
    return problems


def _clash_message(folder: str, other: str) -> str:
    return (f"variant name gives the same results folder ('{folder}') as variant '{other}': folder names "
            "keep only letters, digits, '.', '_' and '-' and ignore case; rename one")


def check_label(name: str) -> str:
    """Pydantic validator for the scenario's name: refuse what cannot be a folder or plot label."""
    problem = label_problem(name)
    if problem is not None:
        raise ValueError(f"scenario name {problem}")
    return name
