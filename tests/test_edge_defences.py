"""Circuit breakers, bulkheads and fallbacks on call edges do what docs/defences.md promises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import run


def scenario(mitigations, *, faults=(), db_error_rate=0.0, rate=200, duration=60, db_time=0.01,
             connections=50, timeout=None) -> dict:
    """Workload ``w`` -> service ``app`` (1 x 200 workers) -> database ``db``."""
    client = {"timeout": timeout} if timeout else {}
    return {
        "name": "edge-defences", "duration": duration, "seed": 3,
        "workload": [{"name": "w", "entry": "app", "arrivals": {"pattern": "poisson", "rate": rate},
                      "client": client}],
        "components": [
            {"kind": "service", "name": "app", "workers": 200,
             "service_time": {"dist": "constant", "value": 0.001}, "calls": ["db"]},
            {"kind": "database", "name": "db", "connections": connections, "error_rate": db_error_rate,
             "query_time": {"dist": "exponential", "mean": db_time}},
        ],
        "faults": list(faults), "mitigations": list(mitigations),
    }


ERRORS_20_40 = {"kind": "errors", "name": "db_errors", "target": "db", "at": 20, "for": 20, "rate": 1.0}
BREAKER = {"kind": "circuit_breaker", "name": "br", "target": "app->db", "window_size": 20,
           "minimum_calls": 10, "wait_in_open": 2, "permitted_calls_in_half_open": 3}


def events(result, kind):
    """The events of one kind."""
    ev = result.events
    return ev[ev["kind"] == kind]


def test_breaker_opens_during_an_outage_and_closes_after(make_scenario):
    """A dependency failing from 20 s to 40 s opens the breaker at about 20 s; trials fail until
    40 s and reopen it; after 40 s a trial round closes it; refused calls end short_circuited."""
    result = run(make_scenario(scenario([BREAKER], faults=[ERRORS_20_40])))
    transitions = events(result, "breaker")
    assert set(transitions["component"]) == {"br"}
    opened = transitions[transitions["detail"] == "closed->open"]["t"]
    assert len(opened) == 1 and 20.0 <= opened.iloc[0] < 20.5
    closed = transitions[transitions["detail"] == "half_open->closed"]["t"]
    assert len(closed) == 1 and 40.0 <= closed.iloc[0] < 43.0
    reopened = transitions[transitions["detail"] == "half_open->open"]
    assert len(reopened) >= 5  # a trial round every ~2 s during the outage, each failing
    summary = result.summary
    assert summary["opened.br"] == len(reopened) + 1
    assert summary["short_circuited.br"] > 0.8 * 200 * 20  # most calls refused, not sent
    # The app fails fast on a refused required call: its callers see ``error``, not the refusal.
    assert summary["short_circuited"] == 0 and summary["errors"] > 0.95 * 200 * 20


def test_breaker_gauges_are_sampled(make_scenario):
    """The breaker's state (0/1/2) and failure rate appear in the series under its name."""
    result = run(make_scenario(scenario([BREAKER], faults=[ERRORS_20_40])))
    series = result.series[result.series["component"] == "br"]
    state = series[series["metric"] == "state"]
    assert set(state["value"]) >= {0.0, 1.0}
    assert state[(state["t"] > 25) & (state["t"] < 38)]["value"].min() >= 1.0
    assert set(series["metric"]) >= {"state", "failure_rate"}


def test_hystrix_preset_uses_its_numbers(make_scenario):
    """``preset: hystrix`` waits 5 s between single trial calls while the dependency is down."""
    hystrix = {"kind": "circuit_breaker", "name": "hx", "target": "app->db", "preset": "hystrix"}
    result = run(make_scenario(scenario([hystrix], faults=[ERRORS_20_40])))
    t = events(result, "breaker")
    trials = t[t["detail"] == "open->half_open"]["t"].to_numpy()
    assert len(trials) >= 3
    gaps = trials[1:] - trials[:-1]
    assert gaps[:2].min() >= 5.0 and gaps[:2].max() < 5.1


def test_disabled_breaker_is_not_built(make_scenario):
    """``enabled: false`` leaves the edge untouched: nothing is short-circuited."""
    result = run(make_scenario(scenario([{**BREAKER, "enabled": False}], faults=[ERRORS_20_40])))
    assert "short_circuited.br" not in result.summary
    assert result.summary["short_circuited"] == 0


@pytest.mark.parametrize("max_wait", [0.0, 0.05])
def test_bulkhead_caps_concurrency_exactly(make_scenario, max_wait):
    """No more than max_concurrent calls are ever in flight on the edge; the rest are rejected
    (at once, or after waiting max_wait for a slot)."""
    bulkhead = {"kind": "bulkhead", "name": "bh", "target": "app->db", "max_concurrent": 5,
                "max_wait": max_wait}
    result = run(make_scenario(scenario([bulkhead], rate=400, db_time=0.02, duration=30)))
    summary = result.summary
    assert summary["rejected.bh"] > 1000 and summary["errors"] > 1000  # the app fails on a refusal
    db = result.series[(result.series["component"] == "db") & (result.series["metric"] == "busy")]
    assert db["value"].max() == 5.0


def test_bulkhead_per_workload_gives_each_workload_its_pool(make_scenario):
    """With ``per: workload`` two workloads each get max_concurrent slots."""
    data = scenario([{"kind": "bulkhead", "name": "bh", "target": "app->db", "max_concurrent": 4,
                      "per": "workload"}], rate=300, db_time=0.02, duration=20)
    data["workload"].append({**data["workload"][0], "name": "v"})
    result = run(make_scenario(data))
    db = result.series[(result.series["component"] == "db") & (result.series["metric"] == "busy")]
    assert db["value"].max() == 8.0


def test_fallback_keeps_a_failing_dependency_available(make_scenario):
    """A dependency failing half its calls behind a fallback: every request is answered, the
    failed ones ``degraded`` (available), the rest ``ok``."""
    fallback = {"kind": "fallback", "name": "fb", "target": "app->db", "latency": "5ms"}
    result = run(make_scenario(scenario([fallback], db_error_rate=0.5, duration=30)))
    s = result.summary
    assert s["errors"] == 0
    assert (s["ok"] + s["degraded"]) / s["offered"] > 0.999
    assert 0.45 < s["degraded"] / s["offered"] < 0.55
    assert s["fallbacks.fb"] == pytest.approx(s["degraded"], rel=0.05)  # the counter spans the drain too
    assert s["availability"] > 0.999


def test_fallback_answers_for_an_open_breaker(make_scenario):
    """A fallback listed after a breaker on the same edge answers the short-circuited calls too."""
    fallback = {"kind": "fallback", "name": "fb", "target": "app->db"}
    result = run(make_scenario(scenario([BREAKER, fallback], faults=[ERRORS_20_40])))
    s = result.summary
    assert s["short_circuited"] == 0 and s["errors"] == 0 and s["short_circuited.br"] > 2000
    assert s["availability"] > 0.999


class _Ctx:
    """Just what a bulkhead needs from the engine: a clock, a scheduler, a measurement window."""

    def __init__(self):
        import simpy

        self.env = simpy.Environment()

    def scheduler(self):
        env = self.env

        def later(delay, callback, value=None):
            env.timeout(delay, value).callbacks.append(callback)

        return later

    def measuring(self):
        return True


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4), st.sampled_from([0.0, 0.3]),
       st.lists(st.tuples(st.sampled_from([0.0, 0.1, 0.5]), st.sampled_from([0.2, 1.0])), max_size=40))
def test_bulkhead_never_exceeds_and_always_uses_its_slots(cap, max_wait, calls):
    """In flight never exceeds max_concurrent; a call is refused only when every slot was taken
    for its whole wait; a waiting call gets a slot in arrival order."""
    from types import SimpleNamespace

    from simulator.mitigations.bulkhead import Bulkhead

    ctx = _Ctx()
    env = ctx.env
    spec = SimpleNamespace(name="bh", target="a->b", max_concurrent=cap, max_wait=max_wait, per="edge")
    bulkhead = Bulkhead(ctx, spec)
    state = {"in_flight": 0, "started": [], "refused": []}

    def inner(att, done):
        state["in_flight"] += 1
        assert state["in_flight"] <= cap
        state["started"].append((att.i, env.now))

        def finish(_):
            state["in_flight"] -= 1
            done(0)

        env.timeout(att.d).callbacks.append(finish)

    send = bulkhead._layer(inner)
    t = 0.0
    for i, (gap, duration) in enumerate(calls):
        t += gap
        att = SimpleNamespace(i=i, d=duration, client=SimpleNamespace(workload_index=0))

        def arrive(_, att=att):
            free_before = cap - state["in_flight"]
            send(att, lambda outcome, att=att: outcome == 3 and state["refused"].append((att.i, env.now)))
            if max_wait == 0 and free_before > 0:
                assert state["started"][-1][0] == att.i  # a free slot is always used at once

        env.timeout(t).callbacks.append(arrive)
    env.run()
    order = [i for i, _ in state["started"]]
    assert order == sorted(order)  # FIFO: nobody overtakes a waiting call
    assert len(state["started"]) + len(state["refused"]) == len(calls)
    assert bulkhead.rejected == len(state["refused"])
    arrivals = dict(zip(range(len(calls)), _cumsum([g for g, _ in calls]), strict=True))
    for i, t_refused in state["refused"]:
        assert t_refused == pytest.approx(arrivals[i] + max_wait)


def _cumsum(values):
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out
