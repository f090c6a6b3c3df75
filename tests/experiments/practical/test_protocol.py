"""`mlp-protocol`: validation every n epochs, the best checkpoint reloaded from disk and tested once."""

import pytest
import torch

from mlplab.data import load_dataset
from mlplab.experiments import execute
from mlplab.train import evaluate, load_model


def test_best_checkpoint_is_the_best_validated_epoch_and_is_what_was_tested(tmp_path):
    run = execute("mlp-protocol", ["epochs=7", "eval_every=3", "hidden_sizes=[32,16]"], out=str(tmp_path / "run"))
    m = run.metrics
    history = run.history
    validated = [r for r in history if "val_accuracy" in r]
    assert m["validated_epochs"] == [r["epoch"] for r in validated] == [3, 6, 7]
    best = max(validated, key=lambda r: r["val_accuracy"])  # first of equals wins, as in the Trainer
    assert m["best_epoch"] == best["epoch"] and m["best_val_accuracy"] == pytest.approx(best["val_accuracy"])
    assert m["train_size"] + m["val_size"] == 1437 and m["reloaded_equals_best"] is True
    model = load_model(run.checkpoint("best"))
    assert model.spec["hidden"] == [32, 16]
    ds = load_dataset("digits", seed=0)
    with torch.no_grad():
        acc = (model.eval()(ds.test.x).argmax(1) == ds.test.y).float().mean().item()
    assert m["test_accuracy"] == pytest.approx(acc, abs=1e-6)
    assert evaluate(model, ds.val)["accuracy"] == pytest.approx(best["val_accuracy"], abs=1e-6)


@pytest.mark.parametrize(
    "args,message",
    [
        (["hidden_sizes=[]"], "'hidden_sizes': the list is empty"),
        (["hidden_sizes=[64,0]"], "every value must be >= 1"),
        (["hidden_sizes=[64,-3]"], "every value must be >= 1"),
        (["optimizer=scratch-lbfgs"], "'optimizer': 'scratch-lbfgs' is not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    code, out, err = cli("run", "mlp-protocol", *args, "--out", str(tmp_path / "run"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
