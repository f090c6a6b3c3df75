"""`gan` on real MNIST: the metrics' check on real images, a collapsed generator flagged, a short run learns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlplab.analysis import gan_quality as gq
from mlplab.data import load_dataset
from mlplab.train import load_model


@pytest.mark.slow
def test_a_short_mnist_run_raises_the_decent_fraction_and_the_metrics_check_out(cli, tmp_path, mnist_dir):
    code, _, err = cli(
        "run",
        "gan",
        "dataset=mnist",
        f"data_dir={mnist_dir}",
        "digit=2",
        "n=800",
        "eval_every=400",
        "judge_epochs=1",
        "cache_dir=cache",
        "--out",
        "m",
    )
    assert code == 0, err
    m = json.loads((tmp_path / "m" / "metrics.json").read_text())
    # one half of the real test 2s against the other: what a perfect generator scores
    assert m["real_decent_fraction"] >= 0.9 and 0.8 <= m["real_recall"] <= 1.0 and m["real_fd_ratio"] == 1.0
    # an untrained generator makes gray noise; 800 steps (about a minute on a free CPU) make 2s
    assert m["initial_decent_fraction"] <= 0.02
    assert m["decent_fraction"] >= 0.3 and m["fd_ratio"] < m["initial_fd_ratio"] / 2

    # a generator collapsed onto one real 2, after a healthy evaluation (the other real half), is flagged
    judge = load_model(Path(m["judge_path"]) / "checkpoints" / "best.pt")
    ds = load_dataset("mnist", data_dir=mnist_dir, normalization="minus_one_one")
    test = ds.test.x[ds.test.y == 2]
    ref = gq.Reference.of(judge, test, 2)
    constant, hist = gq.evaluate(judge, ref, test[:1].repeat(600, 1, 1, 1))
    assert constant["recall"] < 0.05 and constant["coverage"] < 0.05 and hist.max() == 600
    rows = [{"step": 100, **ref.real_scores()}, {"step": 200, **constant}]
    assert gq.collapse_flags(rows, gq.CollapseRule()) == [False, True]
    assert gq.first_collapse(rows, gq.CollapseRule()) == 200
