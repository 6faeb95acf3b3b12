"""Fault injection: turns the scenario's ``faults:`` into injectors (none until the schema has them)."""


def plan_faults(ctx, spec, components) -> list:
    """The injectors for ``spec``'s faults: each prepares its targets, wraps edges and starts."""
    return []
