"""Component specs: the services, load balancers, databases, caches and external dependencies.

Components refer to each other by name (``calls``, ``targets``, ``backend``); whether those
names exist, and whether the calls form a cycle, is checked once the whole scenario is known
(see ``simulator.scenario.references``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, model_validator

from simulator.scenario.base import (
    Name,
    NonNegativeInt,
    PositiveInt,
    PositiveNumber,
    SpecModel,
    StrictBool,
    spec_error,
)
from simulator.scenario.counter import CounterSpec
from simulator.scenario.dists import ConstantDistSpec, DistSpec, KeysSpec
from simulator.scenario.queue import QueueSpec
from simulator.scenario.workload import RetrySpec
from simulator.units import Count, Duration, Fraction, PositiveDuration


class CallSpec(SpecModel):
    """A downstream call made while handling each request."""

    target: str
    """Name of the component called."""
    optional: StrictBool = False
    """If true, a failed call does not fail the request (graceful degradation)."""
    timeout: PositiveDuration | None = None
    """The caller stops waiting after this long, seconds (``timeout``); the callee keeps working."""
    retry: RetrySpec | None = None
    """Retries of a failed call (same keys as a client's retry); each try gets its own ``timeout``."""


def _call_shorthand(value: Any) -> Any:
    """``calls: [db]`` means ``calls: [{target: db}]``."""
    return {"target": value} if isinstance(value, str) else value


CallEntry = Annotated[
    CallSpec,
    BeforeValidator(_call_shorthand, json_schema_input_type=Union[str, CallSpec]),  # noqa: UP007
]


class HealthCheckSpec(SpecModel):
    """Active probes from a balancer to each target replica (how it learns of a dead one)."""

    interval: PositiveDuration = 5.0
    """Time between probes of one replica, seconds."""
    timeout: PositiveDuration = 1.0
    """A probe unanswered after this long fails (a hung replica), seconds."""
    unhealthy_after: PositiveInt = 3
    """Consecutive failed probes before the balancer stops routing to the replica."""
    healthy_after: PositiveInt = 2
    """Consecutive good probes before it routes to the replica again."""


class ServiceSpec(SpecModel):
    """A replicated service: each replica has ``workers`` servers and a FIFO queue."""

    kind: Literal["service"] = "service"
    name: Name
    """Component name; replicas are named ``name/0``, ``name/1``, ..."""
    replicas: PositiveInt = 1
    """Number of replicas."""
    workers: PositiveInt = 1
    """Concurrent requests per replica."""
    queue_limit: NonNegativeInt | None = None
    """Waiting requests per replica beyond which new ones are rejected (none: unbounded)."""
    service_time: DistSpec
    """Own work per request, seconds (calls come on top)."""
    error_rate: Fraction = 0.0
    """Fraction of requests that fail after their service time."""
    calls: list[CallEntry] = []
    """Downstream calls per request, in order (or all at once if parallel)."""
    parallel: StrictBool = False
    """Make the calls concurrently instead of one after another."""
    balance: Literal["round_robin", "random"] = "round_robin"
    """How direct callers (not through a load balancer) spread requests over replicas."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""
    drop_expired: StrictBool = False
    """Deadline-aware dequeue: a worker drops, at once, work whose client already gave up."""


class LoadBalancerSpec(SpecModel):
    """Spreads requests over the replicas of one service."""

    kind: Literal["load_balancer"] = "load_balancer"
    name: Name
    """Component name."""
    targets: str
    """Name of the service whose replicas receive the traffic."""
    policy: Literal["round_robin", "random", "least_outstanding", "power_of_two", "weighted"] = "round_robin"
    """How a replica is chosen for each request."""
    weights: list[PositiveNumber] | None = None
    """Relative weights, one per target replica; required iff policy is weighted."""
    latency: DistSpec | None = None
    """Added latency per request, seconds (none: zero)."""
    health_check: HealthCheckSpec | None = None
    """Probes that detect dead replicas (none: the balancer never learns of a crash)."""
    copies: PositiveInt = 1
    """Balancer instances (1: a single point of failure)."""
    mode: Literal["active_passive", "active_active"] = "active_passive"
    """With several copies: one serves and the others stand by, or all serve."""
    failover_after: Duration = 10.0
    """Time to notice a dead copy and move its traffic to another, seconds."""
    discovery: str | None = None
    """A ``registry`` the balancer learns its target's live instances from (besides health checks)."""

    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""

    @model_validator(mode="after")
    def _weights_iff_weighted(self) -> LoadBalancerSpec:
        if self.policy == "weighted" and self.weights is None:
            raise spec_error("missing required key 'weights' (policy weighted needs one per target replica)")
        if self.policy != "weighted" and self.weights is not None:
            raise spec_error(f"weights need policy weighted; policy is {self.policy}", "weights")
        return self


class DatabaseSpec(SpecModel):
    """A database with a connection pool and optional read replicas."""

    kind: Literal["database"] = "database"
    name: Name
    """Component name."""
    connections: PositiveInt
    """Connections per node, primary and each read replica alike (concurrent queries)."""
    query_time: DistSpec
    """Time per query, seconds."""
    queue_limit: NonNegativeInt | None = None
    """Queries waiting for a connection beyond which new ones are rejected (none: unbounded)."""
    read_replicas: NonNegativeInt = 0
    """Read replicas, each with as many connections as the primary."""
    read_fraction: Fraction = 0.0
    """Fraction of queries that are reads and may go to a replica."""
    error_rate: Fraction = 0.0
    """Fraction of queries that fail."""
    drop_expired: StrictBool = False
    """Deadline-aware dequeue: a connection drops, at once, a query whose client already gave up."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""
    replication: Literal["async", "sync"] = "async"
    """How read replicas follow the primary (versioned data, docs/consistency.md): ``async``, a write
    commits at the primary when its query ends and each replica applies it ``replication_lag`` later,
    in order; ``sync``, a write commits (and is acknowledged) once every replica has applied it.
    No effect without read replicas."""
    replication_lag: DistSpec = ConstantDistSpec(value=0.0)
    """Time from a write's commit (async) or query end (sync) to its application at each read
    replica, seconds, drawn per write and replica (default 0: replicas keep up)."""
    concurrency: Literal["none", "cas", "lock"] = "none"
    """Concurrency control for increments (``operations.read_modify_write``): ``none`` (the last
    writer wins: lost updates), ``cas`` (compare-and-set on the version, retried), ``lock`` (a lock
    per key from the read to the commit)."""


class CacheSpec(SpecModel):
    """A cache in front of a backend; misses go to the backend and fill the cache."""

    kind: Literal["cache"] = "cache"
    name: Name
    """Component name."""
    capacity: Annotated[Count, Field(ge=1)]
    """Number of entries held."""
    policy: Literal["lru", "lfu", "fifo", "random"] = "lru"
    """Eviction policy."""
    ttl: PositiveDuration | None = None
    """Time an entry stays valid, seconds (none: until evicted)."""
    keys: KeysSpec | None = None
    """Which keys requests ask for (none: each request's own key, from its workload's ``keys``)."""
    hit_time: DistSpec = ConstantDistSpec(value=0.0005)
    """Time to answer a hit, seconds (default 0.5ms)."""
    backend: str
    """Name of the component asked on a miss."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""
    serve_stale: StrictBool = False
    """Answer ``degraded`` from an expired entry when the backend call to refresh it fails."""
    coalesce: StrictBool = False
    """One backend fetch per key at a time: later misses for the key wait for its answer."""
    ttl_jitter: Fraction = 0.0
    """Each fill's ttl is multiplied by a uniform factor in ``[1 - j, 1 + j]`` (needs ``ttl``)."""
    warm: StrictBool = False
    """Start full with the most popular keys (keys ``0..capacity-1``) instead of empty."""
    write_policy: Literal["write_around", "write_through", "write_behind"] = "write_around"
    """Where a write goes (data workloads, docs/consistency.md): ``write_around`` to the backend only
    (the cache as before writes existed), ``write_through`` to the backend and, once committed, into
    the cache, ``write_behind`` into a buffer the cache flushes to the backend later."""
    flush_interval: PositiveDuration | None = None
    """Write-behind: time between flushes of the write buffer, seconds (required with write_behind)."""
    flush_batch: Annotated[Count, Field(ge=1)] | None = None
    """Write-behind: most writes one flush query carries (default 100; a flush sends as many
    batches as the buffer needs)."""
    read_path: Literal["read_through", "cache_aside"] = "read_through"
    """Who fills the cache on a miss: the cache itself (``read_through``), or the caller after
    reading the database itself (``cache_aside``: the fill lands one ``hit_time`` later)."""
    invalidate: Literal["ttl", "on_write", "events"] = "ttl"
    """What removes an outdated entry: only its ``ttl``; also a write passing through the cache
    (``on_write``); or the database's change events, ``invalidation_delay`` after each commit."""
    invalidation_delay: Duration | None = None
    """``invalidate: events``: time from a commit at the database to the cache dropping the key,
    seconds (default 0)."""

    @model_validator(mode="after")
    def _jitter_needs_ttl(self) -> CacheSpec:
        if self.ttl_jitter > 0 and self.ttl is None:
            raise spec_error("ttl_jitter needs a ttl (entries without one never expire)", "ttl_jitter")
        return self

    # A global cache across regions (docs/consistency.md, "Global caches and counters"); its
    # Python name is ``global_`` (``global`` is a keyword), the YAML key ``global``.
    global_: Literal["single_writer", "last_write_wins"] | None = Field(None, alias="global")
    """One copy per region: writes go to the first region (``single_writer``) or are accepted in
    every region, newest winning (``last_write_wins``); none: a plain, one-place cache."""
    regions: Annotated[list[Name], Field(min_length=2)] | None = None
    """Global only: the regions holding a copy, primary first; workloads are served by their region's."""
    replication_lag: Duration = 0.1
    """Global only: time for a write to reach the other regions' copies, seconds."""

    model_config = SpecModel.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _global_needs_regions(self) -> CacheSpec:
        if (self.global_ is None) != (self.regions is None):
            missing = "regions" if self.regions is None else "global"
            raise spec_error(f"global and regions go together: missing '{missing}'",
                             "regions" if self.regions is not None else "global")
        if self.global_ is None and "replication_lag" in self.model_fields_set:
            raise spec_error("replication_lag needs global (a plain cache has one copy)", "replication_lag")
        if self.regions is not None and len(set(self.regions)) < len(self.regions):
            raise spec_error("a region is listed twice", "regions")
        return self

    @model_validator(mode="after")
    def _write_behind_settings(self) -> CacheSpec:
        behind = self.write_policy == "write_behind"
        if behind and self.flush_interval is None:
            raise spec_error("write_behind needs a flush_interval (how often buffered writes are flushed)",
                             "write_policy")
        for key in ("flush_interval", "flush_batch"):
            if not behind and getattr(self, key) is not None:
                raise spec_error(f"{key} only applies with write_policy: write_behind "
                                 f"(got write_policy: {self.write_policy})", key)
        if self.invalidation_delay is not None and self.invalidate != "events":
            raise spec_error("invalidation_delay only applies with invalidate: events "
                             f"(got invalidate: {self.invalidate})", "invalidation_delay")
        return self

    @property
    def effective_flush_batch(self) -> int:
        """The write-behind batch size, its default applied."""
        return 100 if self.flush_batch is None else int(self.flush_batch)


class ExternalSpec(SpecModel):
    """A dependency outside the system (a payment API): latency and errors, no queue modelled."""

    kind: Literal["external"] = "external"
    name: Name
    """Component name."""
    latency: DistSpec
    """Response time, seconds."""
    error_rate: Fraction = 0.0
    """Fraction of calls that fail."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""


class GlobalRouterSpec(SpecModel):
    """Global routing (GeoDNS, anycast): each workload goes to its own region's entry when it is
    believed healthy, otherwise to the first healthy one in ``targets`` order, paying ``remote_latency``."""

    kind: Literal["global"] = "global"
    name: Name
    """Component name."""
    targets: Annotated[list[str], Field(min_length=1)]
    """Regional entry components, each with a ``region``; the order is the fallback order."""
    remote_latency: DistSpec = ConstantDistSpec(value=0.05)
    """Latency added to a request served outside its workload's region, seconds."""
    health_check: HealthCheckSpec = HealthCheckSpec()
    """How the router probes each regional entry."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""


class RegistrySpec(SpecModel):
    """Service discovery (Consul, Eureka): replicas of ``services`` register and heartbeat; balancers
    with ``discovery: <this>`` route only to instances whose last heartbeat is younger than
    ``expiry``, as of their last ``refresh``."""

    kind: Literal["registry"] = "registry"
    name: Name
    """Component name."""
    services: Annotated[list[str], Field(min_length=1)]
    """Services whose replicas register here."""
    interval: PositiveDuration = 5.0
    """Heartbeat period of each instance, seconds."""
    expiry: PositiveDuration = 15.0
    """An instance without a heartbeat for this long is dropped, seconds."""
    refresh: PositiveDuration = 10.0
    """How often callers re-read the registry (their view is stale in between), seconds."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""


class DnsSpec(SpecModel):
    """DNS failover (Route 53 style): answers with the first healthy target; clients cache the
    answer for ``ttl``, so after a switch (or an outage of the DNS itself) they keep using the
    old answer until it expires."""

    kind: Literal["dns"] = "dns"
    name: Name
    """Component name."""
    targets: Annotated[list[str], Field(min_length=1)]
    """Records in failover order (primary first)."""
    ttl: PositiveDuration = 60.0
    """How long clients cache an answer, seconds."""
    health_check: HealthCheckSpec = HealthCheckSpec(interval=10.0, unhealthy_after=3)
    """How the DNS provider probes its targets."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""


ComponentSpec = Annotated[
    Union[ServiceSpec, LoadBalancerSpec, DatabaseSpec, CacheSpec, ExternalSpec,  # noqa: UP007
          GlobalRouterSpec, DnsSpec, RegistrySpec, QueueSpec, CounterSpec],
    Field(discriminator="kind"),
]
"""Any component, chosen by ``kind``."""
