"""What is wrong with a scenario, said so a person can fix it: file, key path, expectation.

Every check (YAML syntax, schema, references, overrides, CSV profiles) produces ``Problem``
values; the loader collects them all and raises one ``ScenarioError``, whose text is one line
per problem: ``scenarios/x.yaml:14: components[2].service_time.mean: expected a duration ...``.
The line is left out when the key path is not written in a file (dict input, ``--set`` values).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes:
        file: The scenario file (or ``<dict>``, ``<command line>``).
        path: Key path inside it, e.g. ``components[2].service_time.mean``; empty for the whole file.
        message: What was expected, and what was found.
        line: The 1-based line of the key path in the file, when it is written there.
    """

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario that cannot be used; ``problems`` lists everything found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


def _is_tag(node: Mapping, element: Any, rest: Sequence[Any]) -> bool:
    """Whether ``element`` in a pydantic location is a union's tag rather than a key: the node
    holds it as a value (``kind: burn_rate``) and the location goes on with a key of this node."""
    tags = {value for value in node.values() if isinstance(value, str)}
    return element in tags and bool(rest) and _raw_key(node, rest[0]) is not _MISSING


def key_path(raw: Any, loc: Sequence[Any], *, by_name: bool = False) -> str:
    """Turn a location into a key path, keeping only the parts that exist in the raw data.

    Pydantic locations also contain discriminator tags (``service``), validator markers
    (``function-after[...]``) and keys added by shorthands (``constant.value`` for
    ``service_time: 20ms``). Walking the data the author wrote drops exactly those, so the path
    names what is in the file. With ``by_name``, list entries that have a ``name`` are shown by
    name (``components.app.replicas``), the way variant overrides address them.
    """
    parts: list[str] = []
    node = raw
    for depth, element in enumerate(loc):
        key = _raw_key(node, element) if isinstance(node, Mapping) else _MISSING
        if key is not _MISSING and _is_tag(node, element, loc[depth + 1:]):
            key = _MISSING  # a tag that is also a key (``kind: burn_rate`` has a ``burn_rate``): skip
        if key is not _MISSING:
            parts.append(f".{key}" if isinstance(key, str) else f"[{key}]")
            node = node[key]
        elif isinstance(node, list) and isinstance(element, int) and 0 <= element < len(node):
            entry_name = node[element].get("name") if isinstance(node[element], Mapping) else None
            parts.append(f".{entry_name}" if by_name and isinstance(entry_name, str) else f"[{element}]")
            node = node[element]
    return "".join(parts).lstrip(".")


_MISSING = object()


def _raw_key(node: Mapping[Any, Any], element: Any) -> Any:
    """The key of ``node`` that a location element stands for; pydantic renders dict keys as text."""
    if isinstance(element, str) and element in node:
        return element
    if isinstance(element, str):
        return next((key for key in node if not isinstance(key, str) and str(key) == element), _MISSING)
    return _MISSING


def join_path(prefix: str, path: str) -> str:
    """``variants.big`` + ``components.app.replicas`` -> ``variants.big.components.app.replicas``."""
    if not prefix or not path:
        return prefix or path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def suggest(word: Any, options: Iterable[str]) -> str:
    """`` (did you mean 'replicas'?)`` when a close match exists, else an empty string."""
    if not isinstance(word, str):
        return ""
    matches = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{matches[0]}'?)" if matches else ""
