"""Every notebook under notebooks/ and notebooks/reproductions/ runs without error and shows its plots."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

_ROOT = Path(__file__).parent.parent / "notebooks"
NOTEBOOKS = sorted(_ROOT.glob("*.ipynb")) + sorted((_ROOT / "reproductions").glob("*.ipynb"))
"""The topic notebooks and the gallery of reproductions (each asserts its published numbers)."""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path):
    """The notebook runs in a fresh kernel from the notebooks/ directory, shows at least one image,
    has no error output, and every cell that plots shows an image (not
    ``<Figure size 900x380 with 1 Axes>``)."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    code_cells = [c for c in notebook.cells if c.cell_type == "code"]
    errors = [c.source for c in code_cells for output in c.outputs if output.output_type == "error"]
    assert not errors, f"error output from: {errors[0]!r}"
    images = [output for c in code_cells for output in c.outputs if "image/png" in output.get("data", {})]
    assert images, f"{path.name} shows no image"
    for cell in (c for c in code_cells if "plots.plot_" in c.source or "plots_compare.plot_" in c.source):
        kinds = [kind for output in cell.outputs for kind in output.get("data", {})]
        assert "image/png" in kinds, f"no image from: {cell.source!r} (outputs: {kinds})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_committed_without_outputs(path):
    """Notebooks are committed clean: no stored outputs or execution counts (they are produced by
    running, and stored ones drift from the code)."""
    notebook = nbformat.read(path, as_version=4)
    stored = [c.source[:60] for c in notebook.cells
              if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not stored, f"{path.name} has stored outputs in: {stored}"
