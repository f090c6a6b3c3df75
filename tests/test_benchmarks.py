"""The benchmarks still run (their --quick smoke runs, on real MNIST): they print their tables, the scaling one
writes its figure, and the time-to-accuracy one's preset=fast reaches 98.0%. Speeds are never asserted."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _bench(script, *args):
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args], capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_time_to_accuracy_quick(mnist_dir):
    out = _bench("bench_time_to_accuracy.py", "--data", str(mnist_dir), "--quick")
    assert out.startswith("CPU ") and "mnist to 98.0% test accuracy" in out
    fast = next(line for line in out.splitlines() if line.startswith("  preset=fast"))  # the table's row
    assert "not reached" not in fast and re.search(r"\d+\.\d\dx sooner|\d+\.\dx sooner", fast), fast


def test_scaling_quick_writes_its_figure(mnist_dir, tmp_path):
    figure = tmp_path / "scaling.png"
    out = _bench("bench_scaling.py", "--data", str(mnist_dir), "--quick", "--out", str(figure))
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.count("DataLoader/mlplab") == 4


@pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="lightning (the [bench] extra) not installed")
def test_trainer_quick(mnist_dir):
    out = _bench("bench_trainer.py", "--data", str(mnist_dir), "--quick")
    assert out.count("PyTorch Lightning") == 2 and "fp32 compute floor" in out
    assert out.count("epochs run in lock-step") == 2  # the overhead line of each recipe


def test_own_data_quick(mnist_dir, tmp_path):
    out = _bench("bench_own_data.py", "--data", str(mnist_dir), "--quick", "--work", str(tmp_path))
    assert "folder: cached load" in out and "x the IDX path" in out and "the cache makes the second load" in out
