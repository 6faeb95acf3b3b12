"""Fault injection: the scenario's ``faults:`` list becomes injectors (one per fault).

Each kind lives with its relatives: replica faults (crash, hang, pause, slow, errors, capacity)
in ``replica``, network faults (partition, packet loss) in ``network``, data and place faults
(cache flush, primary failure, region outage) in ``data``, traffic faults (surge, burst, traffic drop) in
``traffic``. Exact semantics per kind are in each module's docstring and in ``docs/faults.md``.
"""

from __future__ import annotations

from simulator.faults.base import Injector
from simulator.faults.data import CacheFlush, DbPrimaryFailure, RegionOutage
from simulator.faults.network import PacketLoss, Partition
from simulator.faults.replica import Capacity, Crash, Errors, Hang, Pause, Slow
from simulator.faults.traffic import Burst, Surge, TrafficDrop

INJECTORS = {
    "crash": Crash, "hang": Hang, "pause": Pause, "slow": Slow, "errors": Errors, "capacity": Capacity,
    "partition": Partition, "packet_loss": PacketLoss, "cache_flush": CacheFlush,
    "db_primary_failure": DbPrimaryFailure, "surge": Surge, "burst": Burst,
    "traffic_drop": TrafficDrop,
}

__all__ = ["INJECTORS", "Injector", "plan_faults"]


def plan_faults(ctx, spec, components) -> list[Injector]:
    """One injector per fault of ``spec``, in file order."""
    injectors = []
    for fault in spec.faults:
        if fault.kind == "region_outage":
            names = [c.name for c in spec.components if c.region == fault.region]
            injectors.append(RegionOutage(ctx, fault, names))
        else:
            injectors.append(INJECTORS[fault.kind](ctx, fault))
    return injectors
