"""A database's committed history: the reference every read is checked against.

Each key starts at version 0 (committed before the run). ``commit(key, now)`` makes version
``n + 1`` the latest and remembers when, so that a read returning an older version can be told
how stale it is: the age of an answer is the time since the version it returned was
*superseded*, i.e. the commit time of the next version. Commit times of one key only grow
(simulated time does not go back), so they are kept in one ``array('d')`` per key written:
memory is one float per write, nothing per read.
"""

from __future__ import annotations

from array import array


class Ledger:
    """Latest committed version of every key, and when each version was committed."""

    __slots__ = ("name", "_commits", "commits_total", "_listeners")

    def __init__(self, name: str):
        self.name = name  # the component that owns the truth (a database, a counter)
        self._commits: dict[int, array] = {}  # key -> commit times of versions 1, 2, ...
        self.commits_total = 0
        self._listeners: tuple = ()  # change-event subscribers (a cache invalidating on events)

    def subscribe(self, listener) -> None:
        """Call ``listener(key, version)`` after every commit, and after a rollback (``truncate``)
        with the version the key is back at: the owner's change events."""
        self._listeners += (listener,)

    def latest(self, key: int) -> int:
        """The latest committed version of ``key`` (0: never written in the run)."""
        times = self._commits.get(key)
        return 0 if times is None else len(times)

    def commit(self, key: int, now: float) -> int:
        """Commit a new version of ``key`` at ``now``; returns its number."""
        times = self._commits.get(key)
        if times is None:
            times = self._commits[key] = array("d")
        times.append(now)
        self.commits_total += 1
        version = len(times)
        for listener in self._listeners:
            listener(key, version)
        return version

    def committed_at(self, key: int, version: int) -> float:
        """When ``version`` (>= 1) of ``key`` was committed."""
        return self._commits[key][version - 1]

    def staleness(self, key: int, version: int, now: float) -> float:
        """Age of an answer that returned ``version`` of ``key`` at ``now``: 0 if it is the latest,
        else the time since the next version was committed (when the answer stopped being true)."""
        times = self._commits.get(key)
        if times is None or version >= len(times):
            return 0.0
        return now - times[version]  # times[version] is the commit time of version + 1

    def truncate(self, key: int, version: int) -> int:
        """Forget every version of ``key`` after ``version`` (a failover lost them: the new owner
        never had them); returns how many were forgotten. The next commit is ``version + 1`` again."""
        times = self._commits.get(key)
        if times is None or version >= len(times):
            return 0
        gone = len(times) - version
        del times[version:]
        self.commits_total -= gone
        for listener in self._listeners:  # a change like any other: subscribers drop what they hold
            listener(key, version)
        return gone

    def versions(self) -> dict[int, int]:
        """The latest version of every key written (a copy: a new replica starts from it)."""
        return {key: len(times) for key, times in self._commits.items()}
