"""`explore`: statistics, examples and a PCA of an image dataset, with per-class separability in 2-D."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.analysis.pca import PCA, fit_pca
from mlplab.analysis.projection import project_2d
from mlplab.analysis.separability import check_knn
from mlplab.analysis.stats import histogram, summary
from mlplab.config import BaseConfig, param
from mlplab.data import Dataset, Split, load_dataset
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.runs import Run

SHOWN_COMPONENTS = 10


@dataclass
class ExploreConfig(BaseConfig):
    normalization: Literal["standard", "minus_one_one", "unit"] = param(
        "standard", "input normalisation whose statistics are shown: standardised, [-1, 1], or [0, 1]"
    )
    image_size: int = param(0, "resize images to this side (e.g. 28 for digits); 0 = native", min=0, max=256)
    classes: list[int] = param([], "explore only these class indices, e.g. classes=[3,5,8]; empty = all", item_min=0)
    per_class: int = param(8, "example images per class in the grid", min=1, max=30)
    knn_k: int = param(10, "neighbours for the per-class separability in the 2-D projection", min=1)


@register_experiment("explore", ExploreConfig)
def run(cfg: ExploreConfig, ctx: Context) -> dict:
    """Dataset statistics, class counts, example grid, PCA components and 2-D class separability."""
    ds = load_dataset(
        cfg.dataset,
        data_dir=cfg.data_dir or None,
        device="cpu",
        seed=cfg.seed,
        normalization=cfg.normalization,
        image_size=cfg.image_size,
        test_size=cfg.test_size,
        skip_bad=cfg.skip_bad,
    )
    if not ds.is_image:
        raise UserError(
            f"explore needs an image dataset; {cfg.dataset!r} has {ds.input_shape[0]} features per "
            "example, not images; choose e.g. dataset=digits or dataset=mnist"
        )
    ds = select_classes(ds, cfg.classes)
    check_knn(ds.test.y, cfg.knn_k)  # before the statistics and the PCA, not after
    metrics = {
        "dataset": ds.name,
        "normalization": ds.normalization.kind,
        **statistics(ctx.run, ds),
        "class_counts": class_counts(ctx.run, ds),
    }
    save_examples(ctx.run, ds, cfg.per_class, ctx.generator)
    pca = fit_pca(ds.train.x)
    metrics.update(pca_summary(ctx.run, ds, pca))
    metrics.update(separability(ctx.run, ds, pca, cfg.knn_k))
    return metrics


def select_classes(ds: Dataset, wanted: list[int]) -> Dataset:
    """Keep the examples of the chosen classes; a projection needs at least two."""
    bad = [c for c in wanted if c >= ds.num_classes]
    if bad:
        raise UserError(
            f"classes={wanted}: {bad[0]} is not a class of {ds.name!r}; choose indices in 0..{ds.num_classes - 1}"
        )
    keep = sorted(set(wanted)) if wanted else list(range(ds.num_classes))
    if len(keep) < 2 or len(torch.unique(ds.test.y[torch.isin(ds.test.y, torch.tensor(keep))])) < 2:
        raise UserError(
            f"a 2-D projection by class needs at least two classes, but classes={wanted} leaves "
            f"{[ds.classes[c] for c in keep]}; choose two or more, e.g. classes=[3,5]"
        )

    def only(split: Split) -> Split:
        mask = torch.isin(split.y, torch.tensor(keep))
        return Split(split.x[mask], split.y[mask])

    ds.train, ds.val, ds.test = only(ds.train), only(ds.val), only(ds.test)
    return ds


def statistics(run: Run, ds: Dataset) -> dict:
    """Raw training pixels (before normalisation, all training files' images) against the model's inputs."""
    raw = ds.to_pixels(torch.cat([ds.train.x, ds.val.x]))  # (N, C, H, W) in [0, 1]
    stats = {
        "raw pixels (all training images, [0, 1] scale)": summary(raw),
        f"normalised ({ds.normalization.kind}, training split)": summary(ds.train.x),
    }
    run.save_table(
        "statistics", [{"tensor": name, **s, "shape": "x".join(map(str, s["shape"]))} for name, s in stats.items()]
    )
    raw_edges, raw_counts = histogram(raw)
    norm_edges, norm_counts = histogram(ds.train.x)
    run.save_arrays(
        "histograms",
        raw_edges=raw_edges,
        raw_counts=raw_counts,
        norm_edges=norm_edges,
        norm_counts=norm_counts,
        norm_kind=ds.normalization.kind,
    )
    raw_s, norm_s = stats.values()
    return {**{f"raw_{k}": v for k, v in raw_s.items()}, **{f"normalized_{k}": v for k, v in norm_s.items()}}


def class_counts(run: Run, ds: Dataset) -> dict[str, int]:
    counts = {
        name: torch.bincount(split.y, minlength=ds.num_classes)
        for name, split in (("train", ds.train), ("val", ds.val), ("test", ds.test))
    }
    present = [c for c in range(ds.num_classes) if sum(int(n[c]) for n in counts.values())]
    run.save_table(
        "class_counts", [{"class": ds.classes[c], **{s: int(n[c]) for s, n in counts.items()}} for c in present]
    )
    return {ds.classes[c]: int(counts["train"][c]) for c in present}


def save_examples(run: Run, ds: Dataset, per_class: int, generator: torch.Generator) -> None:
    """A random `per_class` training images of every class present, as pixels."""
    order = torch.randperm(len(ds.train), generator=generator)
    picks = [order[ds.train.y[order] == c][:per_class] for c in torch.unique(ds.train.y)]
    idx = torch.cat(picks)
    run.save_arrays(
        "examples",
        images=ds.to_pixels(ds.train.x[idx]).clamp(0, 1),
        labels=ds.train.y[idx],
        classes=ds.classes,
        per_class=per_class,
    )


def pca_summary(run: Run, ds: Dataset, pca: PCA) -> dict:
    """Components as images and the explained-variance curve of the PCA of the (normalised) training inputs."""
    ratio = pca.explained_variance_ratio  # (D,)
    cumulative = ratio.cumsum(0)
    shown = min(SHOWN_COMPONENTS, len(ratio))
    run.save_arrays(
        "pca",
        components=pca.components[:shown].reshape(shown, *ds.input_shape).float(),
        mean=pca.mean.reshape(ds.input_shape).float(),
        explained_variance=pca.explained_variance,
        explained_variance_ratio=ratio,
    )

    def needed(share: float) -> int:
        return int((cumulative < share - 1e-12).sum()) + 1

    return {
        "pca_explained_variance_ratio_top10": ratio[:shown].tolist(),
        **{f"pca_components_for_{int(s * 100)}pct": needed(s) for s in (0.5, 0.9, 0.95, 0.99)},
    }


def separability(run: Run, ds: Dataset, pca: PCA, k: int) -> dict:
    """The test set on the first two components, and how well kNN tells each class from the rest there."""
    proj = project_2d(ds.test.x, ds.test.y, ds.num_classes, k=k, pca=pca)
    sep = proj.separability
    present = [c for c in range(ds.num_classes) if sep.per_class[c] == sep.per_class[c]]
    run.save_arrays(
        "projection",
        z=proj.z,
        y=ds.test.y,
        separability=sep.per_class,
        classes=ds.classes,
        explained_ratio=proj.explained_ratio,
    )
    run.save_table(
        "separability",
        [
            {
                "class": ds.classes[c],
                "knn_accuracy": float(sep.per_class[c]),
                "test_images": int((ds.test.y == c).sum()),
            }
            for c in present
        ],
    )
    return {
        "knn_k": k,
        "knn_accuracy_2d": sep.accuracy,
        "knn_accuracy_2d_per_class": {ds.classes[c]: float(sep.per_class[c]) for c in present},
    }
