"""`classify`: a configurable MLP classifier on any registered dataset, with a look inside its layers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from mlplab.analysis.activations import activations, find_layer, layer_names
from mlplab.analysis.metrics import confusions, most_confused_pairs, precision_recall
from mlplab.analysis.projection import project_2d
from mlplab.analysis.separability import describe
from mlplab.config import param
from mlplab.data import Dataset
from mlplab.experiments.base import Context, register_experiment
from mlplab.experiments.common import TrainConfig, load_data, make_augment
from mlplab.nn import MLPClassifier
from mlplab.runs import Run
from mlplab.train import Trainer, make_optimizer, make_scheduler

GALLERY_PAIRS, GALLERY_PER_PAIR = 4, 8


@dataclass
class ClassifyConfig(TrainConfig):
    epochs: int = param(20, "passes over the training set", min=1)
    batch_size: int = param(256, "examples per step", min=1)
    lr: float = param(1e-3, "learning rate", min=0, min_exclusive=True)
    schedule: Literal["none", "cosine", "step"] = param("cosine", "learning-rate schedule, stepped per epoch")
    hidden: list[int] = param([1024, 1024], "hidden layer sizes, e.g. hidden=[1024,2048,256]",
                              nonempty=True, item_min=1, item_max=16384)
    activation: Literal["relu", "leaky_relu", "tanh", "sigmoid", "gelu", "elu"] = param("relu", "hidden activation")
    dropout: float = param(0.2, "dropout after every hidden activation", min=0, max=0.95)
    input_dropout: float = param(0.0, "dropout on the input pixels", min=0, max=0.95)
    norm: Literal["none", "batch", "layer"] = param("none", "normalisation after every hidden linear layer")
    augment: list[str] = param([], "batched augmentations: any of crop, flip, affine, e.g. augment=[crop,flip]")
    layers: list[str] = param([], "layers whose test activations are analysed, e.g. layers=[act1,act2]; "
                                  "empty = every hidden layer")
    knn_k: int = param(10, "neighbours for the per-class separability in each layer's 2-D projection", min=1)


def build_classifier(cfg: ClassifyConfig, num_features: int, num_classes: int) -> MLPClassifier:
    return MLPClassifier(num_features, cfg.hidden, num_classes, activation=cfg.activation, dropout=cfg.dropout,
                         norm=cfg.norm, input_dropout=cfg.input_dropout)


def train_classifier(cfg: ClassifyConfig, ctx: Context, ds=None, model=None):
    """Load data, build (unless given) and train the MLP in `ctx.run`; return (model, dataset, trainer, result)."""
    ds = ds or load_data(cfg, ctx.device)
    model = model or build_classifier(cfg, ds.num_features, ds.num_classes).to(ctx.device)
    optimizer = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, weight_decay=cfg.weight_decay,
                               device=ctx.device)
    trainer = Trainer(model, optimizer, run=ctx.run, generator=ctx.generator,
                      scheduler=make_scheduler(optimizer, cfg.schedule, cfg.epochs),
                      augment=make_augment(cfg.augment, ds), monitor="val_accuracy" if len(ds.val) else "train_loss",
                      mode="max" if len(ds.val) else "min")
    result = trainer.fit(ds.train, ds.val, epochs=cfg.epochs, batch_size=cfg.batch_size, resume=ctx.resume)
    return model, ds, trainer, result


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 4096) -> torch.Tensor:
    """Class probabilities (N, K) in eval mode."""
    model.eval()
    return torch.cat([model(x[i:i + batch_size]).softmax(1) for i in range(0, len(x), batch_size)])


@register_experiment("classify", ClassifyConfig, smoke=("hidden=[32]", "epochs=2"))
def run(cfg: ClassifyConfig, ctx: Context) -> dict:
    """MLP classifier with curves, per-class precision/recall, confusions and per-layer 2-D separability."""
    ds = load_data(cfg, ctx.device)
    model = build_classifier(cfg, ds.num_features, ds.num_classes).to(ctx.device)
    layers = cfg.layers or layer_names(model)
    for name in layers:
        find_layer(model, name)  # a wrong name fails now, not after training
    model, ds, trainer, result = train_classifier(cfg, ctx, ds, model)
    test = trainer.evaluate(ds.test)
    probs = predict(model, ds.test.x)
    ctx.run.save_arrays("predictions", y_true=ds.test.y, probs=probs, classes=ds.classes)
    pred = probs.argmax(1).cpu()
    return {
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "best_val_accuracy": result.best_value if len(ds.val) else None,
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
        "epochs_run": len(result.history),
        "parameters": sum(p.numel() for p in model.parameters()),
        "dataset": ds.name,
        **per_class_metrics(ctx.run, ds, pred),
        **layer_analysis(ctx.run, model, ds, layers, cfg.knn_k),
    }


def per_class_metrics(run: Run, ds: Dataset, pred: torch.Tensor) -> dict:
    """Precision and recall per class (table and metrics) and the gallery of the most-confused pairs."""
    y = ds.test.y.cpu()
    cm = confusions(y, pred, ds.num_classes)  # (K, K)
    precision, recall = precision_recall(cm)
    off = cm - torch.diag(cm.diagonal())
    run.save_table("per_class", [
        {"class": c, "precision": float(precision[i]), "recall": float(recall[i]), "support": int(cm[i].sum()),
         "most_often_taken_for": ds.classes[int(off[i].argmax())] if off[i].sum() else ""}
        for i, c in enumerate(ds.classes)])
    save_confused_gallery(run, ds, y, pred, cm)
    return {"precision_per_class": dict(zip(ds.classes, precision.tolist())),
            "recall_per_class": dict(zip(ds.classes, recall.tolist())),
            "macro_precision": float(precision.mean()), "macro_recall": float(recall.mean())}


def save_confused_gallery(run: Run, ds: Dataset, y: torch.Tensor, pred: torch.Tensor, cm: torch.Tensor) -> None:
    """Real misclassified test images of the most-confused class pairs, as pixels, to arrays/confused_pairs.npz."""
    pairs = most_confused_pairs(cm, GALLERY_PAIRS)
    picked, pair_of = [], []
    for p, (a, b, _) in enumerate(pairs):
        wrong = ((y == a) & (pred == b)) | ((y == b) & (pred == a))
        idx = wrong.nonzero().flatten()[:GALLERY_PER_PAIR]
        picked.append(idx)
        pair_of += [p] * len(idx)
    idx = torch.cat(picked) if picked else torch.zeros(0, dtype=torch.long)
    images = ds.to_pixels(ds.test.x[idx.to(ds.test.x.device)]).clamp(0, 1) if ds.is_image else torch.zeros(0)
    run.save_arrays("confused_pairs", images=images, true=y[idx], pred=pred[idx],
                    pair=torch.tensor(pair_of, dtype=torch.long),
                    pairs=torch.tensor(pairs, dtype=torch.long).reshape(-1, 3), classes=ds.classes)


def layer_analysis(run: Run, model: torch.nn.Module, ds: Dataset, layers: list[str], k: int) -> dict:
    """Test inputs and hidden activations on their first two PCs, with kNN separability per class."""
    y = ds.test.y.cpu()
    reps = {"input": ds.test.x.flatten(1).cpu(), **{n: a.cpu() for n, a in
                                                    activations(model, ds.test.x, layers).items()}}
    arrays, rows, overall = {}, [], {}
    for name, features in reps.items():
        proj = project_2d(features, y, ds.num_classes, k=k)
        arrays[f"z_{name}"], arrays[f"ratio_{name}"] = proj.z, proj.explained_ratio
        arrays[f"sep_{name}"] = proj.separability.per_class
        overall[name] = proj.separability.accuracy
        rows.append({"layer": name, "width": features.shape[1], "pc1_pc2_variance": float(proj.explained_ratio.sum()),
                     "knn_accuracy": proj.separability.accuracy, **proj.separability.as_dict(ds.classes)})
        if name in ("input", list(reps)[-1]):
            run.add_note(f"Separability in 2-D: {name}",
                         describe(proj.separability, ds.classes, f"the first two principal components of {name}"))
    run.save_arrays("layers", names=list(reps), y=y, classes=ds.classes, **arrays)
    run.save_table("layer_separability", rows)
    run.add_note("Separation by depth", f"{k}-nearest-neighbour accuracy on the first two principal components: "
                 + " -> ".join(f"{n} {a:.1%}" for n, a in overall.items())
                 + ". Each column of the layer table gives the share of a class's test images whose neighbours "
                   "in that projection carry its label.")
    return {"layer_knn_accuracy": overall}
