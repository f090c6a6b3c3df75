"""The example notebooks: stored without outputs, and each runs top to bottom without an error."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "examples").glob("*.ipynb"))


def test_there_are_notebooks():
    names = {p.name for p in NOTEBOOKS}
    assert {
        "01_quickstart.ipynb",
        "02_dreams.ipynb",
        "03_one_digit_classifier_and_gan.ipynb",
        "04_autoencoders.ipynb",
        "05_backprop_from_scratch.ipynb",
        "06_mlp_practical.ipynb",
    } <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_valid_and_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: a cell has outputs"
    assert sum('DATASET = "digits"' in c.source for c in nb.cells if c.cell_type == "code") == 1, (
        "one marked cell switches the dataset"
    )


def test_stored_notebooks_are_what_the_builder_writes(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_notebooks", REPO / "examples" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for built in module.build(tmp_path):
        assert built.read_text() == (REPO / "examples" / built.name).read_text(), (
            f"{built.name}: run python examples/build_notebooks.py"
        )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    # the kernel imports this checkout's mlplab, and writes its runs under the test's folder
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    assert any((tmp_path / "runs").rglob("report.html")), "the notebook made no run"
