"""Reading untrusted YAML with limits, so a hostile file is refused before it costs anything.

A scenario file comes from students and scripts. Three things in YAML can make reading it
exhaust a machine: a huge file, deep nesting (PyYAML's composer and constructor recurse, so 500
levels end in RecursionError), and aliases (``&a [*b, *b, ...]`` nine times nine times...: 400
bytes that stand for millions of nodes, which every later walk of the data, the line-number map
first, would expand). The loader here counts while it composes the node graph, before any Python
object is built: the nesting depth of each node, and how many nodes every alias stands for
(memoised per anchor, so counting costs no more than the text). Past a limit it stops with a
``LimitError`` naming the limit and the line.

Duplicate mapping keys are refused too: a second value would silently replace the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import yaml

T = TypeVar("T")

MAX_FILE_BYTES = 10 * 1024 * 1024
"""Largest scenario file read: hundreds of times the largest real one, a fraction of a second to read."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists; real scenarios nest fewer than ten levels."""

MAX_ALIAS_NODES = 100_000
"""Most nodes that aliases may stand for in one document (anchors are for sharing a few settings)."""


class LimitError(yaml.YAMLError):
    """The document is over one of the reading limits; the message names the limit."""


class LimitedLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses deep nesting, alias expansion past a limit, recursive
    aliases and duplicate keys, all while composing (before constructing any Python object)."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._depth = 0
        self._sizes: dict[int, int] = {}  # id(node) -> nodes it stands for, itself included
        self._open: set[str] = set()  # anchors of collections being composed (an alias to one recurses)
        self._aliased = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        """Compose one node, counting depth and what an alias stands for."""
        if self.check_event(yaml.AliasEvent):
            return self._alias()
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise LimitError(f"nested more than {MAX_DEPTH} levels deep at line {mark.line + 1}")
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        return node

    def compose_sequence_node(self, anchor: Any) -> Any:
        """A list node; its size is known once its entries are."""
        return self._sized(super().compose_sequence_node, anchor)

    def compose_mapping_node(self, anchor: Any) -> Any:
        """A mapping node; its size is known once its keys and values are."""
        return self._sized(super().compose_mapping_node, anchor)

    def _sized(self, compose: Any, anchor: Any) -> Any:
        if anchor is not None:
            self._open.add(anchor)
        try:
            node = compose(anchor)
        finally:
            self._open.discard(anchor)
        children = node.value if isinstance(node, yaml.SequenceNode) else \
            [child for pair in node.value for child in pair]
        self._sizes[id(node)] = 1 + sum(self._sizes.get(id(child), 1) for child in children)
        return node

    def _alias(self) -> Any:
        event = self.peek_event()
        if event.anchor in self._open:
            raise LimitError(f"the alias *{event.anchor} at line {event.start_mark.line + 1} is inside "
                             "the node it names (a recursive alias)")
        node = self.anchors.get(event.anchor)
        if node is not None:
            self._aliased += self._sizes.get(id(node), 1)
            if self._aliased > MAX_ALIAS_NODES:
                where = f"*{event.anchor}, line {event.start_mark.line + 1}"
                raise LimitError(f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (at {where}); "
                                 "write the data out or use fewer aliases")
        return super().compose_node(None, None)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        """A mapping, refusing a key written twice in it (a key that overrides one merged in with
        ``<<: *defaults`` is written once, so it is fine)."""
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (a second value would silently replace the first)",
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_limited(text: str, also: Callable[[Any, Any], T] | None = None) -> tuple[Any, T | None]:
    """The Python data of a one-document text (``None`` when empty), read with the limits above,
    and ``also(node, loader)`` of its composed node when asked (the line map needs both).

    Raises:
        yaml.YAMLError: Syntax errors, duplicate keys, and ``LimitError`` for a document over a limit.
    """
    loader = LimitedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        data = loader.construct_document(node)
        return data, (None if also is None else also(node, loader))
    except RecursionError:  # the depth limit prevents it; never let it through as a crash
        raise LimitError(f"nested too deeply to read (the limit is {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
