"""``kind: queue`` — a message broker between a producer and one consumer service.

The producer's call ends as soon as the broker holds the message; the consumer gets it later,
at most ``concurrency`` deliveries at a time, and a failed delivery is retried after
``redelivery_delay`` until ``max_deliveries``, then dead-lettered. Whether ``consumer`` names a
service is checked once the whole scenario is known (:func:`queue_problems`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import Field

from simulator.scenario.base import Loc, Name, PositiveInt, SpecModel
from simulator.units import Count, Duration


class QueueSpec(SpecModel):
    """A message queue (SQS, RabbitMQ): accepts work at once, delivers it to ``consumer`` later."""

    kind: Literal["queue"] = "queue"
    name: Name
    """Component name."""
    capacity: Annotated[Count, Field(ge=1)]
    """Messages held waiting (not in flight); a producer's call beyond it is ``rejected``."""
    consumer: str
    """Name of the service each message is delivered to."""
    concurrency: PositiveInt
    """Deliveries in flight at once."""
    max_deliveries: PositiveInt = 3
    """Failed deliveries after which a message is dead-lettered."""
    redelivery_delay: Duration = 1.0
    """Wait after a failed delivery before the message is delivered again, seconds."""
    region: Name | None = None
    """Region the component runs in (for region outages and global routing)."""


def queue_problems(components: Sequence[Any], by_name: dict[str, Any]) -> list[tuple[Loc, str]]:
    """A queue's consumer must be a service (a database or cache does not pull messages)."""
    problems: list[tuple[Loc, str]] = []
    for index, component in enumerate(components):
        if not isinstance(component, QueueSpec):
            continue
        target = by_name.get(component.consumer)
        if target is not None and target.kind != "service":
            problems.append((("components", index, "consumer"),
                             f"expected a service; '{target.name}' is a {target.kind}"))
    return problems
