"""A gate in front of a component that fails as a whole: a balancer (one or several copies), a
cache, an external dependency, a global router.

Installed only when a fault can hit the component (zero cost otherwise), as the innermost layer
(``Position.GATE``) of every call edge into it; the builder stacks it. While a copy is down,
requests sent to it are refused at once (``unavailable``: connection refused); at the crash,
requests it was proxying end at once as ``error`` (connection reset) and their late answers are
dropped. With several copies, traffic moves off a dead copy only after ``failover_after`` (the
time to notice and switch): ``active_passive`` sends everything to the active copy and promotes
a standby; ``active_active`` spreads over the copies believed up.
"""

from __future__ import annotations

from simulator.request import ERROR, UNAVAILABLE


class _Proxied:
    """One request passing through a gated copy; a crash resets it."""

    __slots__ = ("gate", "copy", "done", "dead")

    def __init__(self, gate: Gate, copy: int, done):
        self.gate = gate
        self.copy = copy
        self.done = done
        self.dead = False

    def answer(self, outcome: int) -> None:
        if self.dead:
            return  # the copy crashed while this was in flight: the caller already got a reset
        self.gate.pending[self.copy].pop(self, None)
        self.done(outcome)


class Gate:
    """Up/down state per copy, failover, and the connection resets of a crash."""

    def __init__(self, ctx, component, copies: int = 1, mode: str = "active_passive",
                 failover_after: float = 0.0):
        self.ctx = ctx
        self.component = component
        self.name = component.name
        self.up = [True] * copies
        self.believed = [True] * copies  # copies clients still send to
        self.mode = mode
        self.failover_after = failover_after
        self.active = 0
        self._next = 0
        # Insertion-ordered (a dict, not a set): a crash fails the calls in the order they came, the
        # same in every process (a set of objects iterates in memory-address order).
        self.pending: list[dict[_Proxied, None]] = [{} for _ in range(copies)]
        component.gate = self

    @classmethod
    def of(cls, ctx, component) -> Gate:
        """The component's gate, made from its spec (``copies``, ``mode``, ``failover_after``) the
        first time a fault asks for it; every fault on the component then shares it."""
        if component.gate is None:
            spec = component.spec
            cls(ctx, component, getattr(spec, "copies", 1), getattr(spec, "mode", "active_passive"),
                getattr(spec, "failover_after", 0.0))
        return component.gate

    @property
    def is_up(self) -> bool:
        """Whether the component answers at all (some copy up)."""
        return any(self.up)

    def copy_names(self) -> list[str]:
        return [f"{self.name}/{i}" for i in range(len(self.up))]

    def layer(self, inner):
        """The gate as an edge layer in front of ``inner`` (the component's own ``handle``)."""

        def send(att, done) -> None:
            copy = self._choose()
            if copy is None or not self.up[copy]:
                done(UNAVAILABLE)
                return
            proxied = _Proxied(self, copy, done)
            self.pending[copy][proxied] = None
            inner(att, proxied.answer)

        return send

    def _choose(self) -> int | None:
        if self.mode == "active_passive" or len(self.up) == 1:
            return self.active
        believed = [i for i, b in enumerate(self.believed) if b]
        if not believed:
            return None
        self._next = (self._next + 1) % len(believed)
        return believed[self._next]

    def crash(self, copy: int) -> None:
        """Copy ``copy`` dies: reset what it was proxying; fail over after the detection delay."""
        self.up[copy] = False
        victims, self.pending[copy] = self.pending[copy], {}
        for proxied in victims:
            proxied.dead = True
            proxied.done(ERROR)
        if len(self.up) > 1:
            self.ctx.later(self.failover_after, lambda _: self._fail_over(copy))

    def _fail_over(self, copy: int) -> None:
        if self.up[copy]:
            return  # it came back before anyone noticed
        self.believed[copy] = False
        now = self.ctx.env.now
        if self.mode == "active_passive" and self.active == copy:
            standby = next((i for i, up in enumerate(self.up) if up), None)
            if standby is not None:
                self.active = standby
                self.ctx.recorder.event(now, "failover", self.name, f"{self.name}/{copy}")
                return
        self.ctx.recorder.event(now, "detected_down", self.name, f"{self.name}/{copy}")

    def restart(self, copy: int) -> None:
        """Copy ``copy`` serves again (as a standby in active-passive mode)."""
        self.up[copy] = True
        self.believed[copy] = True
        if self.mode == "active_passive" and not self.up[self.active]:
            self.active = copy
