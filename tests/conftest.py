"""Shared fixtures. Real MNIST / Fashion-MNIST come from $MLPLAB_TEST_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def real_data_dir() -> Path | None:
    """The folder with real datasets in torchvision's layout, or None when absent."""
    setting = os.environ.get("MLPLAB_TEST_DATA")
    path = Path(setting) if setting else REPO.parent / "shared" / "data"
    return path if (path / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file() else None


@pytest.fixture
def mnist_dir() -> Path:
    """Skip (with the reason) where real MNIST is not available."""
    path = real_data_dir()
    if path is None:
        pytest.skip("real MNIST not found: set MLPLAB_TEST_DATA to a folder holding MNIST/raw (CI uses ../shared/data)")
    return path


@pytest.fixture
def fashion_dir(mnist_dir: Path) -> Path:
    if not (mnist_dir / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.skip("real Fashion-MNIST not found under $MLPLAB_TEST_DATA/FashionMNIST/raw")
    return mnist_dir


@pytest.fixture
def cli(tmp_path, capsys):
    """Run `mlplab ARGS...` in-process; return (exit code, stdout, stderr)."""
    from mlplab.cli import main

    def call(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Runs land under the test's own temporary folder, never in the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLPLAB_DATA", raising=False)


@pytest.fixture
def interrupt_after(monkeypatch):
    """interrupt_after(model, epoch): every Trainer made from now on raises KeyboardInterrupt (as Ctrl-C would)
    right after the named model's epoch was checkpointed; calling the returned function undoes it."""
    from mlplab.train import Trainer

    original = Trainer.__init__

    def install(model: str, epoch: int):
        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)

            def interrupt(trainer, row):
                if trainer.name == model and row["epoch"] == epoch:
                    raise KeyboardInterrupt

            self.callbacks.append(interrupt)

        monkeypatch.setattr(Trainer, "__init__", init)
        return lambda: monkeypatch.setattr(Trainer, "__init__", original)

    return install
