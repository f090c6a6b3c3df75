"""Figures of a `classify` run: curves and the confusion matrix."""
from __future__ import annotations

import numpy as np

from mlplab.report import register_figures
from mlplab.report.plots import confusion_figure, confusion_matrix, curves
from mlplab.runs import Run


@register_figures("classify")
def build(run: Run) -> None:
    history = run.history()
    curves(history, ["train_loss", "val_loss"], "loss", run.figure("loss_curves"), ylabel="cross-entropy")
    curves(history, ["train_accuracy", "val_accuracy"], "accuracy", run.figure("accuracy_curves"), ylabel="accuracy")
    if (run.path / "arrays" / "predictions.npz").is_file():
        arrays = run.load_arrays("predictions")
        classes = [str(c) for c in arrays["classes"]]
        pred = arrays["probs"].argmax(1)
        cm = confusion_matrix(arrays["y_true"].astype(np.int64), pred, len(classes))
        confusion_figure(cm, classes, run.figure("confusion_matrix"))
