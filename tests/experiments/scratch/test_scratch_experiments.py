"""The scratch experiments end to end: gradcheck's pass marks, the moons target and depth study, moons data,
and scratch-mnist on real MNIST."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from mlplab.data import load_dataset
from mlplab.runs import Run


def metrics(run) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_moons_data_is_scaled_by_training_statistics_only():
    ds = load_dataset("moons", normalization="minus_one_one")
    x_train, x_test = ds.train.x.numpy(), ds.test.x.numpy()
    assert len(x_train) == 8000 and len(x_test) == 2000 and len(ds.val) == 0
    np.testing.assert_allclose(x_train.min(0), -1.0, atol=1e-6)
    np.testing.assert_allclose(x_train.max(0), 1.0, atol=1e-6)
    # the test set has its own random state, so its range differs from [-1, 1] slightly (train stats only)
    assert not np.allclose(x_test.min(0), -1.0, atol=1e-4) or not np.allclose(x_test.max(0), 1.0, atol=1e-4)
    from sklearn.datasets import make_moons

    raw_train, _ = make_moons(8000, noise=0.08, random_state=0)
    raw_test, _ = make_moons(2000, noise=0.08, random_state=1)
    lo, hi = raw_train.min(0), raw_train.max(0)
    np.testing.assert_allclose(x_test, 2 * (raw_test - lo) / (hi - lo) - 1, atol=1e-5)


def test_gradcheck_meets_its_pass_marks_and_reports_the_table(cli, tmp_path, scratch_kinds):
    code, out, err = cli("run", "gradcheck", "--out", "g")
    assert code == 0, err
    m = metrics(tmp_path / "g")
    assert m["max_rel_error_autograd"] <= 1e-7 and m["twin_max_rel_diff"] <= 1e-6 and m["twin_steps"] == 200
    assert m["max_rel_error_finite_diff"] <= 1e-5 and m["passed"] is True
    with open(tmp_path / "g" / "tables" / "gradient_check.csv") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["component"] for r in rows]
    for kind in (k for k in scratch_kinds if k != "MLP"):  # each layer and loss by name; the MLPs below
        assert kind in names
    assert sum(n.startswith("MLP") for n in names) == 4
    assert max(float(r["max_rel_error_autograd"]) for r in rows) == pytest.approx(m["max_rel_error_autograd"])
    html = (tmp_path / "g" / "report.html").read_text()
    assert "SoftmaxCrossEntropy" in html and "max_rel_error_finite_diff" in html
    twin = np.load(tmp_path / "g" / "arrays" / "twin_run.npz")
    assert len(twin["scratch_loss"]) == 200
    assert {"gradient_errors.png", "twin_run.png"} <= {p.name for p in (tmp_path / "g" / "figures").iterdir()}


def test_moons_reaches_its_target_and_the_depth_study_has_both_outcomes(cli, tmp_path):
    code, out, err = cli("run", "moons", "--out", "m")
    assert code == 0, err
    run = tmp_path / "m"
    m = metrics(run)
    assert m["test_accuracy"] >= 0.995 and m["steps"] == 10 * 250
    assert m["deep_normal_diverged"] is True and m["deep_normal_test_accuracy"] is None
    assert 1 <= m["deep_normal_diverged_at_step"] <= 50 and m["deep_normal_diverged_layer"]
    assert m["deep_he_diverged"] is False and m["deep_he_test_accuracy"] >= 0.995
    d = np.load(run / "arrays" / "depth_study.npz")
    assert len(d["deep_normal_loss"]) == m["deep_normal_diverged_at_step"]
    assert len(d["layers"]) == 2 * 8 + 1 and d["deep_he_act_rms"].shape == (2500, 17)
    # why: at step 1 the standard-normal network's activations grow layer by layer; He keeps them level
    normal_fc = d["deep_normal_act_rms"][0][::2][:8]
    he_fc = d["deep_he_act_rms"][0][::2][:8]
    assert normal_fc[-1] > 1e3 * normal_fc[0] and he_fc[-1] < 10 * he_fc[0]
    assert not np.isfinite(d["deep_normal_act_rms"][-1]).all()
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows if "test_loss" in r] == list(range(1, 11))
    assert [r["epoch"] for r in rows if "deep_he_test_loss" in r] == list(range(1, 11))
    figures = {p.name for p in (run / "figures").iterdir()}
    assert {"loss_curves.png", "decision_boundary.png", "depth_loss.png", "depth_norms.png"} <= figures
    from mlplab.report import findings_for

    assert any(f"step {m['deep_normal_diverged_at_step']}" in f.text for f in findings_for(Run.open(run)))


def test_same_seed_same_numbers(cli, tmp_path):
    results = []
    for name in ("a", "b"):
        code, _, err = cli("run", "--no-report", "scratch-mnist", "epochs=1", "hidden=[32]", "--out", name)
        assert code == 0, err
        results.append(metrics(tmp_path / name))
    keys = ("test_accuracy", "test_loss", "train_loss")
    assert [results[0][k] for k in keys] == [results[1][k] for k in keys]


@pytest.mark.slow
def test_scratch_mnist_reaches_97_percent_in_3_epochs(cli, tmp_path, mnist_dir):
    code, out, err = cli("run", "scratch-mnist", "dataset=mnist", f"data_dir={mnist_dir}", "--out", "o")
    assert code == 0, err
    m = metrics(tmp_path / "o")
    assert m["epochs_run"] <= 3 and m["test_accuracy"] >= 0.97
    assert m["parameters"] >= 784 * 100 + 100 + 100 * 10 + 10


def test_gradcheck_interrupted_after_its_second_case_resumes_to_the_same_numbers(cli, trained, tmp_path, monkeypatch):
    """Each finished case (and the twin run) is kept in checkpoints/gradcheck-last.pt: a resume skips them and reaches
    the uninterrupted run's metrics.json, metrics.jsonl and table (issue 11, item 6)."""
    from mlplab.experiments.scratch import gradcheck

    argv = ["gradcheck", "twin_steps=5", "hidden=[4]"]
    whole = Run.open(trained(*argv))  # the uninterrupted run
    original, calls = gradcheck.check_case, []

    def check_two(case, h):
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C after the 2nd case
        calls.append(case.name)
        return original(case, h)

    monkeypatch.setattr(gradcheck, "check_case", check_two)
    code, _, err = cli("run", *argv, "--out", "cut")
    assert code == 130 and "--resume" in err and "checkpoint is kept" in err, err
    monkeypatch.setattr(gradcheck, "check_case", lambda case, h: calls.append(case.name) or original(case, h))
    code, _, err = cli("run", "--no-report", "gradcheck", "--resume", "cut")
    assert code == 0, err
    assert calls[:2] == ["Linear", "ReLU"] and "Linear" not in calls[2:] and "ReLU" not in calls[2:]
    cut = Run.open(tmp_path / "cut")
    assert cut.metrics == whole.metrics and cut.history == whole.history
    assert cut.load_table("gradient_check") == whole.load_table("gradient_check")
