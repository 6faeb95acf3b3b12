"""A client's per-attempt timeouts, without one SimPy event per attempt.

Every attempt of a client waits the same ``timeout``, so deadlines fall due in the order the
attempts were sent: a FIFO of pending attempts and at most one event in SimPy's queue, for the
oldest attempt still waiting. Most attempts are answered well before their deadline and never
cost an event; when the event fires it skips the answered ones and re-arms for the next.

The order of events is exactly that of one ``env.timeout(timeout)`` per attempt, ties included:
at send time the queue takes the event id such a timeout would have taken, and the one event is
later put into SimPy's queue under that very key (time, ``NORMAL``, id). That uses two SimPy 4
internals, ``Environment._queue`` and ``_eid``; without them :func:`make_timeouts` falls back to a
timeout per attempt.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappush

from simpy.events import NORMAL


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
    """The timeouts of one client: ``add(att)`` at each send; ``expire(att)`` when one is due."""
    if per_attempt or not (hasattr(env, "_queue") and hasattr(env, "_eid")):
        return _TimeoutPerAttempt(env, timeout, expire)
    return DeadlineQueue(env, timeout, expire)
