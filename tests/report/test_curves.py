"""The one per-model curve helper (report/draw/curves.py): each model's rows of a key, a group's mean over its
models (the seeds of a setting), its min-max band, and the per-model figure of the autoencoder runs."""

from __future__ import annotations

import numpy as np
import pytest

from mlplab.report.draw.curves import mean_curves, model_curves, plot_curves
from mlplab.report.draw.plots import new_figure

VALUES = {"a-seed0": [0.5, 0.6, 0.7], "a-seed1": [0.3, 0.5, 0.9], "b-seed0": [0.2, 0.4, 0.8]}


def history() -> list[dict]:
    rows = [
        {"model": m, "epoch": e + 1, "train_loss": 1.0 / (e + 1), "val_accuracy": v}
        for m, values in VALUES.items()
        for e, v in enumerate(values)
    ]
    rows += [{"model": "a-seed0", "test_accuracy": 0.9}, {"epoch": 1, "val_accuracy": 0.1}]  # no key; no model
    return rows


def test_mean_curves_takes_each_models_rows_of_the_key():
    found = mean_curves(history(), "val_accuracy", {"a": ["a-seed0", "a-seed1"], "b": ["b-seed0"], "c": ["c"]})
    assert list(found) == ["a", "b"]  # c has no rows: left out
    epochs, values = found["a"]
    assert epochs == [1, 2, 3] and values.tolist() == [VALUES["a-seed0"], VALUES["a-seed1"]]
    assert mean_curves(history(), "val_accuracy", {"": [""]})[""][1].tolist() == [[0.1]]  # the rows without a model


def test_plot_curves_draws_the_mean_and_the_band_of_a_group_of_several():
    found = mean_curves(history(), "val_accuracy", {"a": ["a-seed0", "a-seed1"], "b": ["b-seed0"]})
    ax = new_figure().add_subplot()
    plot_curves(ax, found, marker="o", ms=3, labels={"a": "a (2 seeds)"}, colors={"b": "red"}, band=True)
    a, b = ax.get_lines()
    assert a.get_label() == "a (2 seeds)" and b.get_label() == "b" and b.get_color() == "red"
    assert a.get_ydata() == pytest.approx(np.mean([VALUES["a-seed0"], VALUES["a-seed1"]], 0))
    assert a.get_marker() == "o" and a.get_markersize() == 3 and list(b.get_xdata()) == [1, 2, 3]
    (band,) = ax.collections  # only the group of two seeds has one
    low, high = band.get_paths()[0].vertices[:, 1].min(), band.get_paths()[0].vertices[:, 1].max()
    assert (low, high) == pytest.approx((0.3, 0.9))


def test_model_curves_draws_one_curve_per_model_or_nothing(tmp_path):
    assert model_curves(history(), "nothing", "t", tmp_path / "none.png", "y") is None
    assert not (tmp_path / "none.png").exists()
    path = model_curves(history(), "train_loss", "t", tmp_path / "loss.png", "loss")
    assert path.is_file() and path.stat().st_size > 1000
