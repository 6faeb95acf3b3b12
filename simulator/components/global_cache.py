"""``kind: cache`` with ``global:`` — one cache with a copy in each of its ``regions``.

Values are versions (simulator.data). Each copy maps key -> the version it holds (every key
starts at 0, and the copies hold every key: no capacity, eviction or misses; the ``backend`` is
not called). A request is served by the copy of its workload's ``region``, after ``hit_time``:

* a read answers the version its region's copy holds, judged against the *global ledger*: every
  write accepted anywhere, in acceptance order (= timestamp order, so the latest is the one
  last-write-wins keeps);
* ``single_writer``: every write is applied at the primary (the first region) and reaches the
  other copies ``replication_lag`` later. A write from a region cut off from the primary by a
  partition is refused at once (``unavailable``): the primary alone decides, so no conflict;
* ``last_write_wins``: a write is applied at its own region's copy and reaches the others
  ``replication_lag`` later; a copy applies a version only if newer than the one it holds.

A ``partition`` fault separates region A from region B when one side holds a component of region
A and the other one of region B (:mod:`simulator.faults.network` tells the cache). Replication
between them is held until the heal, then sent (arriving ``replication_lag`` later). Writes to a
key accepted on *both* sides during the partition are ``conflicting_writes`` (all of them, both
sides); at the heal the side holding the newest of them wins the key and every write to it the
other side accepted during the partition is discarded (``discarded_writes``): its held
replication is dropped, the winner's version replaces it. Replication already on the wire when
the partition starts arrives. Whole-run books (tested): every accepted write's replication to
each other copy is delivered, dropped at a heal (its write discarded) or still held / in flight.
"""

from __future__ import annotations

from simulator.components.base import Component, dist_factory, take
from simulator.components.edge import CallEdge
from simulator.data.ops import READ
from simulator.randomness import key_sampler
from simulator.request import OK, UNAVAILABLE


class GlobalCacheStats:
    """No gauges or window values of its own: its counts are data books (reads, conflicts...)."""

    def sample(self, now: float, interval: float) -> dict[str, float]:
        return {}

    def mark_warmup(self, now: float) -> None:
        pass

    def window(self, now: float) -> dict[str, float]:
        return {}


class _Episode:
    """Writes accepted on each side of one cut region pair while it is cut: side -> key -> versions."""

    __slots__ = ("writes",)

    def __init__(self, pair: tuple[int, int]):
        self.writes: dict[int, dict[int, list[int]]] = {pair[0]: {}, pair[1]: {}}


class GlobalCache(Component):
    """Component for a ``kind: cache`` with ``global`` set."""

    def __init__(self, ctx, spec, plan):
        self.name = spec.name
        self.spec = spec
        self.ctx = ctx
        self._later = ctx.scheduler()
        self.regions = tuple(spec.regions)
        index = {region: i for i, region in enumerate(self.regions)}
        self.home = {w: index[r] for w, r in enumerate(ctx.workload_regions) if r in index}
        self.lww = spec.global_ == "last_write_wins"
        self.lag = spec.replication_lag
        self.copies: list[dict[int, int]] = [{} for _ in self.regions]  # key -> version held
        self._time_slot = plan.slot(spec.name, "time", dist_factory(spec.hit_time))
        self._key_slot = plan.slot(spec.name, "key", lambda rng: key_sampler(spec.keys, rng), sticky=True)
        self.cuts: dict[object, set[tuple[int, int]]] = {}  # active partition -> region pairs it cuts
        self.episodes: dict[tuple[int, int], _Episode] = {}  # cut pair -> writes on each side
        self.held: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}  # (origin, dest, key, v)
        # whole run: writes accepted / refused, replication messages sent, delivered, dropped, and
        # writes conflicting / discarded (the books' own counts are the measured window's)
        self.accepted = self.refused = self.sent = self.delivered = self.dropped = 0
        self.conflicting = self.discarded = 0
        self.backend = None
        self.generation = 0  # bumped by each crash (:meth:`lose_contents`)
        self.stats = GlobalCacheStats()
        data = ctx.data
        if data is not None:  # else no workload reaches the cache (checked at load)
            self.data = data
            self.ledger = data.ledger(spec.name)
            self.read_check = data.read_check(spec.name, self.ledger)
            data.register(spec.name, "writes", "conflicting_writes", "discarded_writes")

    # -- requests --------------------------------------------------------------------------------
    def handle(self, att, done) -> None:
        """Component protocol: the lookup's time, then a read or write at the region's copy."""
        self._later(take(att.work, *self._time_slot), self._serve, (att, done, self.generation))

    def _serve(self, event) -> None:
        att, done, generation = event.value
        if generation != self.generation:
            return  # crashed meanwhile: the gate has reset the call, the write never happened
        key = att.key
        if key < 0:  # the workload has no keys of its own: the cache's law picks it
            key = att.key = int(take(att.work, *self._key_slot))
        region = self.home[att.client.workload_index]
        if att.op == READ:
            version = self.copies[region].get(key, 0)
            att.version = version
            self.read_check.check(key, version)
            done(OK)
            return
        origin = region if self.lww else 0
        if origin != region and self._is_cut(origin, region):
            self.refused += 1
            done(UNAVAILABLE)
            return
        self._write(origin, key)
        done(OK)

    def _write(self, origin: int, key: int) -> None:
        """Accept a write at ``origin``'s copy and replicate it to every other copy."""
        version = self.ledger.commit(key, self.ctx.env.now)
        self.accepted += 1
        self.data.add(self.name, "writes")
        self.copies[origin][key] = version
        for dest in range(len(self.regions)):
            if dest == origin:
                continue
            self.sent += 1
            pair = (min(origin, dest), max(origin, dest))
            if pair in self.episodes:
                self.held[pair].append((origin, dest, key, version))
                self.episodes[pair].writes[origin].setdefault(key, []).append(version)
            else:
                self._later(self.lag, self._arrive, (dest, key, version))

    def _arrive(self, event) -> None:
        dest, key, version = event.value
        self.delivered += 1
        copy = self.copies[dest]
        if version > copy.get(key, 0):
            copy[key] = version

    # -- partitions (called by simulator.faults.network.Partition) ------------------------------
    def partition_began(self, partition, side_a: frozenset, side_b: frozenset) -> None:
        index = {region: i for i, region in enumerate(self.regions)}
        pairs = {(min(index[a], index[b]), max(index[a], index[b]))
                 for a in side_a if a in index for b in side_b if b in index and a != b}
        self.cuts[partition] = pairs
        for pair in pairs:
            if pair not in self.episodes:
                self.episodes[pair] = _Episode(pair)
                self.held[pair] = []

    def partition_healed(self, partition) -> None:
        pairs = self.cuts.pop(partition, set())
        still = set().union(*self.cuts.values()) if self.cuts else set()
        for pair in sorted(pairs - still):
            self._resolve(pair)

    def _is_cut(self, a: int, b: int) -> bool:
        return (min(a, b), max(a, b)) in self.episodes

    def _resolve(self, pair: tuple[int, int]) -> None:
        """The heal of one region pair: count conflicts, drop the losers' replication, send the rest."""
        writes = self.episodes.pop(pair).writes
        side_a, side_b = writes[pair[0]], writes[pair[1]]
        losers: set[tuple[int, int]] = set()  # (origin, key) whose held writes are discarded
        conflicting = discarded = 0
        for key, versions_a in side_a.items():
            versions_b = side_b.get(key)
            if versions_b is None:
                continue
            conflicting += len(versions_a) + len(versions_b)
            loser, lost = (pair[1], versions_b) if versions_a[-1] > versions_b[-1] else (pair[0], versions_a)
            losers.add((loser, key))
            discarded += len(lost)
        self._count(conflicting, discarded)
        for origin, dest, key, version in self.held.pop(pair):
            if (origin, key) in losers:
                self.dropped += 1
            else:
                self._later(self.lag, self._arrive, (dest, key, version))

    def _count(self, conflicting: int, discarded: int) -> None:
        self.conflicting += conflicting
        self.discarded += discarded
        if conflicting:
            self.data.add(self.name, "conflicting_writes", conflicting)
        if discarded:
            self.data.add(self.name, "discarded_writes", discarded)

    def lose_contents(self) -> int:
        """A ``crash`` of the cache's front: lookups in their ``hit_time`` die with it (the gate
        resets them); the copies and the replication already sent survive: nothing is lost (0)."""
        self.generation += 1
        return 0

    def pending(self) -> int:
        """Replication messages held by a partition (in flight ones are sent - delivered - dropped - held)."""
        return sum(len(messages) for messages in self.held.values())

    # -- wiring ----------------------------------------------------------------------------------
    def wire(self, components: dict) -> None:
        """The ``backend`` edge exists (faults may name it) but the copies never call it."""
        self.backend = CallEdge(self.name, components[self.spec.backend])

    @property
    def edges(self) -> list[CallEdge]:
        return [self.backend]
