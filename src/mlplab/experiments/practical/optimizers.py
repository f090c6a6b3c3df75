"""`optimizers`: SGD, SGD with momentum and Adam (mlplab.optim) on 2-D loss surfaces and on a real MLP."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mlplab.analysis.surfaces import PRACTICAL_SURFACES, SURFACES, Surface, get_surface, grid, optimize
from mlplab.config import BaseConfig, param
from mlplab.data import dataset_for
from mlplab.data.vision import with_practical_stats
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPClassifier
from mlplab.optim import SGD, Adam, SGDMomentum
from mlplab.train import TrainConfig, evaluate, fit_named

OPTIMIZERS = ("SGD", "SGDMomentum", "Adam")
NET_OPTIMIZERS = dict(zip(OPTIMIZERS, ("scratch-sgd", "scratch-sgdm", "scratch-adam"), strict=True))


@dataclass
class OptimizersConfig(BaseConfig):
    surface: str = param(
        "practical", "surfaces, comma-separated: practical (= curvature,steep-optima) or any of " + ", ".join(SURFACES)
    )
    updates: int = param(100, "optimizer steps on each surface", min=1)
    lrs: list[float] = param(
        [],
        "learning rates of SGD, SGDMomentum, Adam on the surfaces; empty = each surface's "
        "own (curvature 10, 10, 1; steep-optima 0.5, 1, 0.2)",
    )
    start: list[float] = param([], "start (w1, w2) on every surface; empty = each surface's own")
    momentum: float = param(0.9, "beta of SGDMomentum, in [0, 1)")
    beta1: float = param(0.9, "Adam's beta1, in [0, 1)")
    beta2: float = param(0.999, "Adam's beta2, in [0, 1)")
    network: bool = param(True, "also train an MLP with each optimizer on `dataset` and compare their curves")
    hidden: list[int] = param([512, 256, 256, 128], "hidden sizes of that MLP", nonempty=True, item_min=1)
    net_lrs: list[float] = param([0.1, 0.1, 1e-3], "learning rates of SGD, SGDMomentum, Adam on the MLP")
    epochs: int = param(8, "epochs of each MLP", min=1)
    batch_size: int = param(256, "examples per step for the MLP", min=1)

    def check(self) -> None:
        for key in ("momentum", "beta1", "beta2"):
            value = getattr(self, key)
            if not 0 <= value < 1:
                raise UserError(f"config key {key!r}: {value!r} is out of range; it must be in [0, 1)")
        for key in ("lrs", "net_lrs"):
            values = getattr(self, key)
            if values and (len(values) != 3 or min(values) <= 0):
                raise UserError(
                    f"config key {key!r}: {values!r} must be three learning rates > 0 "
                    f"(SGD, SGDMomentum, Adam), e.g. {key}=[0.1,0.1,0.001]"
                )
        if not self.net_lrs:
            raise UserError("config key 'net_lrs' is empty; give three learning rates, e.g. net_lrs=[0.1,0.1,0.001]")
        if self.start and len(self.start) != 2:
            raise UserError(f"config key 'start': {self.start!r} must be two numbers (w1, w2), e.g. start=[1,1]")
        self.surfaces()

    def surfaces(self) -> list[Surface]:
        names = [n.strip() for n in self.surface.split(",") if n.strip()]
        names = [s for n in names for s in (PRACTICAL_SURFACES if n == "practical" else (n,))]
        if not names:
            raise UserError("config key 'surface' is empty; e.g. surface=practical or surface=rosenbrock")
        return [get_surface(n) for n in dict.fromkeys(names)]


def optimizer_makers(cfg: OptimizersConfig, lrs: tuple[float, float, float]):
    """name -> params -> optimizer, at the given learning rates."""
    return {
        "SGD": lambda p: SGD(p, lrs[0]),
        "SGDMomentum": lambda p: SGDMomentum(p, lrs[1], momentum=cfg.momentum),
        "Adam": lambda p: Adam(p, lrs[2], beta1=cfg.beta1, beta2=cfg.beta2),
    }


@register_experiment("optimizers", OptimizersConfig, smoke=("updates=20", "epochs=1", "hidden=[16]"))
def run(cfg: OptimizersConfig, ctx: Context) -> dict:
    """SGD, SGD with momentum and Adam on pathological 2-D surfaces (trajectories) and on an MLP (curves)."""
    rows, metrics = [], {}
    for s in cfg.surfaces():
        lrs = tuple(cfg.lrs) if cfg.lrs else s.lrs
        start = tuple(cfg.start) if cfg.start else s.start
        arrays = {"grid": grid(s.fn, s.extent), "extent": torch.tensor(s.extent), "optimizers": list(OPTIMIZERS)}
        for name, make in optimizer_makers(cfg, lrs).items():
            traj = optimize(s.fn, make, start, cfg.updates)  # (updates + 1, 3)
            arrays[f"traj_{name}"] = traj
            end = traj[-1].tolist()
            finite = all(math.isfinite(v) for v in end)
            rows.append(
                {
                    "surface": s.name,
                    "optimizer": name,
                    "lr": lrs[OPTIMIZERS.index(name)],
                    "start_w1": start[0],
                    "start_w2": start[1],
                    "end_w1": end[0],
                    "end_w2": end[1],
                    "end_loss": end[2],
                    "lowest_loss": float(traj[:, 2].nan_to_num(math.inf).min()),
                    "diverged": not finite,
                }
            )
            metrics[f"{s.name}/{name}/end"] = end[:2]
        ctx.run.save_arrays(f"surface_{s.name}", formula=s.formula, **arrays)
    ctx.run.save_table("end_points", rows)
    if cfg.network:
        metrics.update(compare_on_network(cfg, ctx))
    return metrics


def compare_on_network(cfg: OptimizersConfig, ctx: Context) -> dict:
    """The same MLP (same initial weights) trained with each optimizer; curves share one figure."""
    base = TrainConfig(**cfg.data_keys(), epochs=cfg.epochs, batch_size=cfg.batch_size)
    ds = with_practical_stats(dataset_for(base, ctx.device))
    torch.manual_seed(cfg.seed)
    init = MLPClassifier(ds.num_features, cfg.hidden, ds.num_classes).state_dict()
    rows, out = [], {}
    for (name, scratch), lr in zip(NET_OPTIMIZERS.items(), cfg.net_lrs, strict=True):
        model = MLPClassifier(ds.num_features, cfg.hidden, ds.num_classes)
        model.load_state_dict(init)
        model.to(ctx.device)
        settings = TrainConfig(**{**base.to_dict(), "optimizer": scratch, "lr": lr})
        gen = torch.Generator().manual_seed(cfg.seed)  # same batches for every optimizer
        fit = fit_named(model, ds, settings, ctx.run, gen, name, resume=ctx.resume)
        test = evaluate(model, ds.test)
        row = {
            "optimizer": name,
            "lr": lr,
            "test_accuracy": test["accuracy"],
            "test_loss": test["loss"],
            "final_train_loss": fit.history[-1]["train_loss"],
            "train_seconds": fit.train_seconds,
        }
        rows.append(row)
        out[f"network/{name}/test_accuracy"] = test["accuracy"]
    ctx.run.save_table("network", rows)
    return {**out, "network_dataset": ds.name, "network_hidden": cfg.hidden}
