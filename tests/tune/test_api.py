"""mlplab.tune from Python: the same study as the command (Hyperband pruner here), a Study object back, bad input
as ConfigError before anything is written."""

from __future__ import annotations

import pytest

import mlplab


def test_tune_from_python_returns_the_study(tmp_path):
    study = mlplab.tune(
        "classify",
        "lr=loguniform(1e-3,0.3)",
        "hidden=choice([8],[16])",
        trials=4,
        pruner="hyperband",
        confirm_seeds=0,
        epochs=3,
        knn_k=3,
        out=tmp_path / "s",
    )
    assert isinstance(study, mlplab.Study) and study.path == tmp_path / "s"
    assert len(study.table) == 4 and study.confirmation is None
    assert study.result["pruner"] == "hyperband" and study.result["fixed"] == ["epochs=3", "knn_k=3"]
    for row in study.table:
        assert row["state"] in ("complete", "pruned") and 1 <= row["epochs_run"] <= 3
        assert row["epochs_run"] == 3 or row["state"] == "pruned"
    assert "<table>" in study._repr_html_() and "study.html" in study._repr_html_()
    again = mlplab.tune(
        "classify", "lr=loguniform(1e-3,0.3)", "hidden=choice([8],[16])", trials=4, pruner="hyperband",
        confirm_seeds=0, epochs=3, knn_k=3, out=tmp_path / "s",
    )  # fmt: skip
    assert again.table == study.table  # a repeat resumes the finished study: nothing runs again


@pytest.mark.parametrize(
    "args, kwargs, words",
    [
        ((3,), {}, "expected key=SPACE"),
        (("lr=loguniform(1e-4,1e-2)",), {"trials": 0}, "--trials 0 must be at least 1"),
        (("lr=loguniform(1e-4,1e-2)",), {"hidden": []}, "the list is empty"),
        (("hidden=loguniform(1,2)",), {}, "loguniform(...) cannot draw"),
    ],
)
def test_bad_input_raises_config_error_and_writes_nothing(tmp_path, args, kwargs, words):
    with pytest.raises(mlplab.ConfigError, match=words.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        mlplab.tune("classify", *args, out=tmp_path / "s", **kwargs)
    assert not (tmp_path / "s").exists()


def test_mlplab_tune_is_callable_whether_or_not_the_package_was_imported():
    import importlib

    importlib.import_module("mlplab.tune.runner")  # binds mlplab.tune to the package
    with pytest.raises(mlplab.ConfigError, match="--trials 0 must be at least 1"):
        mlplab.tune("classify", "lr=loguniform(1e-4,1e-2)", trials=0)
