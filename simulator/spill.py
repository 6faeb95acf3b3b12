"""Per-request columns kept on disk instead of in memory, for runs too long to hold.

A long run's recorder hands its per-request records over in chunks (see
:mod:`simulator.recorder`); they are appended here to one raw file per column, so memory holds
one chunk whatever the run's length, and the end-of-run analyses read them back a chunk at a
time. Raw fixed-width files rather than Parquet because a request that was still in flight
when its chunk was written is *patched in place* once it ends, and because any row range is
one ``seek`` away (a window of completions, a row group of ``requests.parquet``).

The files live in a private temporary folder removed when the store is garbage collected (or at
exit): they are scratch, the run's outputs are written elsewhere by :mod:`simulator.results`.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

READ_CHUNK = 1 << 20
"""Rows read together by :meth:`ColumnSpill.chunks`: bounded temporaries, vectorised work."""


class ColumnSpill:
    """Equal-length columns of fixed dtypes, appended chunk by chunk to raw files."""

    def __init__(self, dtypes: dict[str, str], directory: Path | None = None, prefix: str = "rows"):
        self.dtypes = {name: np.dtype(dtype) for name, dtype in dtypes.items()}
        if directory is None:
            directory = Path(tempfile.mkdtemp(prefix="cascade-spill-"))
            weakref.finalize(self, shutil.rmtree, str(directory), True)
        self.directory = directory
        self._paths = {name: directory / f"{prefix}.{name}" for name in self.dtypes}
        for path in self._paths.values():
            path.touch()
        self.rows = 0

    def __len__(self) -> int:
        return self.rows

    def append(self, columns: dict[str, np.ndarray]) -> None:
        """Add rows at the end (every column, the same number of rows)."""
        counts = {len(values) for values in columns.values()}
        if len(counts) != 1 or set(columns) != set(self.dtypes):
            raise ValueError(f"append needs every column with equal lengths; got {sorted(columns)}")
        for name, values in columns.items():
            with open(self._paths[name], "ab") as f:
                np.ascontiguousarray(values, dtype=self.dtypes[name]).tofile(f)
        self.rows += counts.pop()

    def patch(self, name: str, rows: np.ndarray, values: np.ndarray) -> None:
        """Overwrite single rows of one column in place (rare: requests that ended late)."""
        dtype = self.dtypes[name]
        with open(self._paths[name], "r+b") as f:
            for row, value in zip(rows.tolist(), np.asarray(values, dtype=dtype), strict=True):
                f.seek(int(row) * dtype.itemsize)
                f.write(value.tobytes())

    def read(self, names: Sequence[str], start: int, stop: int) -> dict[str, np.ndarray]:
        """Rows [start, stop) of the named columns, as fresh arrays."""
        start, stop = max(0, start), min(stop, self.rows)
        count = max(0, stop - start)
        out = {}
        for name in names:
            dtype = self.dtypes[name]
            with open(self._paths[name], "rb") as f:
                f.seek(start * dtype.itemsize)
                out[name] = np.fromfile(f, dtype=dtype, count=count)
        return out

    def chunks(self, names: Sequence[str],
               size: int = READ_CHUNK) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
        """(first row, columns) for consecutive slices of at most ``size`` rows, in row order."""
        for start in range(0, self.rows, size):
            yield start, self.read(names, start, start + size)
