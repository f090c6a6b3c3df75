"""Shared pieces of the sweep tests: one small classify grid on the embedded digits, run once locally."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# 2 dropout values x 3 seeds of a seconds-long classify run
GRID = ["hidden=[32]", "epochs=2", "dropout=0,0.1", "seed=0,1,2"]


class SweepFiles:
    """The grid and readers of a sweep folder's files (a fixture: importlib mode has no shared test modules)."""

    GRID = GRID

    @staticmethod
    def ledger(path: Path) -> list[dict]:
        return [json.loads(line) for line in (path / "trials.jsonl").read_text().splitlines() if line.strip()]

    @staticmethod
    def summary(path: Path) -> dict:
        return json.loads((path / "summary.json").read_text())

    @staticmethod
    def means(summary: dict, name: str = "test_accuracy") -> dict[str, float]:
        return {json.dumps(e["point"]): e["metrics"][name]["mean"] for e in summary["points"]}


@pytest.fixture(scope="session")
def sw() -> type[SweepFiles]:
    return SweepFiles


@pytest.fixture(scope="session")
def local_sweep(tmp_path_factory) -> Path:
    """The GRID run by the local engine with 2 workers; its sweep folder."""
    from mlplab.sweeps import sweep

    out = tmp_path_factory.mktemp("local") / "sweep"
    result = sweep("classify", GRID, engine="local", workers=2, out=out)
    assert result.ran == 6 and result.failed == 0
    return out
