"""mlplab.sweep from Python: the same grid as the command (it resumes the command's sweep), bad input as ConfigError."""

from __future__ import annotations

import csv
import re
import shutil

import numpy as np
import pytest

import mlplab


def test_python_sweep_is_the_commands_sweep(local_sweep, sw):
    # the conftest's GRID, written as Python values: same trials, so everything is already finished
    before = sw.ledger(local_sweep)
    result = mlplab.sweep(
        "classify", grid={"hidden": [[32]], "epochs": [2], "dropout": [0, 0.1]}, seeds=3, out=local_sweep
    )
    assert sw.ledger(local_sweep) == before, "no trial may run again"
    with open(local_sweep / "summary.csv", newline="") as fh:
        csv_rows = list(csv.DictReader(fh))
    assert len(result.rows) == len(csv_rows) == 2
    for row, text in zip(result.rows, csv_rows, strict=True):
        assert row["test_accuracy_mean"] == float(text["test_accuracy_mean"]) and row["n_seeds"] == 3
    assert "<table>" in result._repr_html_() and result.report.is_file()


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"grid": {"lr": []}}, "non-empty list"),
        ({"grid": {"seed": [0, 1]}}, "seeds=N"),
        ({"seeds": 0}, "at least 1"),
        ({"grid": {"no_such_key": [1, 2]}}, "unknown config key 'no_such_key'"),
        ({"grid": {"lr": [-1.0]}}, "'lr'"),
        # issue 23: values compared after parsing, every wrong type a ConfigError, numpy taken
        ({"grid": {"lr": [0.5, "5e-1"]}}, "'0.5' and '5e-1' both read as 0.5"),
        ({"grid": {"dropout": [0, 0.0]}}, "both read as 0.0"),
        ({"seeds": [0, 0]}, "key 'seed' lists a value twice"),
        ({"seeds": np.array([1, 1])}, "key 'seed' lists a value twice"),
        ({"seeds": []}, "lists no seed"),
        ({"seeds": np.int64(0)}, "at least 1"),
        ({"grid": ["lr"]}, "grid must be a dict"),
        ({"grid": {1: [2]}}, "grid keys are config key names"),
        ({"grid": {"lr": np.float64(0.1)}}, "non-empty list"),
        ({"grid": {"dropout": [object()]}}, "is not a number, text"),
        ({"grid": {"hidden": [[16, float("nan")]]}}, "must hold finite numbers, texts or lists of them"),
        ({"grid": {"hidden": [np.array([16, -1])]}}, "'hidden': -1 in [16, -1] is out of range"),
    ],
)
def test_python_sweep_bad_input_raises_config_error_before_any_trial(kwargs, fragment, tmp_path):
    with pytest.raises(mlplab.ConfigError, match=re.escape(fragment)):
        mlplab.sweep("classify", out=tmp_path / "s", **kwargs)
    assert not (tmp_path / "s" / "trials").exists()


def test_a_python_text_value_is_never_split(tmp_path):
    # `;` separates values on the command line only: here it is part of the text, which the config refuses
    with pytest.raises(mlplab.ConfigError, match=r"'activation': 'relu;tanh' is not one of"):
        mlplab.sweep(
            "classify", grid={"activation": ["relu;tanh"], "hidden": [[8]], "epochs": [1]}, seeds=1, out=tmp_path / "s"
        )
    assert not (tmp_path / "s").exists()


def test_numpy_values_are_taken_as_mlplab_run_takes_them(local_sweep, sw, tmp_path):
    # the conftest's GRID as numpy values (0.0 for 0 reads the same): the same trials, all finished already
    out = tmp_path / "s"
    shutil.copytree(local_sweep, out)  # a copy: this summary shows the values as given here (0.0, not 0)
    before = sw.ledger(out)
    for seeds in (np.int64(3), np.arange(3)):
        result = mlplab.sweep(
            "classify",
            grid={"hidden": [np.array([32])], "epochs": np.array([2]), "dropout": np.array([0.0, 0.1])},
            seeds=seeds,
            out=out,
        )
        assert sw.ledger(out) == before, "no trial may run again"
        assert [r["n_seeds"] for r in result.rows] == [3, 3]
