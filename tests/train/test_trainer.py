"""The trainer: a step changes weights and evaluation does not; same seed, same numbers; a killed run
resumes to the same result; the NaN guard keeps the last good checkpoint; checkpoints of other models are refused."""

import json
import subprocess
import sys
import textwrap

import pytest
import torch

from mlplab.data import load_dataset
from mlplab.nn import MLPClassifier
from mlplab.runs import Run
from mlplab.train import Trainer, make_optimizer, read_checkpoint
from mlplab.train.trainer import ONE

SMALL = ["dataset=digits", "hidden=[64]", "epochs=4", "batch_size=64", "dropout=0.1"]


def _but(keys, *changed: str) -> list[str]:
    """`keys` with some of them given other values (a key may be given only once on a command line)."""
    names = {c.split("=", 1)[0] for c in changed}
    return [k for k in keys if k.split("=", 1)[0] not in names] + list(changed)


def _trainer():
    torch.manual_seed(0)
    ds = load_dataset("digits")
    model = MLPClassifier(64, [32], 10)
    return Trainer(model, make_optimizer(model.parameters(), "adam", 1e-2), progress=False), ds


def test_train_step_changes_weights_and_evaluate_does_not():
    trainer, ds = _trainer()
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.evaluate(ds.val)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))
    trainer.train_epoch(ds.train, 64, epoch=1)
    assert all(not torch.equal(a, b) for a, b in zip(before, trainer.model.parameters(), strict=True))


def test_evaluate_matches_a_direct_computation():
    trainer, ds = _trainer()
    trainer.train_epoch(ds.train, 64, epoch=1)
    got = trainer.evaluate(ds.test, batch_size=7)  # uneven batches must still average exactly
    with torch.no_grad():
        logits = trainer.model.eval()(ds.test.x)
    assert abs(got["loss"] - torch.nn.functional.cross_entropy(logits, ds.test.y).item()) < 1e-5
    assert abs(got["accuracy"] - (logits.argmax(1) == ds.test.y).float().mean().item()) < 1e-6


def test_an_epochs_training_means_are_over_its_examples():
    """With lr=0 the weights stay put, so the epoch's loss and accuracy (the accuracy computed once at the end, from
    every step's kept logits) must equal the model's on the whole training set, uneven last batch included."""
    torch.manual_seed(0)
    ds = load_dataset("digits")
    model = MLPClassifier(64, [32], 10)
    trainer = Trainer(model, make_optimizer(model.parameters(), "sgd", 0.0), progress=False)
    got = trainer.train_epoch(ds.train, 7, epoch=1)
    assert len(ds.train) % 7 != 0
    with torch.no_grad():
        logits = model(ds.train.x)
    assert abs(got["loss"] - torch.nn.functional.cross_entropy(logits, ds.train.y).item()) < 1e-5
    assert got["accuracy"] == pytest.approx((logits.argmax(1) == ds.train.y).double().mean().item(), abs=1e-12)


def _numbers(run_dir):
    run = Run.open(run_dir)
    metrics = {k: v for k, v in run.metrics.items() if "seconds" not in k}
    history = [{k: v for k, v in row.items() if "seconds" not in k} for row in run.history]
    return metrics, history


def test_same_seed_same_metrics(tmp_path):
    from mlplab.experiments import execute

    for name, seed in (("a", 7), ("b", 7), ("c", 8)):  # three runs of their own; numbers only, no page
        execute("classify", [*SMALL, f"seed={seed}"], out=str(tmp_path / name), report=False)
    assert _numbers(tmp_path / "a") == _numbers(tmp_path / "b")
    assert _numbers(tmp_path / "a") != _numbers(tmp_path / "c")


KILLER = textwrap.dedent("""
    import os, signal, sys
    from mlplab import train
    original = train.Trainer.__init__
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        # a real kill (no cleanup, no exception handlers) right after epoch 2 was checkpointed
        self.callbacks.append(lambda t, row: row["epoch"] == 2 and os.kill(os.getpid(), signal.SIGKILL))
    train.Trainer.__init__ = init
    from mlplab.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_killed_run_resumes_to_the_same_result(cli, trained, tmp_path):
    whole = trained("classify", *SMALL)  # the uninterrupted run
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, "run", "classify", *SMALL, "--out", str(tmp_path / "cut")],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9
    assert [r["epoch"] for r in Run.open(tmp_path / "cut").history] == [1, 2]
    assert not (tmp_path / "cut" / "metrics.json").exists()
    code, out, err = cli("run", "classify", "--resume", str(tmp_path / "cut"))
    assert code == 0, err
    assert out.strip().splitlines()[-1] == str(tmp_path / "cut")
    assert _numbers(tmp_path / "cut") == _numbers(whole)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path, capsys):
    from mlplab import train
    from mlplab.cli import main

    original = train.Trainer.__init__

    def poison_after_epoch_1(self, *args, **kwargs):
        original(self, *args, **kwargs)

        def poison(trainer, row):
            if row["epoch"] == 1:
                with torch.no_grad():
                    trainer.model.net.fc1.weight[0, 0] = float("nan")

        self.callbacks.append(poison)

    train.Trainer.__init__ = poison_after_epoch_1
    try:
        code = main(["run", "classify", *SMALL, "--out", str(tmp_path / "r")])
    finally:
        train.Trainer.__init__ = original
    err = capsys.readouterr().err
    assert code == 1
    assert "loss became nan at epoch 2" in err and "Traceback" not in err
    state = read_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert state["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_resume_refuses_a_checkpoint_of_another_model(cli, trained, tmp_path):
    trained.copy(tmp_path / "r", "classify", *_but(SMALL, "epochs=1"))
    files = {f: (tmp_path / "r" / f).read_bytes() for f in ("checkpoints/last.pt", "env.json")}
    # a config.yaml that no longer matches its checkpoint (edited by hand, or by an older mlplab)
    config = tmp_path / "r" / "config.yaml"
    config.write_text(config.read_text().replace("hidden:\n- 64", "hidden:\n- 128"))
    edited = config.read_bytes()
    code, out, err = cli("run", "classify", "--resume", str(tmp_path / "r"))
    assert (
        code == 2
        and "written with another hidden ([64]; config.yaml now says [128])" in err
        and len(err.strip().splitlines()) == 1
    )
    assert {f: (tmp_path / "r" / f).read_bytes() for f in files} == files
    assert config.read_bytes() == edited


def test_checkpoints_load_with_weights_only(trained):
    run = trained("classify", *_but(SMALL, "epochs=2"))
    for name in ("best", "last"):
        state = torch.load(run / "checkpoints" / f"{name}.pt", weights_only=True)
        assert set(state) >= {"model", "optimizers", "rng", "epoch", "spec"}
        assert set(state["optimizers"]) == {ONE} and state["optimizers"][ONE]["state"]  # one optimizer: a dict of one
    assert json.loads((run / "env.json").read_text())["seed"] == 0


def test_tensorboard_scalars(trained):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = trained("classify", *_but(SMALL, "epochs=2"), "tensorboard=true")
    events = EventAccumulator(str(run / "tensorboard"))
    events.Reload()
    losses = [e.value for e in events.Scalars("val/loss")]
    history = Run.open(run).history
    assert losses == pytest.approx([row["val_loss"] for row in history], rel=1e-6)


def _fit(run: Run, epochs: int, resume: bool) -> Trainer:
    torch.manual_seed(0)
    ds = load_dataset("digits")
    model = MLPClassifier(64, [16], 10)
    opt = make_optimizer(model.parameters(), "adam", 1e-2)
    trainer = Trainer(model, opt, run=run, generator=torch.Generator().manual_seed(1), progress=False)
    trainer.fit(ds.train, ds.val, epochs=epochs, batch_size=128, resume=resume)
    return trainer


def test_a_checkpoint_from_before_one_optimizer_was_a_dict_of_one_resumes(tmp_path):
    """Checkpoints written before kept the one optimizer under "optimizer": a resume reads it, and reaches
    the uninterrupted run's weights."""
    whole = _fit(Run.create("t", {}, out=tmp_path / "whole"), 3, resume=False)
    run = Run.create("t", {}, out=tmp_path / "old")
    _fit(run, 2, resume=False)
    last = run.checkpoint("last")
    state = read_checkpoint(last)
    state["optimizer"], state["scheduler"] = state.pop("optimizers")[ONE], None  # the old layout
    del state["schedulers"]
    torch.save(state, last)
    resumed = _fit(run, 3, resume=True)
    assert [r["epoch"] for r in run.history] == [1, 2, 3]
    for a, b in zip(whole.model.parameters(), resumed.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_model_without_its_own_step_takes_exactly_one_optimizer():
    model = MLPClassifier(64, [16], 10)
    two = {"a": make_optimizer(model.parameters(), "sgd", 0.1), "b": make_optimizer(model.parameters(), "sgd", 0.1)}
    with pytest.raises(ValueError, match="exactly one optimizer"):
        Trainer(model, optimizers=two)


def test_a_monitor_named_without_a_direction_takes_the_shared_rule():
    """The model watches accuracy (max); a caller that monitors a loss-like number without naming `mode` must
    keep the epoch where it is lowest (the rule of mlplab.main_metric), not the model's direction."""
    model = MLPClassifier(4, [3], 2)
    opt = make_optimizer(model.parameters(), "sgd", 0.1)
    assert Trainer(model, opt, progress=False).mode == "max"  # the model's own monitor
    assert Trainer(model, opt, monitor="val_loss", progress=False).mode == "min"
    assert Trainer(model, opt, monitor="val_mse", progress=False).mode == "min"
    assert Trainer(model, opt, monitor="recall", progress=False).mode == "max"
    assert Trainer(model, opt, monitor="val_loss", mode="max", progress=False).mode == "max"  # named: kept
