"""`mlp-improve`: the practical's Part 2 — an ablation of MLP improvements over seeds: the baseline, each
change alone, all together; mean ± std and a 95% interval per row."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from typing import Literal

import torch

from mlplab.analysis.spread import spread
from mlplab.config import param
from mlplab.data import dataset_for
from mlplab.data.augment import augment_from_names
from mlplab.data.vision import MIRRORED_MEANING, with_practical_stats
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPClassifier
from mlplab.train import TrainConfig, evaluate, fit_named
from mlplab.train.config import ScheduleName

# The practical's MLP as it leaves Part 1; every change below is measured against it.
BASELINE = {
    "augment": [],
    "dropout": 0.0,
    "input_dropout": 0.0,
    "weight_decay": 0.0,
    "norm": "none",
    "hidden": [256, 128],
    "label_smoothing": 0.0,
    "schedule": "none",
}
CHANGES = tuple(BASELINE)
STUDY_EPOCHS, STUDY_EPOCHS_DIGITS = 40, 4


@dataclass
class ImproveConfig(TrainConfig):
    """Each improvement is a key; a key left at the baseline's value drops out of the study."""

    epochs: int = param(
        0,
        "passes over the training set, the same for every model; 0 = the study's budget: "
        f"{STUDY_EPOCHS} ({STUDY_EPOCHS_DIGITS} on the embedded digits), sized so that the default "
        "ablation on Fashion-MNIST finishes within 60 minutes on 2 CPU cores",
        min=0,
    )
    batch_size: int = param(128, "examples per step", min=1)
    optimizer: Literal["adam", "adamw"] = param(
        "adamw", "optimizer of every model (weight decay is decoupled with adamw, L2 with adam)"
    )
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    augment: list[str] = param(
        ["auto"],
        "batched on-device augmentation: any of crop (pad 1/8 of the side, crop "
        "back), flip (left-right), affine (small), elastic, erase (random erasing); auto = flip where a mirror "
        "image keeps its class, none on the digit datasets",
    )
    dropout: float = param(0.2, "dropout after every hidden activation", min=0, max=0.95)
    input_dropout: float = param(
        0.0, "dropout on the input pixels (Srivastava et al. 2014 use 0.2); 0 = not studied", min=0, max=0.95
    )
    weight_decay: float = param(0.05, "weight decay", min=0)
    norm: Literal["none", "batch", "layer"] = param("batch", "normalisation after every hidden linear layer")
    hidden: list[int] = param(
        [1024, 512], "depth and width: hidden sizes of the improved MLP", nonempty=True, item_min=1
    )
    label_smoothing: float = param(0.1, "label smoothing of the cross-entropy", min=0, max=0.5)
    schedule: ScheduleName = param("cosine", "learning-rate schedule (cosine or onecycle), stepped per epoch")
    seeds: int = param(3, "models per row, seeds seed, seed+1, ...", min=1)
    rows: list[str] = param(
        [],
        "run only these rows, e.g. rows=[baseline,all] or rows=[baseline,dropout]; "
        "empty = baseline, each change alone, all",
    )

    def changes(self) -> list[str]:
        """The keys whose value differs from the baseline's: the changes under study."""
        return [k for k in CHANGES if getattr(self, k) != BASELINE[k]]

    def check(self) -> None:
        allowed = ["baseline", *self.changes(), "all"]
        bad = [r for r in self.rows if r not in allowed]
        if bad:
            raise UserError(
                f"config key 'rows': {bad[0]!r} is not a row of this study; choose from: "
                f"{', '.join(allowed)} (a change whose key equals the baseline's value is not studied)"
            )


def row_settings(cfg: ImproveConfig) -> dict[str, dict]:
    """row name -> the values of every change key for that row."""
    changes = cfg.changes()
    rows = {"baseline": dict(BASELINE)}
    rows.update({k: {**BASELINE, k: getattr(cfg, k)} for k in changes})
    if len(changes) > 1:
        rows["all"] = {k: getattr(cfg, k) for k in CHANGES}
    return {k: v for k, v in rows.items() if not cfg.rows or k in cfg.rows}


@register_experiment(
    "mlp-improve", ImproveConfig, smoke=("epochs=1", "seeds=1", "hidden=[32]", "rows=[baseline,dropout,all]")
)
def run(cfg: ImproveConfig, ctx: Context) -> dict:
    """Ablation of MLP improvements (augmentation, dropout, weight decay, norm, size, smoothing, schedule), seeds."""
    ds = with_practical_stats(dataset_for(cfg, ctx.device))
    cfg = replace(cfg, augment=resolve_auto(cfg.augment, ds.name))
    if cfg.rows and "augment" in cfg.rows and "augment" not in cfg.changes():
        raise UserError(
            f"config key 'rows': augment=auto means no augmentation on {ds.name} (a flip mirrors its "
            "characters), so there is no augment row; ask for one, e.g. augment=[affine]"
        )
    flips_digits = "flip" in cfg.augment and ds.name in MIRRORED_MEANING
    if flips_digits:
        print(
            f"warning: augment=flip mirrors the characters of {ds.name} (a mirrored 2 is not a 2); running it as asked",
            file=sys.stderr,
            flush=True,
        )
    augment_from_names(cfg.augment, ds)  # an unknown augmentation fails before any training
    epochs = cfg.epochs or (STUDY_EPOCHS_DIGITS if ds.name == "digits" else STUDY_EPOCHS)
    per_seed, summary = [], {}
    for row, values in row_settings(cfg).items():
        settings = replace(cfg, epochs=epochs, **{k: values[k] for k in ("weight_decay", "schedule")})
        accs = []
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            torch.manual_seed(seed)
            model = MLPClassifier(
                ds.num_features,
                values["hidden"],
                ds.num_classes,
                dropout=values["dropout"],
                input_dropout=values["input_dropout"],
                norm=values["norm"],
                label_smoothing=values["label_smoothing"],
            ).to(ctx.device)
            name = f"{row}-seed{seed}"
            # resume: a finished model (checkpoints/NAME.pt) is loaded, not trained again
            fit = fit_named(
                model,
                ds,
                settings,
                ctx.run,
                torch.Generator().manual_seed(seed),
                name,
                resume=ctx.resume,
                augment=augment_from_names(values["augment"], ds),
            )
            test = evaluate(model, ds.test)
            numbers = {
                "row": row,
                "seed": seed,
                "test_accuracy": test["accuracy"],
                "final_val_accuracy": fit.history[-1].get("val_accuracy"),
                "parameters": sum(p.numel() for p in model.parameters()),
                "train_seconds": fit.train_seconds,
            }
            per_seed.append(numbers)
            accs.append(test["accuracy"])
        summary[row] = spread(accs)
    ctx.run.save_table("per_seed", per_seed)
    ctx.run.save_table(
        "ablation", [{"row": row, "change": describe(row, cfg), **s.as_dict()} for row, s in summary.items()]
    )
    best = max(summary, key=lambda r: summary[r].mean)
    return {
        "test_accuracy": {r: s.as_dict() for r, s in summary.items()},
        "best_row": best,
        "best_mean_test_accuracy": summary[best].mean,
        **{f"{r}/mean_test_accuracy": s.mean for r, s in summary.items()},  # plain numbers for the run page
        "dataset": ds.name,
        "seeds": cfg.seeds,
        "flip_on_digits": flips_digits,
        "epochs": epochs,
        "augment": cfg.augment,
        "total_train_seconds": sum(r["train_seconds"] for r in per_seed),
    }


def resolve_auto(names: list[str], dataset: str) -> list[str]:
    """augment=[auto] -> [flip] where a mirrored image keeps its class, [] on the digit datasets."""
    if "auto" not in names:
        return names
    return [n for n in names if n != "auto"] + ([] if dataset in MIRRORED_MEANING or "flip" in names else ["flip"])


def describe(row: str, cfg: ImproveConfig) -> str:
    if row == "baseline":
        return f"MLP {BASELINE['hidden']}, no regularisation, constant lr"
    keys = cfg.changes() if row == "all" else [row]
    return ", ".join(f"{k}={getattr(cfg, k)}" for k in keys)
