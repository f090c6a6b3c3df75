"""dreams on real MNIST and Fashion-MNIST with a small, quickly trained MLP: the targets of the issue."""

from __future__ import annotations

import json

import numpy as np
import pytest

QUICK = ("hidden=[256]", "epochs=1", "cache_dir=cache")


@pytest.mark.slow
def test_mnist_dreams_reach_the_target_and_hybrids_the_mixture(cli, tmp_path, mnist_dir, check_run_folder):
    data = ("dataset=mnist", f"data_dir={mnist_dir}", *QUICK)
    code, _, err = cli("run", "dreams", *data, "task=dreams", "--out", "d")
    assert code == 0, err
    m = check_run_folder(tmp_path / "d")
    assert m["classifier_test_accuracy"] >= 0.95 and m["model_source"] == "trained"
    assert m["dreams_reached_target"] and m["dreams_min_confidence"] >= 0.99 and m["dreams_steps"] < 500
    code, _, err = cli("run", "dreams", *data, "task=hybrids", "hybrid=3:0.3,5:0.5,8:0.2", "--out", "h")
    assert code == 0, err
    h = json.loads((tmp_path / "h" / "metrics.json").read_text())
    assert h["model_source"] == "cached" and h["weights_unchanged"] and "epoch" not in err
    assert h["hybrid_pairs"] == 45 and h["hybrid_pairs_within_tolerance"] == 45
    assert h["hybrid_max_deviation"] <= 0.02
    a = np.load(tmp_path / "h" / "arrays" / "hybrids.npz")
    assert np.abs(a["probs"] - a["target"]).max() == pytest.approx(h["hybrid_max_deviation"], abs=1e-6)
    assert np.allclose(a["target"][-1][[3, 5, 8]], [0.3, 0.5, 0.2])
    assert h["hybrid_custom"]["max_deviation"] <= 0.02


@pytest.mark.slow
def test_fashion_mnist_dreams(cli, tmp_path, fashion_dir, check_run_folder):
    code, _, err = cli(
        "run", "dreams", "dataset=fashion-mnist", f"data_dir={fashion_dir}", *QUICK, "task=dreams", "--out", "f"
    )
    assert code == 0, err
    m = check_run_folder(tmp_path / "f")
    assert m["dreams_reached_target"] and list(m["dreams_confidence"])[0] == "T-shirt/top"


@pytest.mark.slow
def test_mnist_robust_dreams_are_recognised_by_the_judge(cli, tmp_path, mnist_dir, check_run_folder):
    """The going-further target on a quick MLP: the CNN judge recognises ≥ 8 of 10 robust dreams."""
    code, _, err = cli(
        "run",
        "dreams",
        "dataset=mnist",
        f"data_dir={mnist_dir}",
        *QUICK,
        "task=robust",
        "ensemble=1",
        "judge_epochs=1",
        "--out",
        "r",
    )
    assert code == 0, err
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["judge_test_accuracy"] >= 0.97 and m["weights_unchanged"]
    assert m["judge_recognised_robust"] >= 8, m["judge_p_robust"]
    assert m["judge_recognised_robust"] > m["judge_recognised_plain"]
