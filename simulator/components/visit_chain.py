"""The chain of per-visit layers of a replica group: what a replica does with work besides the work.

Defences that act on a visit — shed it, drop it because its caller gave up, send it to a new
release — are not branches in the group: a mitigation (or a component's own spec flag) installs a
*layer* through this small API, on ``group.chain``, before the run starts. Three kinds, each at one
moment of a visit:

* **admission** — ``layer(visit)``, when a request arrives at the group, before the chosen replica
  accepts or refuses it. It may replace ``visit.done`` (to watch the answer) and set
  ``visit.hook`` (below). The release split of ``kind: deployment`` decides the version here.
  Installing one switches the group to its tracked path, where every visit is made by the group
  itself (``ReplicaGroup.submit``), and the group tells its owner (``on_track``) so a service's
  own entry follows: a layer sees every request however it reached the service — as a workload's
  entry, from another service's ``calls:``, or through a load balancer. Install admission layers
  in ``prepare``, before wiring, as the entry is read then.
* **begin** — ``layer(station, inner) -> start``, when a worker takes the visit: it returns what
  the station calls instead of ``inner(visit)``; it may serve (call ``inner``) or end the visit
  without serving it. The order is fixed, outermost first, by :data:`BEGIN_ORDER`: the shedder
  sees the visit first, then the deadline check, then the work. A layer is built for every
  station, for stations that join later and again when the group switches path, so per-station
  state belongs to the layer, keyed by station.
* **work hook** — ``visit.hook``, set by an admission layer on the tracked path: an object with
  ``factor`` (its own service time is multiplied by it) and ``fails()`` (asked once the own work is
  done: an extra failure). A release's new version is one. At most one per visit.

A layer may come with ``counters`` (a callable returning ``{name: count so far}``): the group's
statistics report those counts over the measurement window (``dropped_expired``).

With no layer installed nothing here runs: stations start the group's begin directly, which
keeps the plain hot path as it was benchmarked.
"""

from __future__ import annotations

from collections.abc import Callable

BEGIN_ORDER = ("shed", "drop_expired")
"""Begin layers, outermost (sees the visit first) to innermost (next to the work)."""


class VisitChain:
    """The layers installed on one group, and how a station's ``start`` is built from them."""

    def __init__(self, changed: Callable[[], None]):
        self.admission: tuple[Callable, ...] = ()
        self._begin: list[tuple[int, Callable]] = []
        self._counters: list[Callable[[], dict[str, int]]] = []
        self._changed = changed  # the group rebuilds its entry and its stations' starts

    def add_admission(self, layer: Callable, counters: Callable | None = None) -> None:
        """Run ``layer(visit)`` for every request that arrives at the group (see the module doc)."""
        self.admission = (*self.admission, layer)
        self._add_counters(counters)
        self._changed()

    def add_begin(self, kind: str, layer: Callable, counters: Callable | None = None) -> None:
        """Wrap every station's start in ``layer(station, inner)``; ``kind`` is one of BEGIN_ORDER."""
        if kind not in BEGIN_ORDER:
            raise ValueError(f"begin layer kind {kind!r} is not one of {BEGIN_ORDER}")
        self._begin.append((BEGIN_ORDER.index(kind), layer))
        self._begin.sort(key=lambda entry: entry[0])  # stable: same kind keeps install order
        self._add_counters(counters)
        self._changed()

    def _add_counters(self, counters: Callable | None) -> None:
        if counters is not None:
            self._counters.append(counters)

    @property
    def is_counting(self) -> bool:
        """Whether any layer reports counts (the summary then has their metrics)."""
        return bool(self._counters)

    def start_for(self, station, begin: Callable) -> Callable:
        """What ``station`` calls when a worker takes a visit: ``begin`` inside the begin layers."""
        start = begin
        for _, layer in reversed(self._begin):
            start = layer(station, start)
        return start

    def counters(self) -> dict[str, int]:
        """The layers' counts now (cumulative since the run began)."""
        out: dict[str, int] = {}
        for counters in self._counters:
            out.update(counters())
        return out
