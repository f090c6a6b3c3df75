"""train.trainer.watching: every Trainer made inside the block calls the watcher after each epoch (with the row
that was logged, and may stop the run); Trainers made outside it never do."""

import torch

from mlplab.data import load_dataset
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer
from mlplab.train.trainer import watching


def _trainer():
    torch.manual_seed(0)
    model = MLPClassifier(64, [16], 10)
    return Trainer(model, make_optimizer(model.parameters(), "adam", 1e-2), progress=False, print_rows=False)


def test_a_watcher_sees_every_epoch_row_and_can_stop_the_run():
    ds = load_dataset("digits")
    seen = []

    def watcher(trainer, row):
        seen.append(row)
        if row["epoch"] == 2:
            trainer.stop_requested = True

    with watching(watcher):
        inside = _trainer()
    outside = _trainer()
    result = inside.fit(ds.train, ds.val, epochs=5, batch_size=64)
    assert [r["epoch"] for r in seen] == [1, 2] and len(result.history) == 2 and result.stopped_early
    assert seen == result.history and all("val_accuracy" in r for r in seen)
    outside.fit(ds.train, ds.val, epochs=2, batch_size=64)
    assert len(seen) == 2  # a Trainer made after the block does not call it
