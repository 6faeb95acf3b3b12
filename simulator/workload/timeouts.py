"""A client's per-attempt timeouts, without one SimPy event per attempt.

Every attempt of a client waits the same ``timeout``, so deadlines fall due in the order the
attempts were sent: a FIFO of pending attempts and at most one event in SimPy's queue, for the
oldest attempt still waiting. Most attempts are answered well before their deadline and never
cost an event; when the event fires it skips the answered ones and re-arms for the next.

The order of events is exactly that of one ``env.timeout(timeout)`` per attempt, ties included:
at send time the queue takes the event id such a timeout would have taken, and the one event is
later put into SimPy's queue under that very key (time, ``NORMAL``, id). That uses SimPy 4
internals: ``Environment._queue`` (a heap of ``(time, priority, event id, event)`` tuples),
``_eid`` (the id counter), ``_now`` and what ``step`` reads from an event (``callbacks``, ``_ok``).

Those are private, so they are checked before they are relied on: :func:`fast_path_supported`
accepts only a SimPy version in the range this was verified on, and then probes a throwaway
environment of the same class (a deadline queue and two ordinary timeouts due at the same time
must land in ``_queue`` as the expected tuples and fire in send order). Anything else, and
:func:`make_timeouts` falls back to one SimPy timeout per attempt: slower, same results.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Callable
from heapq import heappush

import simpy
from simpy.events import NORMAL

VERIFIED_SIMPY = ((4, 1), (5, 0))
"""SimPy versions whose internals the deadline queue was verified against: from 4.1 up to,
not including, 5.0 (the range pyproject.toml allows)."""


class _Alarm:
    """The event-like object the queue keeps in SimPy's queue (``step`` reads these two fields)."""

    __slots__ = ("callbacks",)
    _ok = True

    def __init__(self):
        self.callbacks = None


class DeadlineQueue:
    """Arms ``expire(attempt)`` ``timeout`` seconds after each :meth:`add`, unless it is settled."""

    def __init__(self, env, timeout: float, expire: Callable):
        self._env = env
        self._timeout = timeout
        self._expire = expire
        self._heap = env._queue
        self._next_eid = env._eid.__next__
        self._pending: deque = deque()  # (deadline, event id, attempt), in send (= deadline) order
        self._alarm = _Alarm()
        self._armed = False  # the alarm is in SimPy's queue for the head of ``_pending``
        self._fire_cb = self._fire

    def add(self, att) -> None:
        """Start the timeout of ``att`` now (the same key as ``env.timeout(timeout)`` here)."""
        entry = (self._env._now + self._timeout, self._next_eid(), att)
        self._pending.append(entry)
        if not self._armed:
            self._arm(entry)

    def _arm(self, entry) -> None:
        self._armed = True
        alarm = self._alarm
        alarm.callbacks = [self._fire_cb]
        heappush(self._heap, (entry[0], NORMAL, entry[1], alarm))

    def _fire(self, _alarm) -> None:
        pending = self._pending
        att = pending.popleft()[2]  # the attempt the alarm was armed for: its deadline is now
        if not att.is_settled:
            att.is_settled = True
            self._expire(att)  # may send a new attempt (a closed-loop user): it only queues up
        while pending:
            entry = pending[0]
            if not entry[2].is_settled:
                self._arm(entry)
                return
            pending.popleft()  # answered in time: its timeout would have done nothing
        self._armed = False


class _TimeoutPerAttempt:
    """The plain way, for an environment without the internals: one SimPy timeout per attempt."""

    def __init__(self, env, timeout: float, expire: Callable):
        self._timeout_event = env.timeout
        self._timeout = timeout
        self._expire = expire
        self._expire_cb = self._fire

    def add(self, att) -> None:
        self._timeout_event(self._timeout, att).callbacks.append(self._expire_cb)

    def _fire(self, event) -> None:
        att = event.value
        if not att.is_settled:
            att.is_settled = True
            self._expire(att)


def make_timeouts(env, timeout: float, expire: Callable, *, per_attempt: bool = False):
    """The timeouts of one client: ``add(att)`` at each send; ``expire(att)`` when one is due.

    The deadline queue when SimPy's internals are as verified, else one timeout per attempt.
    """
    if per_attempt or not fast_path_supported(type(env)):
        return _TimeoutPerAttempt(env, timeout, expire)
    return DeadlineQueue(env, timeout, expire)


def fast_path_supported(env_class: type) -> bool:
    """Whether :class:`DeadlineQueue` may run on environments of ``env_class`` with the SimPy
    installed: a verified version, and internals of the shape it relies on."""
    return _supported(env_class, str(getattr(simpy, "__version__", "")))


@functools.lru_cache(maxsize=8)
def _supported(env_class: type, version: str) -> bool:
    """Cached per (class, version): the answer cannot change while both stay the same."""
    low, high = VERIFIED_SIMPY
    return low <= _version(version) < high and _probe(env_class)


def _version(text: str) -> tuple[int, ...]:
    """``"4.1.2"`` -> (4, 1, 2); text that does not start with a number -> () (never verified)."""
    match = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(part) for part in match.group().split(".")) if match else ()


class _ProbeAttempt:
    """The one field of an attempt the deadline queue reads."""

    __slots__ = ("is_settled",)

    def __init__(self):
        self.is_settled = False


def _probe(env_class: type) -> bool:
    """Run the deadline queue in a throwaway environment between two ordinary timeouts due at
    the same time: the queue must hold the expected ``(time, NORMAL, id, event)`` tuples, with
    the alarm's id between theirs, and the three must fire in send order, on time, leaving
    nothing behind. Any error or difference means the internals are not what the queue needs."""
    try:
        env = env_class()
        fired: list[tuple[str, float]] = []
        before = env.timeout(1.0)
        before.callbacks.append(lambda _: fired.append(("before", env.now)))
        queue = DeadlineQueue(env, 1.0, lambda _att: fired.append(("deadline", env.now)))
        answered, waiting = _ProbeAttempt(), _ProbeAttempt()
        queue.add(answered)
        queue.add(waiting)
        answered.is_settled = True  # answered in time: must never expire
        after = env.timeout(1.0)
        after.callbacks.append(lambda _: fired.append(("after", env.now)))
        entries = sorted(env._queue)
        shaped = (len(entries) == 3 and all(type(e) is tuple and len(e) == 4 for e in entries)
                  and [e[3] for e in entries] == [before, queue._alarm, after]
                  and all(e[0] == 1.0 and e[1] == NORMAL and type(e[2]) is int for e in entries))
        env.run()
        return shaped and fired == [("before", 1.0), ("deadline", 1.0), ("after", 1.0)] \
            and waiting.is_settled and not env._queue
    except Exception:  # noqa: BLE001 - any failure of the probe is a reason to take the plain path
        return False
