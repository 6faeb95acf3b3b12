"""A sample of a run's requests as OpenTelemetry spans in OTLP/JSON, for a trace viewer.

Which requests: a request is sampled when a hash of (seed, request id) falls below the fraction
asked for, so the choice repeats with the seed, costs nothing during the run (it is made on the
finished requests table), and picks the same requests in every variant of a seed (common random
numbers: the same request can be compared across variants).

What a span holds: one span per sampled request (kind SERVER, named for its workload) from its
arrival to its end, status OK for an available outcome and ERROR otherwise, with the outcome and
the number of attempts as attributes; a request still in flight at the end of the drain ends at
the drain's end with status UNSET and outcome ``incomplete``. With the tables the trace tap keeps
during the run (:mod:`simulator.export.tap`, :mod:`simulator.export.hops`), each request span has
a CLIENT child per attempt, and each attempt a SERVER span per hop (a component visit, named for
the component), nested as the calls were: the entry's hop under the attempt, a callee's hop under
its caller's.

Ids: trace and span ids come from a hash of (seed, variant, replication, request id) (a child's
span id: a hash of its parent's and its attempt or hop number), so they
repeat with the seed and differ between variants and replications (their traces can be loaded
together); they are hex strings, as OTLP/JSON requires (not base64 as protobuf's own JSON mapping
would have it). Times are nanoseconds since the Unix epoch, as decimal strings (64-bit integers in
protobuf JSON), with simulated time 0 at :data:`simulator.export.openmetrics.ORIGIN`.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd

from simulator.export.hops import hops_of
from simulator.export.openmetrics import ORIGIN
from simulator.request import OUTCOMES

SPAN_KIND_SERVER, SPAN_KIND_CLIENT = 2, 3
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
_AVAILABLE = {info.label: info.available for info in OUTCOMES}
_M = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, vectorised: a well-spread 64-bit hash of each 64-bit input."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)) & _M
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M
        return x ^ (x >> np.uint64(31))


def _key(text: str) -> np.uint64:
    """A stable 64-bit key of a string (Python's hash() changes between processes)."""
    return np.uint64(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big"))


def sample_mask(ids: np.ndarray, seed: int, fraction: float) -> np.ndarray:
    """Which request ids are sampled: hash(seed, id) / 2**64 < fraction."""
    hashed = _mix(np.asarray(ids, dtype=np.uint64) ^ _mix(np.array([_key(f"sample/{seed}")]))[0])
    return (hashed >> np.uint64(11)).astype(np.float64) / 2.0 ** 53 < fraction


def _ids(ids: np.ndarray, salt: str) -> tuple[list[str], list[str]]:
    """(128-bit trace ids, 64-bit span ids) as lowercase hex, from the ids and a run's salt."""
    base = np.asarray(ids, dtype=np.uint64) ^ _key(salt)
    high, low, span = _mix(base), _mix(base ^ np.uint64(0x5555555555555555)), _mix(_mix(base))
    traces = [f"{h:016x}{lo:016x}" for h, lo in zip(high.tolist(), low.tolist(), strict=True)]
    return traces, [f"{s:016x}" for s in span.tolist()]


def otlp_json(requests: pd.DataFrame, *, scenario: str, variant: str, seed: int, replication: int,
              fraction: float, end: float, attempts: pd.DataFrame | None = None,
              origin: float = ORIGIN) -> str:
    """The ExportTraceServiceRequest (OTLP/JSON) of the sampled requests of one run; with
    ``attempts`` (:class:`simulator.export.tap.AttemptTap`'s table) a child span per attempt, and
    with its hops table a span per hop."""
    ids = requests.index.to_numpy()
    chosen = requests[sample_mask(ids, seed, fraction)]
    traces, spans = _ids(chosen.index.to_numpy(), f"trace/{seed}/{variant}/{replication}")
    columns = zip(chosen["workload"].astype(str).tolist(), chosen["t_arrival"].tolist(),
                  chosen["t_end"].tolist(), chosen["outcome"].astype(str).tolist(),
                  chosen["attempts"].tolist(), chosen.index.tolist(), traces, spans, strict=True)
    body = [_span(*row, end=end, origin=origin) for row in columns]
    if attempts is not None:
        parents = dict(zip(chosen.index.tolist(), zip(traces, spans, strict=True), strict=True))
        body.extend(_attempt_spans(attempts, parents, origin))
        hops = hops_of(attempts)
        if hops is not None:
            body.extend(_hop_spans(hops, attempts, parents, end, origin))
    resource = {"attributes": [_attr("service.name", f"cascade-sim/{scenario}"),
                               _attr("cascade.scenario", scenario), _attr("cascade.variant", variant),
                               _attr("cascade.seed", int(seed)),
                               _attr("cascade.replication", int(replication)),
                               _attr("cascade.trace_sample", float(fraction))]}
    payload = {"resourceSpans": [{"resource": resource, "scopeSpans": [
        {"scope": {"name": "cascade-sim"}, "spans": body}]}]}
    return json.dumps(payload, separators=(",", ":")) + "\n"


def _span(workload, t_arrival, t_end, outcome, attempts, rid, trace, span, *, end, origin) -> dict:
    finished = math.isfinite(t_end)
    code = STATUS_UNSET if not finished else (STATUS_OK if _AVAILABLE[outcome] else STATUS_ERROR)
    status = {"code": code} if code != STATUS_ERROR else {"code": code, "message": outcome}
    return {"traceId": trace, "spanId": span, "name": workload, "kind": SPAN_KIND_SERVER,
            "startTimeUnixNano": _nanos(origin, t_arrival),
            "endTimeUnixNano": _nanos(origin, t_end if finished else max(end, t_arrival)),
            "attributes": [_attr("cascade.workload", workload), _attr("cascade.request_id", int(rid)),
                           _attr("cascade.outcome", outcome), _attr("cascade.attempts", int(attempts))],
            "status": status}


def _attempt_spans(attempts: pd.DataFrame, parents: dict, origin: float) -> list[dict]:
    """One CLIENT span per attempt, a child of its request's span; its span id hashes the parent's
    with the attempt number."""
    rows = zip(attempts["id"].tolist(), attempts["attempt"].tolist(), attempts["t_start"].tolist(),
               attempts["t_end"].tolist(), attempts["outcome"].astype(str).tolist(), strict=True)
    spans = []
    for rid, number, start, stop, outcome in rows:
        trace, parent = parents[rid]
        own = _child(int(parent, 16), number)
        spans.append({"traceId": trace, "spanId": f"{own:016x}", "parentSpanId": parent,
                      "name": f"attempt {number}", "kind": SPAN_KIND_CLIENT,
                      "startTimeUnixNano": _nanos(origin, start), "endTimeUnixNano": _nanos(origin, stop),
                      "attributes": [_attr("cascade.attempt", int(number)),
                                     _attr("cascade.outcome", outcome)],
                      "status": _status(outcome)})
    return spans


def _hop_spans(hops: pd.DataFrame, attempts: pd.DataFrame, parents: dict, end: float,
               origin: float) -> list[dict]:
    """One SERVER span per hop (:mod:`simulator.export.hops`), a child of its caller's hop or, for
    the entry's, of its attempt's span (of the request's, for an attempt still in flight at the
    end: it has no span); a hop still open at the end ends at the drain's end, status UNSET."""
    recorded = set(zip(attempts["id"].tolist(), attempts["attempt"].tolist(), strict=True))
    rows = zip(hops["id"].tolist(), hops["attempt"].tolist(), hops["hop"].tolist(),
               hops["parent_hop"].tolist(), hops["caller"].astype(str).tolist(),
               hops["component"].astype(str).tolist(), hops["t_start"].tolist(), hops["t_end"].tolist(),
               hops["outcome"].astype(str).tolist(), strict=True)
    spans = []
    for rid, number, hop, parent_hop, caller, component, start, stop, outcome in rows:
        trace, root = parents[rid]
        attempt = _child(int(root, 16), number) if (rid, number) in recorded else int(root, 16)
        parent = attempt if parent_hop < 0 else _child(attempt, _HOP_SALT * (parent_hop + 1))
        finished = math.isfinite(stop)
        spans.append({"traceId": trace, "spanId": f"{_child(attempt, _HOP_SALT * (hop + 1)):016x}",
                      "parentSpanId": f"{parent:016x}", "name": component, "kind": SPAN_KIND_SERVER,
                      "startTimeUnixNano": _nanos(origin, start),
                      "endTimeUnixNano": _nanos(origin, stop if finished else max(end, start)),
                      "attributes": [_attr("cascade.component", component), _attr("cascade.caller", caller),
                                     _attr("cascade.attempt", int(number)), _attr("cascade.hop", int(hop)),
                                     _attr("cascade.outcome", outcome)],
                      "status": _status(outcome) if finished else {"code": STATUS_UNSET}})
    return spans


_HOP_SALT = 1 << 16
"""Hop k's span id hashes its attempt's with (k + 1) x this: apart from attempt numbers (< 2**16)."""


def _child(parent: int, salt: int) -> int:
    """A child span's 64-bit id: a hash of its parent's id and its own number."""
    return int(_mix(np.array([parent ^ salt], dtype=np.uint64))[0])


def _status(outcome: str) -> dict:
    code = STATUS_OK if _AVAILABLE[outcome] else STATUS_ERROR
    return {"code": code} if code == STATUS_OK else {"code": code, "message": outcome}


def _nanos(origin: float, t: float) -> str:
    """Nanoseconds since the epoch, exact to the nanosecond for times below ~100 days of sim."""
    return str(int(origin) * 1_000_000_000 + round((origin - int(origin) + t) * 1e9))


def _attr(key: str, value) -> dict:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}
