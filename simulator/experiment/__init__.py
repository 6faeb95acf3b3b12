"""Experiments over many runs: paired comparisons, sweeps, the ``expect:`` CI gate, ranking, reports.

One run of a stochastic model proves nothing; these functions run replications (on this machine,
a process pool or a dask cluster), keep every finished run on disk so an interrupted experiment
resumes, and turn the runs into estimates with confidence intervals::

    from simulator import compare, sweep, check
    result = compare("three-tier-viral-spike", replications=10)
    result.table          # per metric and variant: mean, interval, paired diff vs baseline, verdict
    sweep("scenarios/x.yaml", ["workload.feed.arrivals.rate=100:500:100"]).table
    check(["scenarios/x.yaml"]).passed

The command line (``cascade compare | sweep | check | report``) only prints and saves these.
"""

from simulator.experiment.check import CheckReport, check
from simulator.experiment.compare import Comparison, compare
from simulator.experiment.errors import ExperimentError, Interrupted
from simulator.experiment.sweep import SweepResult, sweep

__all__ = ["CheckReport", "Comparison", "ExperimentError", "Interrupted", "SweepResult", "check", "compare",
           "sweep"]
