"""Run folder: layout, atomic writes, history that survives a torn last line."""

import os

import numpy as np
import pytest

from mlplab.errors import UserError
from mlplab.runs import Run, atomic_path, atomic_write_text


def test_create_layout_and_round_trip(tmp_path):
    run = Run.create("classify", {"seed": 3, "hidden": [4, 2]}, out=tmp_path / "r")
    for sub in ("checkpoints", "figures", "arrays", "animations", "tables"):
        assert (run.path / sub).is_dir()
    assert run.config == {"experiment": "classify", "seed": 3, "hidden": [4, 2]}
    run.save_metrics({"a": np.float32(0.5)})
    run.save_metrics({"b": 2})
    assert run.metrics == {"a": 0.5, "b": 2}
    run.log({"epoch": 1, "loss": 1.0})
    run.log({"epoch": 2, "loss": 0.5})
    with open(run.path / "metrics.jsonl", "a") as fh:
        fh.write('{"epoch": 3, "lo')  # a kill in the middle of a line
    assert [r["epoch"] for r in run.history] == [1, 2]
    run.save_arrays("x", a=np.arange(3))
    assert run.load_arrays("x")["a"].tolist() == [0, 1, 2]


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "metrics.json"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["metrics.json"]


def test_an_interrupt_as_the_temporary_file_is_made_leaves_nothing(tmp_path, monkeypatch):
    """A SIGTERM's handler runs as soon as the open() system call returns: the file exists, the exception is
    raised before any Python line after it. The temporary file must still go (a run's checkpoints/ once kept
    a `.last.pt.*.tmp` this way)."""
    target = tmp_path / "last.pt"
    atomic_write_text(target, "old")
    real_open = os.open

    def open_then_interrupted(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "open", open_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["last.pt"]


def test_out_must_be_a_folder_and_empty(tmp_path):
    f = tmp_path / "file"
    f.write_text("keep me")
    with pytest.raises(UserError, match="is a file"):
        Run.create("classify", {}, out=f)
    assert f.read_text() == "keep me"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        Run.create("classify", {}, out=tmp_path / "full")


def test_open_rejects_non_runs(tmp_path):
    with pytest.raises(UserError, match="not a run folder"):
        Run.open(tmp_path)


def test_the_run_folder_and_the_public_run_read_through_the_same_members(tmp_path):
    """runs.Run (inside the package) and mlplab.Run (notebooks): what both read is a property on both."""
    import mlplab.api

    run = Run.create("classify", {"seed": 3}, out=tmp_path / "r")
    run.save_metrics({"test_accuracy": 0.5})
    run.log({"epoch": 1, "loss": 1.0})
    public = mlplab.api.Run(run.path)
    for member in ("config", "experiment", "metrics", "history"):
        assert isinstance(getattr(Run, member), property), member
        assert isinstance(getattr(mlplab.api.Run, member), property), member
    assert public.metrics == run.metrics == {"test_accuracy": 0.5}
    assert public.history == run.history == [{"epoch": 1, "loss": 1.0}]
    assert public.experiment == run.experiment == "classify"


def test_a_folder_lock_lets_one_process_in_and_is_released_after(tmp_path):
    """A sweep's or a study's folder is worked on by one `mlplab` at a time (flock: two opens conflict even in
    one process); leaving the block releases it."""
    from mlplab.errors import UserError
    from mlplab.runs import folder_lock

    with folder_lock(tmp_path, "sweep"):
        with pytest.raises(UserError, match=r"another `mlplab sweep` is running on .*; wait for it or stop it"):
            with folder_lock(tmp_path, "sweep"):
                pass
    with folder_lock(tmp_path, "tune"):  # released: the next one gets in
        assert (tmp_path / ".lock").is_file()
