"""`pixel-shuffle`: the practical's Part 3 — does an MLP use where a pixel is? No shuffle vs one fixed
permutation vs a new permutation per batch or per image, and the sorted pixel values as a baseline."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from mlplab.analysis.spread import spread
from mlplab.config import param
from mlplab.data import Dataset, Split, dataset_for
from mlplab.data import augment as aug
from mlplab.data.vision import with_practical_stats
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPClassifier
from mlplab.train import TrainConfig, evaluate, fit_named

MODES = ("none", "fixed", "per-batch", "per-image", "sorted")


@dataclass
class PixelShuffleConfig(TrainConfig):
    hidden: list[int] = param(
        [256, 128], "hidden sizes of the MLP (the same for every mode)", nonempty=True, item_min=1
    )
    epochs: int = param(10, "passes over the training set (the same budget for every mode)", min=1)
    seeds: int = param(3, "models per mode, seeds seed, seed+1, ...", min=1)
    modes: list[str] = param(
        list(MODES),
        "any of: none (as is), fixed (one permutation for train, validation and "
        "test), per-batch, per-image (new permutations), sorted (pixel values "
        "sorted: the intensity histogram)",
        nonempty=True,
    )

    def check(self) -> None:
        bad = [m for m in self.modes if m not in MODES]
        if bad:
            raise UserError(f"config key 'modes': unknown mode {bad[0]!r}; choose from: {', '.join(MODES)}")


def shuffled(ds: Dataset, mode: str, gen: torch.Generator, batch_size: int):
    """(dataset, training augmentation) for `mode`; validation and test get the same kind of shuffle."""
    if mode == "none":
        return ds, None
    if mode == "sorted":
        return ds.map_inputs(aug.sort_pixels), None
    if mode == "fixed":
        perm = torch.randperm(ds.num_features // ds.input_shape[0], generator=gen)
        return ds.map_inputs(lambda x: aug.permute_pixels(x, perm)), None
    each = aug.shuffle_pixels_per_batch() if mode == "per-batch" else aug.shuffle_pixels_per_image()

    def held_out(x: torch.Tensor) -> torch.Tensor:  # a new permutation per batch (or image), like training
        return torch.cat([each(x[i : i + batch_size], gen) for i in range(0, len(x), batch_size)])

    # training inputs stay as they are: their permutation is drawn at every step by the augmentation
    return replace(ds, val=Split(held_out(ds.val.x), ds.val.y), test=Split(held_out(ds.test.x), ds.test.y)), each


@register_experiment("pixel-shuffle", PixelShuffleConfig, smoke=("epochs=1", "seeds=1", "hidden=[16]"))
def run(cfg: PixelShuffleConfig, ctx: Context) -> dict:
    """MLP accuracy with the pixels shuffled: fixed vs per-batch vs per-image permutations, and sorted pixels."""
    ds = with_practical_stats(dataset_for(cfg, ctx.device))
    rows, metrics, examples = [], {}, {}
    for mode in cfg.modes:
        data, augment = shuffled(ds, mode, torch.Generator().manual_seed(cfg.seed), cfg.batch_size)
        examples[mode] = data.test.x[:8]
        accs = []
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            torch.manual_seed(seed)
            model = MLPClassifier(ds.num_features, cfg.hidden, ds.num_classes).to(ctx.device)
            name = f"{mode}-seed{seed}"
            # resume: a finished model (checkpoints/NAME.pt) is loaded, not trained again
            fit = fit_named(
                model, data, cfg, ctx.run, torch.Generator().manual_seed(seed), name, resume=ctx.resume, augment=augment
            )
            test = evaluate(model, data.test)
            row = {
                "mode": mode,
                "seed": seed,
                "test_accuracy": test["accuracy"],
                "final_val_accuracy": fit.history[-1].get("val_accuracy"),
                "train_seconds": fit.train_seconds,
            }
            rows.append(row)
            accs.append(test["accuracy"])
        metrics[f"{mode}/test_accuracy"] = spread(accs).as_dict()
        metrics[f"{mode}/mean_test_accuracy"] = spread(accs).mean  # a plain number for the run page
    ctx.run.save_table("per_seed", rows)
    ctx.run.save_arrays(
        "examples",
        modes=list(examples),
        images=torch.stack(list(examples.values())).cpu(),
        mean=torch.tensor(ds.normalization.mean),
        std=torch.tensor(ds.normalization.std),
    )
    return {**metrics, "dataset": ds.name, "seeds": cfg.seeds}
