"""mlp-protocol (experiments/practical/protocol.py): train, validate, keep the best epoch, test once. Its main
numbers, figures and findings, from its files only."""

from __future__ import annotations

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.draw.curves import curves
from mlplab.runs import Run

register_main_numbers("mlp-protocol", "test_accuracy", "best_val_accuracy", "best_epoch", "train_seconds")


@register_figures("mlp-protocol")
def build(run: Run) -> None:
    history = run.history
    curves(
        history,
        ["train_accuracy", "val_accuracy"],
        f"accuracy (validation every {run.config.get('eval_every')} epochs)",
        run.figure("accuracy"),
        ylabel="accuracy",
    )
    curves(history, ["train_loss", "val_loss"], "cross-entropy", run.figure("loss"), ylabel="loss", logy=True)


PRACTICAL_CIFAR10 = "52–53%"  # what the practical expects on CIFAR-10 with this protocol


@register_findings("mlp-protocol")
def protocol(run: Run) -> list[Finding]:
    m = run.metrics
    if not m:
        return []
    c = run.config
    text = (
        f"MLP(hidden_sizes={c.get('hidden_sizes')}) on {m['dataset']}: "
        f"{m['train_size']} training and {m['val_size']} validation images (split seeded by seed={c.get('seed')}), "
        f"{c.get('epochs')} epochs of {c.get('optimizer')} at lr {c.get('lr')}, validated at epochs "
        f"{m['validated_epochs']}. The best validation accuracy, {m['best_val_accuracy']:.2%} at epoch "
        f"{m['best_epoch']}, was saved to checkpoints/best.pt, reloaded from disk "
        f"({'identical to' if m['reloaded_equals_best'] else 'DIFFERENT from'} the weights the trainer restored) "
        f"and tested once: {m['test_accuracy']:.2%} on {m['test_size']} test images."
        if m.get("best_val_accuracy") is not None
        else f"No validation split: the checkpoint of the lowest training loss (epoch {m['best_epoch']}) was tested: "
        f"{m['test_accuracy']:.2%}."
    )
    out = [Finding("Protocol", text, "test_accuracy")]
    if m.get("dataset") == "cifar10":
        out.append(
            Finding(
                "Against the practical",
                f"The practical expects {PRACTICAL_CIFAR10} test accuracy on "
                f"CIFAR-10 with this protocol; this run: {m['test_accuracy']:.2%}.",
                "test_accuracy",
            )
        )
    return out
