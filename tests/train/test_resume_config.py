"""What a resume may change (issue 11, items 3, 4 and 7): only keys that cannot alter the epochs already
run; every other change is refused with one line and nothing written; a raised `epochs` continues as a run
planned for the new total would; config.yaml always holds the config actually used."""

import pytest
import torch
import yaml

from mlplab.runs import Run
from mlplab.train import Trainer

SMALL = ["dataset=digits", "hidden=[32]", "batch_size=128", "dropout=0.1"]
UNTOUCHED = ("config.yaml", "env.json", "metrics.jsonl", "checkpoints/last.pt", "checkpoints/best.pt")


def _files(run):
    return {f: (run / f).read_bytes() for f in UNTOUCHED}


def _numbers(run_dir):
    run = Run.open(run_dir)
    metrics = {k: v for k, v in run.metrics.items() if "seconds" not in k}
    history = [{k: v for k, v in row.items() if "seconds" not in k} for row in run.history]
    return metrics, history


def _config(run_dir):
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def _interrupt_after(monkeypatch, epoch):
    original = Trainer.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)

        def interrupt(trainer, row):
            if row["epoch"] == epoch:
                raise KeyboardInterrupt

        self.callbacks.append(interrupt)

    monkeypatch.setattr(Trainer, "__init__", init)
    return lambda: monkeypatch.setattr(Trainer, "__init__", original)


@pytest.fixture
def two_epochs(trained, tmp_path):
    """A finished 2-epoch run of its own (a copy of one trained once a session)."""
    return trained.copy(tmp_path / "r", "classify", *SMALL, "epochs=2", "schedule=cosine")


@pytest.mark.parametrize(
    "change, named",
    [
        (["optimizer=sgd"], "optimizer ('adam' -> 'sgd')"),  # item 3: was KeyError: 'momentum'
        (["epochs=4", "lr=0.5"], "lr (0.001 -> 0.5)"),  # item 4: was accepted, the old schedule carried on
        (["hidden=[64]"], "hidden ([32] -> [64])"),
        (["schedule=step", "seed=3"], "seed (0 -> 3), schedule ('cosine' -> 'step')"),
        (["epochs=1"], "can raise epochs but not lower it (2 -> 1)"),
    ],
)
def test_a_resume_that_changes_the_trajectory_is_refused_and_writes_nothing(cli, two_epochs, change, named):
    before = _files(two_epochs)
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(two_epochs), *change)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("mlplab: error: ") and named in err, err
    assert "start a new run" in err
    assert _files(two_epochs) == before
    # and the run still resumes as it was
    assert cli("run", "--no-report", "classify", "--resume", str(two_epochs))[0] == 0


def test_data_dir_may_change_only_for_checksummed_data(cli, two_epochs, tmp_path):
    code, _, err = cli("run", "--no-report", "classify", "--resume", str(two_epochs), f"data_dir={tmp_path}")
    assert code == 0, err  # digits are embedded: no folder can change them
    assert _config(two_epochs)["data_dir"] == str(tmp_path)


def test_a_resume_may_switch_tensorboard_on_and_config_yaml_says_so(cli, two_epochs):
    code, _, err = cli(
        "run", "--no-report", "classify", "--resume", str(two_epochs), "epochs=3", "tensorboard=true", "device=cpu"
    )
    assert code == 0, err
    config = _config(two_epochs)
    assert (config["epochs"], config["tensorboard"], config["device"]) == (3, True, "cpu")
    assert any((two_epochs / "tensorboard").iterdir())
    assert [r["epoch"] for r in Run.open(two_epochs).history] == [1, 2, 3]


@pytest.mark.parametrize("schedule", ["none", "step"])
def test_raising_epochs_reaches_the_fresh_run_with_that_many_epochs(cli, trained, tmp_path, monkeypatch, schedule):
    """Cut after epoch 1 of a 4-epoch run, resumed with epochs=8: the lr of epoch 1 is the same for both totals
    (step: the first milestone of 4 epochs is 2, of 8 it is 4), so every number is the fresh 8-epoch run's."""
    keys = [*SMALL, f"schedule={schedule}"]
    whole = trained("classify", *keys, "epochs=8")
    restore = _interrupt_after(monkeypatch, 1)
    assert cli("run", "classify", *keys, "epochs=4", "--out", str(tmp_path / "cut"))[0] == 130
    restore()
    code, _, err = cli("run", "--no-report", "classify", "--resume", str(tmp_path / "cut"), "epochs=8")
    assert code == 0, err
    assert _numbers(tmp_path / "cut") == _numbers(whole)
    assert _config(tmp_path / "cut") == _config(whole)  # config.yaml: the config actually used


def test_raising_epochs_with_cosine_continues_the_cosine_of_the_new_total(cli, trained, two_epochs):
    """Epochs already run keep their lrs; from the next epoch on, the lrs are those of a fresh 5-epoch run."""
    five = trained("classify", *SMALL, "epochs=5", "schedule=cosine")
    old = [r["lr"] for r in Run.open(two_epochs).history]
    code, _, err = cli("run", "--no-report", "classify", "--resume", str(two_epochs), "epochs=5")
    assert code == 0, err
    lrs = [r["lr"] for r in Run.open(two_epochs).history]
    fresh = [r["lr"] for r in Run.open(five).history]
    assert lrs[:2] == old == [1e-3, 0.5e-3]
    assert lrs[2:] == fresh[2:] and fresh[1] != old[1]
    assert _config(two_epochs)["epochs"] == 5


def test_a_checkpoint_of_another_optimizer_is_one_line_and_writes_nothing(cli, two_epochs):
    """A run whose config.yaml was changed by an older mlplab (item 3: optimizer sgd over adam's state)."""
    config = two_epochs / "config.yaml"
    config.write_text(config.read_text().replace("optimizer: adam", "optimizer: sgd"))
    before = _files(two_epochs)
    code, out, err = cli("run", "--no-report", "classify", "--resume", str(two_epochs), "epochs=3")
    assert code == 2 and err.count("\n") == 1 and "another optimizer" in err and "Traceback" not in err, err
    assert _files(two_epochs) == before
    assert torch.load(two_epochs / "checkpoints" / "last.pt", weights_only=True)["epoch"] == 2
