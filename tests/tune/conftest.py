"""Shared pieces of the tuning tests: one small classify study on the embedded digits, run once, and readers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("optuna", reason="the tune extra is not installed: pip install 'mlplab[tune]'")

# a wide learning-rate range, so that some trials are poor and the median pruner stops them
SPACE = ["lr=loguniform(1e-4,0.3)", "hidden=choice([16],[32])", "dropout=uniform(0,0.5)", "epochs=3", "knn_k=3"]
TRIALS, SEEDS = 7, 2


@pytest.fixture(scope="session")
def study_dir(tmp_path_factory) -> Path:
    """SPACE searched for TRIALS trials (median pruner, SQLite), then confirmed on SEEDS fresh seeds."""
    from mlplab.tune.runner import tune

    out = tmp_path_factory.mktemp("tune") / "study"
    tune("classify", SPACE, trials=TRIALS, confirm_seeds=SEEDS, out=out)
    return out


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="session")
def files():
    class Files:
        read = staticmethod(read_json)
        SPACE, TRIALS, SEEDS = SPACE, TRIALS, SEEDS

    return Files
