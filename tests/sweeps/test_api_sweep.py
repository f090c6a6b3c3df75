"""mlplab.sweep from Python: the same grid as the command (it resumes the command's sweep), bad input as ConfigError."""

from __future__ import annotations

import csv

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
    ],
)
def test_python_sweep_bad_input_raises_config_error_before_any_trial(kwargs, fragment, tmp_path):
    with pytest.raises(mlplab.ConfigError, match=fragment.replace("(", r"\(")):
        mlplab.sweep("classify", out=tmp_path / "s", **kwargs)
    assert not (tmp_path / "s" / "trials").exists()
