"""Where in a YAML file a key path is written, so a problem can name the line as well.

While a scenario file is read, its composed node tree is turned into a ``YamlLines`` tree:
every mapping entry remembers the line of its key, every list entry the line of its value.
A problem's key path (``components[2].service_time.mean``, ``variants.big.components.app.replicas``)
is then matched against that tree. Keys are matched as written, longest first, so a variant
override key with dots in it (``components.app.replicas``) is found as one key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

Keys = tuple[Any, ...]
"""The mapping keys and list indices that lead to a place in the data."""


@dataclass
class YamlLines:
    """One place in a YAML document: its 1-based line, and the places inside it.

    Attributes:
        line: The line of the key (mapping entries) or of the value (list entries, the document).
        entries: Mapping keys to places, for a mapping; places in order, for a list; else ``None``.
        value: The value itself, for a scalar.
        names: For a list, the index of each entry that has a ``name`` (variants address entries by name).
    """

    line: int
    entries: dict[Any, YamlLines] | list[YamlLines] | None = None
    value: Any = None
    names: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_node(cls, node: yaml.Node, constructor: yaml.constructor.BaseConstructor) -> YamlLines:
        """The tree for a composed (and constructed, so merge keys are flattened) document node."""
        return _build(node, node.start_mark.line + 1, constructor, set())

    def locate(self, path: str) -> tuple[int | None, Keys, bool]:
        """The line of ``path``, the keys that reach it, and whether the whole path was found.

        When only part of the path exists, the line and keys are those of its deepest existing
        ancestor. An empty path (the whole file) has no line.
        """
        if not path:
            return None, (), True
        place, keys, rest = self, (), path
        while rest:
            step = place._step(rest)
            if step is None:
                break
            key, place, rest = step
            keys += (key,)
        return (place.line if keys else None), keys, not rest

    def _step(self, rest: str) -> tuple[Any, YamlLines, str] | None:
        """Match the start of ``rest`` to one entry: (its key or index, its place, what remains)."""
        candidates: list[tuple[str, Any]] = []
        if isinstance(self.entries, dict):
            candidates = [(key if isinstance(key, str) else f"[{key}]", key) for key in self.entries]
        elif isinstance(self.entries, list):
            candidates = [(f"[{index}]", index) for index in range(len(self.entries))]
            candidates += list(self.names.items())
        for token, key in sorted(candidates, key=lambda candidate: -len(candidate[0])):
            remaining = rest[len(token):]
            if rest.startswith(token) and (not remaining or remaining[0] in ".["):
                return key, self.entries[key], remaining.removeprefix(".")
        return None


def _build(node: yaml.Node, line: int, constructor: yaml.constructor.BaseConstructor,
           active: set[int]) -> YamlLines:
    if id(node) in active:  # a recursive alias: stop here rather than loop
        return YamlLines(line)
    active = active | {id(node)}
    if isinstance(node, yaml.MappingNode):
        entries: dict[Any, YamlLines] = {}
        for key_node, value_node in node.value:
            key = constructor.construct_object(key_node, deep=True)
            if _hashable(key):
                entries.setdefault(key, _build(value_node, key_node.start_mark.line + 1, constructor, active))
        return YamlLines(line, entries)
    if isinstance(node, yaml.SequenceNode):
        items = [_build(item, item.start_mark.line + 1, constructor, active) for item in node.value]
        names = {}
        for index, item in enumerate(items):
            named = item.entries.get("name") if isinstance(item.entries, Mapping) else None
            if named is not None and isinstance(named.value, str):
                names.setdefault(named.value, index)
        return YamlLines(line, items, names=names)
    return YamlLines(line, value=constructor.construct_object(node, deep=True))


def _hashable(key: Any) -> bool:
    try:
        hash(key)
    except TypeError:
        return False
    return True
