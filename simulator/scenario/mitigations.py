"""Mitigation specs: the ``mitigations:`` list (defences and capacity controls).

Every mitigation has a ``kind``, a ``name`` (events, counters ``<counter>.<name>``, random
streams), a ``target`` (a component, a workload, or a call edge written ``caller->callee``) and
``enabled`` (default true), so a variant switches one off with ``mitigations.<name>.enabled:
false`` or tunes it with ``mitigations.<name>.<key>: value``. A disabled mitigation is not built
at all: it costs nothing per request.

The kinds live in two modules by family: request-level defences in
:mod:`simulator.scenario.defences` and capacity and change in :mod:`simulator.scenario.capacity`;
this module assembles them into one discriminated union.
"""

from __future__ import annotations

from typing import Annotated, Union

from pydantic import Field

from simulator.scenario.capacity import CAPACITY_SPECS
from simulator.scenario.defences import DEFENCE_SPECS

ALL_SPECS = (*DEFENCE_SPECS, *CAPACITY_SPECS)

MitigationSpec = Annotated[Union[ALL_SPECS], Field(discriminator="kind")]  # noqa: UP007
"""Any mitigation, chosen by ``kind``."""
