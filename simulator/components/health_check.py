"""Active health checks: how a balancer learns that a replica died, hung or came back.

Every ``interval`` the checker probes each replica of the balancer's target. A replica that is up
answers at once; a crashed or starting one refuses at once; a hung or paused one never answers,
so its probe fails only after ``timeout``. After ``unhealthy_after`` failures in a row the
balancer stops routing to it, after ``healthy_after`` successes in a row it routes to it again.
Until then it keeps sending requests into the void: detection is not free.
"""

from __future__ import annotations


class HealthChecker:
    """Probes the target replicas of one balancer and updates the balancer's view."""

    def __init__(self, ctx, balancer, spec):
        self.ctx = ctx
        self.balancer = balancer
        self.spec = spec
        self.fails: dict = {}
        self.oks: dict = {}

    def start(self) -> None:
        """First round of probes one interval after the start."""
        self.ctx.later(self.spec.interval, self.probe_all)

    def probe_all(self, _event=None) -> None:
        """Probe every replica of the target group, then schedule the next round."""
        for replica in list(self.balancer.target.replicas):
            health = replica.health
            if health is None or health.responds:
                self._result(replica, True)
            elif health.accepts:  # hung or paused: the probe waits for its timeout
                self.ctx.later(self.spec.timeout, lambda _, r=replica: self._result(r, False))
            else:
                self._result(replica, False)
        if self.ctx.env.now + self.spec.interval < self.ctx.stop:
            self.ctx.later(self.spec.interval, self.probe_all)

    def _result(self, replica, ok: bool) -> None:
        spec, now, record = self.spec, self.ctx.env.now, self.ctx.recorder.event
        if ok:
            self.fails[replica] = 0
            self.oks[replica] = self.oks.get(replica, 0) + 1
            if self.oks[replica] >= spec.healthy_after and self.balancer.believe_up(replica):
                record(now, "detected_up", self.balancer.name, replica.name)
        else:
            self.oks[replica] = 0
            self.fails[replica] = self.fails.get(replica, 0) + 1
            if self.fails[replica] >= spec.unhealthy_after and self.balancer.believe_down(replica):
                record(now, "detected_down", self.balancer.name, replica.name)
