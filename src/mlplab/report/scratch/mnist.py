"""scratch-mnist (experiments/scratch/mnist.py): the NumPy engine's MLP on MNIST. Its main numbers and figures."""

from __future__ import annotations

import numpy as np

from mlplab.report import register_figures, register_main_numbers
from mlplab.report.draw.curves import curves
from mlplab.report.draw.plots import confusion_figure, confusion_matrix
from mlplab.runs import Run

register_main_numbers("scratch-mnist", "test_accuracy", "test_loss", "train_seconds")


@register_figures("scratch-mnist")
def scratch_mnist_figures(run: Run) -> None:
    history = run.history
    curves(history, ["train_loss", "val_loss", "test_loss"], "loss", run.figure("loss_curves"), ylabel="cross-entropy")
    curves(history, ["val_accuracy", "test_accuracy"], "accuracy", run.figure("accuracy_curves"), ylabel="accuracy")
    if (run.path / "arrays" / "predictions.npz").is_file():
        p = run.load_arrays("predictions")
        classes = [str(c) for c in p["classes"]]
        cm = confusion_matrix(p["y_true"].astype(np.int64), p["probs"].argmax(1), len(classes))
        confusion_figure(cm, classes, run.figure("confusion_matrix"))
