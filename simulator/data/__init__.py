"""The keyed, versioned data model: what a request reads or writes, and whether its answer was right.

Values are version numbers and nothing else: a write creates version ``n + 1`` of a key at the
database that owns it, a read returns the version some component held. That is all it takes to
count stale reads, lost writes and lost updates (docs/consistency.md states the model).

- :mod:`simulator.data.ops`: a request's operation (read, write, read-modify-write) and key,
  drawn at arrival from the workload's own streams.
- :mod:`simulator.data.ledger`: a database's committed history, the reference every read is
  checked against.
- :mod:`simulator.data.books`: the per-component counts (stale reads, staleness, lost writes...)
  that become summary metrics.

Nothing here runs unless a workload declares ``operations``: the plain hot path is untouched.
"""
