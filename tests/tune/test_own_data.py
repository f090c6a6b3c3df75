"""A tuning study on the user's own data: `mlplab tune classify dataset=npz:PATH ...` as on a named dataset; its
trials and confirmation runs read the same file, and the study names the source."""

from __future__ import annotations

import json

import numpy as np


def test_tune_on_an_npz_of_ones_own(cli, tmp_path):
    rng = np.random.default_rng(0)
    y_train, y_test = rng.integers(0, 3, 240), rng.integers(0, 3, 90)
    # three classes told apart by brightness: a tiny MLP learns them in a few epochs
    x_train = (rng.integers(0, 60, (240, 8, 8)) + 80 * y_train[:, None, None]).astype(np.uint8)
    x_test = (rng.integers(0, 60, (90, 8, 8)) + 80 * y_test[:, None, None]).astype(np.uint8)
    data = tmp_path / "shapes.npz"
    np.savez(data, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test, classes=["dim", "mid", "bright"])
    out = tmp_path / "study"
    code, _, err = cli(
        "tune", "classify", "lr=loguniform(1e-3,1e-1)", "hidden=choice([8],[16])", f"dataset=npz:{data}",
        "epochs=3", "knn_k=3", "--trials", "3", "--confirm-seeds", "2", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    study = json.loads((out / "study.json").read_text())
    assert f"dataset=npz:{data}" in study["fixed"] and len(study["trials"]) == 3
    for arm in ("best", "defaults"):
        run = study["confirmation"]["arms"][arm]["runs"][0]
        config = (out / run / "config.yaml").read_text()
        assert f"dataset: npz:{data}" in config
        metrics = json.loads((out / run / "metrics.json").read_text())
        assert metrics["test_accuracy"] > 0.5  # learnt from the file's own classes (chance: 1/3)
    trial = out / "trials" / f"{study['trials'][0]['trial']:04d}"
    classes = [line.split(",")[0] for line in (trial / "tables" / "per_class.csv").read_text().splitlines()[1:]]
    assert classes == ["dim", "mid", "bright"]  # the file's class names in the trial's tables
