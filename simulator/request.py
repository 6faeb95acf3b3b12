"""What travels through the model: a logical request, its attempts, and how each one ends.

A *request* is what a user asked for; an *attempt* is one try at it. The client makes attempts
(retrying after failures or timeouts); components only ever see attempts. Modelled failures are
values of :class:`Outcome`, never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Outcome(IntEnum):
    """How an attempt (and, for the final attempt, its request) ended."""

    OK = 0
    ERROR = 1  # the component (or a required dependency) failed
    TIMEOUT = 2  # the caller stopped waiting; the server may still be working on it
    REJECTED = 3  # a bounded queue was full
    UNAVAILABLE = 4  # nothing healthy to send it to
    INCOMPLETE = 5  # still in flight when the run ended (recorded, never returned by components)
    SHORT_CIRCUITED = 6  # refused at once by an open circuit breaker
    RATE_LIMITED = 7  # refused by a rate limiter
    SHED = 8  # dropped by load shedding
    DEGRADED = 9  # answered by a fallback instead of the real thing (counts as available)
    # New outcomes take the next code and one line in OUTCOMES below; everything else follows.


# Module-level aliases: the hot path compares against these without an attribute lookup.
OK = Outcome.OK
ERROR = Outcome.ERROR
TIMEOUT = Outcome.TIMEOUT
REJECTED = Outcome.REJECTED
UNAVAILABLE = Outcome.UNAVAILABLE
INCOMPLETE = Outcome.INCOMPLETE
SHORT_CIRCUITED = Outcome.SHORT_CIRCUITED
RATE_LIMITED = Outcome.RATE_LIMITED
SHED = Outcome.SHED
DEGRADED = Outcome.DEGRADED

OUTCOME_NAMES = [o.name.lower() for o in Outcome]


@dataclass(frozen=True)
class OutcomeInfo:
    """Everything the rest of the project needs to know about one outcome, kept in one place:
    analysis, traffic tables, plots, the console and metric kinds iterate over :data:`OUTCOMES`,
    so adding an outcome is one line here."""

    code: Outcome
    label: str  # requests' outcome category and the traffic table's column (per second)
    count_metric: str  # the summary's count of requests that ended this way
    color: str  # the same colour in every plot
    served: bool  # the system did the work and answered: counts toward throughput
    available: bool  # counts toward availability


OUTCOMES: tuple[OutcomeInfo, ...] = (
    OutcomeInfo(Outcome.OK, "ok", "ok", "#2ca02c", served=True, available=True),
    OutcomeInfo(Outcome.ERROR, "error", "errors", "#d62728", served=True, available=False),
    OutcomeInfo(Outcome.TIMEOUT, "timeout", "timeouts", "#ff7f0e", served=False, available=False),
    OutcomeInfo(Outcome.REJECTED, "rejected", "rejected", "#9467bd", served=False, available=False),
    OutcomeInfo(Outcome.UNAVAILABLE, "unavailable", "unavailable", "#7f7f7f", served=False, available=False),
    OutcomeInfo(Outcome.INCOMPLETE, "incomplete", "incomplete", "#bcbd22", served=False, available=False),
    OutcomeInfo(Outcome.SHORT_CIRCUITED, "short_circuited", "short_circuited", "#17becf", served=False,
                available=False),
    OutcomeInfo(Outcome.RATE_LIMITED, "rate_limited", "rate_limited", "#8c564b", served=False,
                available=False),
    OutcomeInfo(Outcome.SHED, "shed", "shed", "#e377c2", served=False, available=False),
    OutcomeInfo(Outcome.DEGRADED, "degraded", "degraded", "#98df8a", served=False, available=True),
)
"""Every outcome, in code order. ``incomplete`` is recorded at the end of a run, never returned."""

SERVED = frozenset(int(info.code) for info in OUTCOMES if info.served)
"""Outcome codes of answers a server did the work for (a late one is wasted work)."""

ENDED_OUTCOMES = tuple(info for info in OUTCOMES if info.code != Outcome.INCOMPLETE)
"""Outcomes a request can end with during the run (the traffic table's columns)."""


class Attempt:
    """One try at a user's request; it carries the request's identity and the work drawn for it.

    There is no separate request object on the hot path: the first attempt *is* the request, and a
    retry is a new attempt that copies the request's id and arrival time (``number`` counts
    attempts, 1 for the first). ``work`` holds one pre-drawn value per (component, purpose) slot, so
    request #N does the same work in every variant (common random numbers); a component consumes
    its slot on the first visit and draws from its own overflow stream on later visits.

    ``is_settled`` becomes true when the client has stopped caring (answer received or timeout
    fired). Components keep working on settled attempts: that wasted work is what turns retries
    into retry storms.
    """

    # ``deadline`` (absolute time) is set only by a client that propagates its deadline (read it with
    # getattr): an attempt costs one store less on the hot path. ``op``, ``key`` and ``version`` are
    # set only for workloads with ``operations`` (simulator.data.ops): the operation, the key, and
    # the version a component answered a read with (-1 until one did).
    __slots__ = ("id", "t_arrival", "number", "last_backoff", "work", "is_settled", "client", "deadline",
                 "sticky", "op", "key", "version")

    def __init__(self, rid: int, t_arrival: float, number: int, work: list, client):
        self.id = rid
        self.t_arrival = t_arrival
        self.number = number
        self.last_backoff = 0.0
        self.work = work
        self.is_settled = False
        self.client = client

    def answer(self, outcome: int) -> None:
        """The entry component's ``done`` callback: the first word (answer or timeout) wins."""
        if self.is_settled:
            self.client.late_answer(outcome)
            return
        self.is_settled = True
        self.client.settle(self, outcome)
