"""Batch workloads (``pattern: batch``): items released at ``at``, ``every`` or on a ``schedule``,
all at once or chunk by chunk, each chunk after the previous one has ended plus ``pause``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simulator import run
from simulator.scenario import ScenarioError, load_scenario
from simulator.scenario.schema import BatchArrivalsSpec, WorkloadSpec


def batch_scenario(batch: dict, *, web: str | None = None, duration: str = "60s", app: dict | None = None,
                   client: dict | None = None) -> dict:
    """A ``job`` batch workload (and optionally poisson ``web`` traffic) on one service."""
    workload = [{"name": "job", "entry": "app", "arrivals": {"pattern": "batch", **batch},
                 "client": client or {"timeout": "10s"}}]
    if web is not None:
        workload.insert(0, {"name": "web", "entry": "app", "arrivals": {"pattern": "poisson", "rate": web},
                            "client": {"timeout": "2s"}})
    service = {"kind": "service", "name": "app", "replicas": 2, "workers": 4,
               "service_time": {"dist": "exponential", "mean": "10ms"}, **(app or {})}
    return {"name": "batch", "duration": duration, "warmup": "5s", "seed": 3, "workload": workload,
            "components": [service]}


def items(result, workload: str = "job") -> pd.DataFrame:
    """The workload's requests, in arrival (id) order."""
    requests = result.requests
    return requests[requests["workload"] == workload]


def chunks(job: pd.DataFrame) -> list[pd.DataFrame]:
    """The job's requests grouped by arrival instant (a chunk arrives at one instant)."""
    return [group for _, group in job.groupby("t_arrival", sort=True)]


# --- releases ---------------------------------------------------------------------------------------

def test_all_at_once_releases_every_item_at_at(make_scenario):
    """Without chunk, exactly `items` requests arrive, all at `at`, and the run's books balance."""
    result = run(make_scenario(batch_scenario({"items": 500, "at": "12.5s"})))
    job = items(result)
    assert len(job) == 500 and (job["t_arrival"] == 12.5).all()
    assert result.summary["offered"] == 500 and result.summary["ok"] == 500


def test_next_chunk_waits_for_every_item_of_the_previous_one_plus_pause(make_scenario):
    """Chunks of 100, 100 and 50; chunk k+1 arrives exactly `pause` after chunk k's last item ended."""
    result = run(make_scenario(batch_scenario({"items": 250, "at": "10s", "chunk": 100, "pause": "2s"})))
    groups = chunks(items(result))
    assert [len(g) for g in groups] == [100, 100, 50]
    assert groups[0]["t_arrival"].iloc[0] == 10.0
    for before, after in zip(groups, groups[1:], strict=False):
        assert after["t_arrival"].iloc[0] == pytest.approx(before["t_end"].max() + 2.0, abs=1e-9)


def test_batch_duration_is_release_to_the_last_items_end(make_scenario):
    """The summary's batch_duration is the run's span: release to the end of its last item."""
    result = run(make_scenario(batch_scenario({"items": 250, "at": "10s", "chunk": 100, "pause": "2s"})))
    job = items(result)
    assert result.summary["batch_duration.job"] == pytest.approx(job["t_end"].max() - 10.0)
    unfinished = run(make_scenario(batch_scenario({"items": 250, "at": "10s", "chunk": 100, "pause": "2s"},
                                                  duration="11s")))
    assert unfinished.summary["batch_duration.job"] is None


def test_chunk_end_counts_failed_and_retried_items(make_scenario):
    """A chunk ends when every item has its final outcome, retries included: one worker and no queue
    reject most of each chunk at once, the retries take their time, and the books still balance."""
    data = batch_scenario({"items": 60, "at": "5s", "chunk": 20, "pause": "500ms"}, duration="100s",
                          app={"replicas": 1, "workers": 1, "queue_limit": 0},
                          client={"timeout": "5s", "retry": {"max_attempts": 3, "backoff": "constant",
                                                             "base": "200ms", "jitter": "none"}})
    result = run(make_scenario(data))
    job = items(result)
    groups = chunks(job)
    assert [len(g) for g in groups] == [20, 20, 20]
    assert (job["attempts"] > 1).any() and (job["outcome"] == "rejected").any()
    assert not (job["outcome"] == "incomplete").any()
    for before, after in zip(groups, groups[1:], strict=False):
        assert after["t_arrival"].iloc[0] == pytest.approx(before["t_end"].max() + 0.5, abs=1e-9)
    s = result.summary
    assert s["offered"] == 60 == s["ok"] + s["rejected"]


def test_schedule_releases_one_run_per_time(make_scenario):
    """A schedule of three times releases `items` at each; the events mark each run's start and end."""
    result = run(make_scenario(batch_scenario({"items": 40, "schedule": ["10s", "20s", "45s"]})))
    assert items(result)["t_arrival"].value_counts().sort_index().to_dict() == {10.0: 40, 20.0: 40, 45.0: 40}
    events = result.events
    assert list(events[events.kind == "batch_start"].t) == [10.0, 20.0, 45.0]
    done = events[events.kind == "batch_done"]
    assert len(done) == 3 and done.detail.iloc[0].startswith("run 1: 40 items in ")


def test_every_repeats_until_the_end_of_the_run(make_scenario):
    """at 5s, every 10s in a 40 s run: runs at 5, 15, 25 and 35 s (no release at or after the end)."""
    result = run(make_scenario(batch_scenario({"items": 10, "at": "5s", "every": "10s"}, duration="40s")))
    assert sorted(set(items(result)["t_arrival"])) == [5.0, 15.0, 25.0, 35.0]
    assert len(items(result)) == 40


def test_overlapping_runs_proceed_side_by_side(make_scenario):
    """A run released while an earlier one is still going does not wait for it: both advance chunk by
    chunk, each chunk waiting for its own items only."""
    data = batch_scenario({"items": 30, "schedule": ["5s", "6s"], "chunk": 10, "pause": "2s"})
    result = run(make_scenario(data))
    job = items(result)
    assert len(job) == 60
    assert [len(g) for g in chunks(job)] == [10] * 6
    assert list(chunks(job)[1]["t_arrival"])[0] == 6.0  # the second run started while the first paused
    done = result.events[result.events.kind == "batch_done"]
    assert list(done.detail.str[:5]) == ["run 1", "run 2"]


def test_burst_on_a_batch_workload_does_not_count_as_chunk_items(make_scenario):
    """Requests injected by a burst fault belong to the workload but not to the job's chunks."""
    data = batch_scenario({"items": 30, "at": "5s", "chunk": 10, "pause": "1s"})
    data["faults"] = [{"kind": "burst", "name": "extra", "target": "job", "count": 7, "at": "5s"}]
    job = items(run(make_scenario(data)))
    assert len(job) == 37
    assert [len(g) for g in chunks(job)] == [17, 10, 10]  # the 7 extras arrive with the first chunk


# --- determinism and common random numbers -----------------------------------------------------------

def test_runs_are_deterministic_and_chunking_keeps_other_arrivals(make_scenario):
    """Identical reruns; chunking the job changes neither the web arrivals nor their work."""
    whole = make_scenario(batch_scenario({"items": 2000, "at": "20s"}, web="50/s"))
    chunked = make_scenario(batch_scenario({"items": 2000, "at": "20s", "chunk": 50, "pause": "1s"},
                                           web="50/s"))
    first, again = run(whole), run(whole)
    pd.testing.assert_frame_equal(first.requests, again.requests)
    web = items(first, "web")["t_arrival"].to_numpy()
    assert np.array_equal(web, items(run(chunked), "web")["t_arrival"].to_numpy())


# --- the claim ------------------------------------------------------------------------------------------

SHARED = {"replicas": 2, "workers": 4, "queue_limit": 200}
BATCH_CLIENT = {"timeout": "30s", "retry": {"max_attempts": 5, "base": "1s", "cap": "10s"}}


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_chunked_batch_keeps_interactive_p99_below_all_at_once(make_scenario, replication):
    """The same 3,000 items on an app serving 100 web requests/s: all at once they fill its queues
    and the web p99 jumps; in chunks of twice its workers it stays close to the run without a batch."""
    def web_p99(batch: dict | None) -> float:
        data = batch_scenario(batch or {"items": 1, "at": "59s"}, web="100/s", app=SHARED,
                              client=BATCH_CLIENT)
        return run(make_scenario(data), replication=replication).summary["latency_p99.web"]

    alone = web_p99(None)
    all_at_once = web_p99({"items": 3000, "at": "20s"})
    chunked = web_p99({"items": 3000, "at": "20s", "chunk": 16, "pause": "50ms"})
    assert chunked < all_at_once / 4
    assert chunked < 1.5 * alone < all_at_once


# --- the scenario library -------------------------------------------------------------------------------

def test_nightly_batch_scenario_has_the_four_variants():
    """The built-in nightly-batch scenario compares all at once, chunked, off-peak and an isolated pool."""
    scenario = load_scenario("nightly-batch")
    assert scenario.variant_names == ["all_at_once", "chunked", "off_peak", "isolated_pool"]
    assert scenario.spec.description and scenario.spec.expect
    assert scenario.resolve("chunked").workload[1].arrivals.chunk == 32
    assert scenario.resolve("isolated_pool").workload[1].entry == "batch-pool"


# --- the spec, from Python and YAML -------------------------------------------------------------------

def test_python_spec_and_release_times():
    """The spec can be built from Python; `releases` lists the runs that start before the end."""
    spec = BatchArrivalsSpec(items="20k", at="1h", every="6h")
    assert spec.items == 20_000 and spec.chunk is None and spec.pause == 0.0
    assert list(spec.releases(86400.0)) == [3600.0, 25200.0, 46800.0, 68400.0]
    assert list(BatchArrivalsSpec(items=5, schedule=[0, "2m"]).releases(100.0)) == [0.0]
    workload = WorkloadSpec(name="job", entry="app", arrivals=spec)
    assert not workload.is_open_loop


def test_yaml_batch_workload(tmp_path):
    """A batch workload written in YAML loads with its units parsed."""
    data = batch_scenario({"items": "2k", "at": "1m", "chunk": "500", "pause": "30s"}, duration="10m")
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    arrivals = load_scenario(path).spec.workload[0].arrivals
    assert (arrivals.items, arrivals.at, arrivals.chunk, arrivals.pause) == (2000, 60.0, 500, 30.0)


# --- bad input --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("batch", "extra", "expected"), [
    ({"items": 10, "schedule": ["10s", "30s", "2m"]}, {},
     "workload[0].arrivals.schedule[2]: release at 120s is beyond the run (60s)"),
    ({"items": 10, "at": "60s"}, {}, "workload[0].arrivals.at: release at 60s is beyond the run (60s)"),
    ({"items": 10, "at": "5s"}, {"profile": [{"at": "10s", "rate": "5/s"}]},
     "workload[0].profile: a profile needs open-loop arrivals (poisson or deterministic); a batch releases"),
    ({"items": 10, "at": "5s", "schedule": ["10s"]}, {},
     "workload[0].arrivals.schedule: give at (optionally with every) or schedule, not both"),
    ({"items": 10}, {}, "workload[0].arrivals: a batch needs a release time"),
    ({"items": 10, "at": "5s", "chunk": 0}, {}, "workload[0].arrivals.chunk: must be at least 1; got 0"),
    ({"items": 0, "at": "5s"}, {}, "workload[0].arrivals.items: must be at least 1; got 0"),
    ({"items": 10, "schedule": ["10s", "5s"]}, {},
     "workload[0].arrivals.schedule[1]: schedule must be increasing; 5s comes after 10s"),
    ({"items": 10, "at": "5s", "pause": "1s"}, {}, "workload[0].arrivals.pause: pause separates chunks"),
    ({"items": 10, "schedule": ["5s"], "every": "1m"}, {}, "workload[0].arrivals.every: every repeats at"),
])
def test_bad_batch_is_one_line_with_its_key_path(validate_one_line, batch, extra, expected):
    """`cascade validate` prints one line: the file, the line, the key path and the expectation; exit 2."""
    data = batch_scenario(batch)
    data["workload"][0].update(extra)
    line = validate_one_line(data)
    assert expected in line, line


def test_surge_on_a_batch_is_refused(make_scenario):
    """A surge multiplies a rate; a batch has none."""
    data = batch_scenario({"items": 10, "at": "5s"})
    data["faults"] = [{"kind": "surge", "name": "s", "target": "job", "factor": 2, "at": "10s", "for": "5s"}]
    with pytest.raises(ScenarioError) as info:
        make_scenario(data)
    assert "faults[0].target: a surge needs open-loop arrivals; 'job' is a batch" in str(info.value)
