"""``--export``: OpenMetrics and OTLP/JSON read back with the formats' own parsers and checked
against the run's tables (the traffic table, the requests table), not by string matching."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from simulator import run
from simulator.cli import app
from simulator.export import ORIGIN, export_run, parse_fraction, sample_mask
from simulator.export.hops import hops_of
from simulator.export.openmetrics import metric_name
from simulator.request import ENDED_OUTCOMES
from simulator.scenario.loader import scenario_from_dict

openmetrics = pytest.importorskip("prometheus_client.openmetrics.parser")
json_format = pytest.importorskip("google.protobuf.json_format")
trace_service = pytest.importorskip("opentelemetry.proto.collector.trace.v1.trace_service_pb2")

SHARE = 0.1

SPEC = {
    "name": "export", "duration": "6m", "warmup": "30s", "seed": 11,
    "workload": [{"name": "web", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "40/s"},
                  "client": {"timeout": "1s", "retry": {"max_attempts": 3, "backoff": "exponential",
                                                        "base": "100ms", "cap": "1s"}}},
                 {"name": "api", "entry": "app", "arrivals": {"pattern": "poisson", "rate": "15/s"}}],
    "components": [{"kind": "service", "name": "app", "replicas": 2, "workers": 4,
                    "service_time": {"dist": "exponential", "mean": "20ms"}}],
    "faults": [{"kind": "errors", "name": "burst", "target": "app", "at": "2m", "for": "1m",
                "rate": 0.3}],
}


def simulate(tmp_path):
    return run(scenario_from_dict(SPEC, source="export.yaml", base_dir=tmp_path), trace_sample=SHARE)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    result = simulate(folder)
    export_run(result, folder / "out", SHARE)
    return result, folder / "out"


def families(folder) -> dict:
    text = (folder / "metrics.om").read_text()
    return {f.name: f for f in openmetrics.text_string_to_metric_families(text)}


def test_openmetrics_counters_and_gauges_equal_the_traffic_table(exported):
    result, folder = exported
    found = families(folder)
    traffic = result.traffic
    interval = result.spec.effective_sample_interval
    for workload, rows in traffic.groupby("workload", observed=True):
        ends = np.minimum(rows["t"].to_numpy() + interval, result.spec.duration)
        widths = ends - rows["t"].to_numpy()
        for family, column in [("offered", "offered")] + [(i.count_metric, i.label) for i in ENDED_OUTCOMES]:
            name, _ = metric_name(family)
            got = series(found[name], workload, name + "_total")
            assert found[name].type == "counter"
            assert np.array_equal(got[:, 1], np.cumsum(np.rint(rows[column].to_numpy() * widths)))
            assert np.allclose(got[:, 0], ORIGIN + ends)
        for family in ("throughput", "goodput", "latency_p99", "availability"):
            name, unit = metric_name(family)
            expected = rows[family].to_numpy()
            finite = np.isfinite(expected)
            got = series(found[name], workload, name)
            assert found[name].type == "gauge" and found[name].unit == unit
            assert np.allclose(got[:, 1], expected[finite], rtol=0, atol=0)
            assert np.allclose(got[:, 0], ORIGIN + ends[finite])
    errors = series(found[metric_name("errors")[0]], "web", metric_name("errors")[0] + "_total")[:, 1]
    assert errors[-1] > 0  # the burst is in the file


def test_openmetrics_gauges_equal_the_series_and_timestamps_increase(exported):
    result, folder = exported
    found = families(folder)
    sampled = result.series[result.series["metric"] == "utilization"]
    got = series(found["cascade_utilization_ratio"], "app", "cascade_utilization_ratio", "component")
    assert np.array_equal(got[:, 1], sampled["value"].to_numpy())
    for family in found.values():
        keys = {}
        for sample in family.samples:
            keys.setdefault((sample.name, tuple(sorted(sample.labels.items()))), []).append(sample.timestamp)
        for stamps in keys.values():
            assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False)), family.name
    assert (folder / "metrics.om").read_text().endswith("# EOF\n")


def series(family, value: str, sample_name: str, label: str = "workload") -> np.ndarray:
    rows = [(float(s.timestamp), s.value) for s in family.samples
            if s.name == sample_name and s.labels == {label: value}]
    return np.array(rows)


def parse_otlp(text: str):
    """Parse with the OpenTelemetry protobuf definitions. OTLP/JSON writes trace and span ids in
    hex where protobuf's JSON mapping expects base64 (the OTLP spec's one exception), so they are
    converted first, as an OTLP receiver does; everything else goes through json_format strictly."""
    payload = json.loads(text)
    for resource in payload["resourceSpans"]:
        for scope in resource["scopeSpans"]:
            for span in scope["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
    return json_format.Parse(json.dumps(payload), trace_service.ExportTraceServiceRequest())


def test_otlp_spans_equal_the_sampled_requests(exported):
    result, folder = exported
    message = parse_otlp((folder / "traces.json").read_text())
    every = [span for rs in message.resource_spans for ss in rs.scope_spans for span in ss.spans]
    spans = [span for span in every if not span.parent_span_id]
    requests = result.requests
    chosen = requests[sample_mask(requests.index.to_numpy(), result.seed, SHARE)]
    assert len(spans) == len(chosen) > 0
    n = len(requests)
    assert abs(len(spans) - n * SHARE) < 4 * math.sqrt(n * SHARE * (1 - SHARE))
    assert len({s.trace_id for s in spans}) == len(spans)
    for span, (rid, row) in zip(spans, chosen.iterrows(), strict=True):
        attributes = {a.key: a.value for a in span.attributes}
        assert attributes["cascade.request_id"].int_value == rid
        assert len(span.trace_id) == 16 and len(span.span_id) == 8
        assert span.name == row["workload"] == attributes["cascade.workload"].string_value
        assert abs(span.start_time_unix_nano - (ORIGIN + row["t_arrival"]) * 1e9) < 1e3
        assert attributes["cascade.outcome"].string_value == row["outcome"]
        assert attributes["cascade.attempts"].int_value == row["attempts"]
        if row["outcome"] != "incomplete":
            assert abs(span.end_time_unix_nano - (ORIGIN + row["t_end"]) * 1e9) < 1e3
            assert span.status.code == (1 if row["outcome"] in ("ok", "degraded") else 2)
    assert {s.status.code for s in spans} >= {1, 2}  # the error burst shows as ERROR spans
    check_attempt_spans(spans, [span for span in every if span.parent_span_id], chosen)


def check_attempt_spans(roots, children, chosen):
    """One child span per attempt the client made, numbered 1..attempts, inside its request's span,
    one after the other; the last one ends with the request and has its outcome."""
    by_parent = {}
    for child in children:
        by_parent.setdefault(child.parent_span_id, []).append(child)
    retried = 0
    for root, (_, row) in zip(roots, chosen.iterrows(), strict=True):
        mine = sorted(by_parent.get(root.span_id, []), key=lambda s: s.start_time_unix_nano)
        numbers = [{a.key: a.value for a in s.attributes}["cascade.attempt"].int_value for s in mine]
        if row["outcome"] == "incomplete":
            continue
        assert numbers == list(range(1, row["attempts"] + 1))
        assert all(s.trace_id == root.trace_id for s in mine)
        assert mine[0].start_time_unix_nano == root.start_time_unix_nano
        assert mine[-1].end_time_unix_nano == root.end_time_unix_nano
        assert mine[-1].status.code == root.status.code
        pairs = zip(mine, mine[1:], strict=False)
        assert all(a.end_time_unix_nano <= b.start_time_unix_nano for a, b in pairs)
        assert all(s.status.code == 2 for s in mine[:-1])  # retried: that attempt failed
        retried += len(mine) > 1
    assert retried > 0  # the burst made the clients retry


def test_the_sample_share_matches_the_one_asked_for():
    ids = np.arange(1_000_000)
    for share in (0.01, 0.25):
        k = int(sample_mask(ids, 3, share).sum())
        assert abs(k - share * len(ids)) < 4 * math.sqrt(len(ids) * share * (1 - share)), (share, k)
    assert not np.array_equal(sample_mask(ids, 3, 0.01), sample_mask(ids, 4, 0.01))


def test_exports_repeat_bit_for_bit_with_the_seed(tmp_path, exported):
    _, first = exported
    export_run(simulate(tmp_path), tmp_path / "again", SHARE)
    for name in ("metrics.om", "traces.json"):
        assert (tmp_path / "again" / name).read_bytes() == (first / name).read_bytes()


def test_parse_fraction():
    assert parse_fraction("1%") == 0.01 and parse_fraction("0.25") == 0.25
    for bad in ("0", "150%", "x", "-1%"):
        with pytest.raises(ValueError):
            parse_fraction(bad)


def test_cli_export_writes_both_files_and_refuses_a_sample_without_it(tmp_path):
    path = tmp_path / "export.yaml"
    short = {**SPEC, "duration": "1m", "warmup": "10s", "faults": []}
    path.write_text(yaml.safe_dump(short, sort_keys=False))
    common = ["run", str(path), "--out", str(tmp_path / "results"), "--no-plots"]
    outcome = CliRunner().invoke(app, [*common, "--export", str(tmp_path / "x"), "--trace-sample", "5%"])
    assert outcome.exit_code == 0, outcome.output
    assert families(tmp_path / "x")["cascade_goodput_requests_per_second"].samples
    assert parse_otlp((tmp_path / "x" / "traces.json").read_text()).resource_spans
    refused = CliRunner().invoke(app, [*common, "--trace-sample", "5%"])
    assert refused.exit_code == 2 and "needs --export" in refused.output
    assert len([line for line in refused.output.splitlines() if line.strip()]) == 1


def test_without_a_trace_sample_nothing_is_installed(tmp_path):
    """The attempt and hop taps are installed only with trace_sample: a plain run keeps the clients'
    own methods and its edges' bare terminals (no wrapper on the per-attempt or per-hop path) and
    has no attempts table."""
    import inspect

    from simulator.build import build
    from simulator.components.edge import Position
    from simulator.export.tap import AttemptTap
    from simulator.workload.client import Client

    result = run(scenario_from_dict({**SPEC, "duration": "1m", "warmup": "10s", "faults": []},
                                    source="export.yaml", base_dir=tmp_path))
    assert result.attempts is None
    system = build(scenario_from_dict(SPEC, source="export.yaml", base_dir=tmp_path).resolve(None),
                   seed=1, replication=0)
    assert system.clients and all("settle" not in vars(c) for c in system.clients)
    assert all(inspect.ismethod(c._send) and isinstance(c, Client) for c in system.clients)
    assert all(edge.send is edge.terminal for edge in system.edges)  # no layer: the plain hop path
    AttemptTap(1, 0.5).install(system.clients)  # what trace_sample does: plain functions instead
    assert not any(inspect.ismethod(c.settle) or inspect.ismethod(c._send) for c in system.clients)
    traced = [[la for la in edge.layers if la.position == Position.TRACE] for edge in system.edges]
    assert all(len(layers) == 1 for layers in traced)  # one hop layer on every edge, then
    assert all(edge.send is not edge.terminal for edge in system.edges)


THREE_TIER = {
    "name": "hops", "duration": "2m", "warmup": "10s", "seed": 3,
    "workload": [{"name": "web", "entry": "lb", "arrivals": {"pattern": "poisson", "rate": "60/s"}}],
    "components": [{"kind": "load_balancer", "name": "lb", "targets": "app", "policy": "round_robin"},
                   {"kind": "service", "name": "app", "replicas": 2, "workers": 4,
                    "service_time": {"dist": "exponential", "mean": "20ms"}, "calls": ["db"]},
                   {"kind": "database", "name": "db", "connections": 4,
                    "query_time": {"dist": "exponential", "mean": "10ms"}}],
}


def spans_by_id(folder) -> dict:
    message = parse_otlp((folder / "traces.json").read_text())
    return {s.span_id: s for rs in message.resource_spans for ss in rs.scope_spans for s in ss.spans}


def attributes(span) -> dict:
    return {a.key: a.value for a in span.attributes}


def test_hop_spans_nest_lb_app_db_inside_their_attempt(tmp_path):
    """A 3-tier request's attempt has three hop spans, the balancer's under the attempt, the app's
    under the balancer's, the database's under the app's, each within its parent's time; without
    timeouts or faults every hop ends inside its parent and every request ends ok."""
    result = run(scenario_from_dict(THREE_TIER, source="hops.yaml", base_dir=tmp_path), trace_sample=0.2)
    export_run(result, tmp_path / "out", 0.2)
    spans = spans_by_id(tmp_path / "out")
    hops = [s for s in spans.values() if "cascade.component" in attributes(s)]
    attempts = {s.span_id for s in spans.values() if "cascade.attempt" in attributes(s)} - \
        {s.span_id for s in hops}
    assert len(attempts) > 100
    chains = {}
    for hop in hops:
        parent = spans[hop.parent_span_id]  # every parent is in the file
        assert parent.trace_id == hop.trace_id
        assert parent.start_time_unix_nano <= hop.start_time_unix_nano
        assert hop.end_time_unix_nano <= parent.end_time_unix_nano
        names, up = [hop.name], hop
        while up.parent_span_id not in attempts:
            up = spans[up.parent_span_id]
            names.append(up.name)
        chains.setdefault(up.parent_span_id, set()).add(tuple(reversed(names)))
        assert attributes(hop)["cascade.outcome"].string_value == "ok" and hop.status.code == 1
    finished = [chain for chain in chains.values() if ("lb", "app", "db") in chain]
    assert len(finished) > 0.9 * len(attempts)
    assert all(chain == {("lb",), ("lb", "app"), ("lb", "app", "db")} for chain in finished)
    for hop in hops:  # the entry's hop starts when the attempt does: the client sends at once
        if hop.parent_span_id in attempts:
            assert hop.start_time_unix_nano == spans[hop.parent_span_id].start_time_unix_nano


def test_hop_spans_follow_retries_and_failures(exported):
    """With client retries and an error burst: every hop hangs from an attempt of its own trace
    (its attempt number matches), starts within it, and failed visits show as ERROR hops."""
    result, folder = exported
    spans = spans_by_id(folder)
    hops = [s for s in spans.values() if "cascade.component" in attributes(s)]
    table = hops_of(result.attempts)
    assert len(hops) == len(table) > 0
    assert set(table["component"].astype(str)) == {"app"}
    retried = 0
    for hop in hops:
        attempt = spans[hop.parent_span_id]
        number = attributes(hop)["cascade.attempt"].int_value
        if attributes(attempt).get("cascade.request_id"):  # the attempt was still in flight at the end
            continue
        assert attributes(attempt)["cascade.attempt"].int_value == number
        assert attempt.start_time_unix_nano <= hop.start_time_unix_nano <= attempt.end_time_unix_nano
        retried += number > 1
    assert retried > 0
    assert {s.status.code for s in hops} >= {1, 2}


def test_the_trace_taps_only_observe(tmp_path, exported):
    """A run with a trace sample (attempt and hop taps on) is the same run as one without: same
    requests, same outcomes and times, same summary."""
    traced, _ = exported
    plain = run(scenario_from_dict(SPEC, source="export.yaml", base_dir=tmp_path))
    assert plain.requests.equals(traced.requests)
    assert plain.summary == traced.summary
