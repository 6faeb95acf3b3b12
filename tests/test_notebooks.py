"""Every notebook under notebooks/ executes top to bottom without error and shows its plots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    """The notebook runs in a fresh kernel from the notebooks/ directory, and every cell that
    plots shows an image (not ``<Figure size 900x380 with 1 Axes>``)."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    plot_cells = [c for c in notebook.cells if c.cell_type == "code" and "plots.plot_" in c.source]
    for cell in plot_cells:
        kinds = [kind for output in cell.outputs for kind in output.get("data", {})]
        assert "image/png" in kinds, f"no image from: {cell.source!r} (outputs: {kinds})"
