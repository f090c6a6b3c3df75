"""One MNIST epoch on mlplab's trainer against its peers, all measured in the same run.

Contestants, each on the same model from the same weights, drawing the same batches in the same order:
  torchvision DataLoader   torchvision.datasets.MNIST with ToTensor + Normalize per sample, a DataLoader (seeded
                           shuffle, num_workers=0 unless --workers), torch.optim.Adam with its defaults
  PyTorch Lightning        the same DataLoader and Adam under lightning.Trainer (no logger, no checkpointing, no
                           progress bar, no sanity check: its leanest set-up); the epoch is timed by a callback, so
                           Lightning's set-up is not counted
  mlplab trainer           resident normalised tensors, one permutation per epoch, Trainer with fused Adam
  mlplab trainer, bf16     the same with precision=bf16 (autocast), where the CPU has bf16 matrix instructions
  bare resident loop       the least a resident-tensor loop can do: same permutation, fused Adam, no metrics
Every contestant runs --repeats epochs, interleaved (A B C A B C ...): this 2-core VM's epoch times wander by
10-20% from one minute to the next, so the best of each is compared and the median shown. The trainer's overhead
over the bare loop is smaller than that wander, so it is measured apart, with both in lock-step (one bare step
inside each trainer step, each side's time summed apart), over --lockstep epochs. Recipe (a) also prints its
fp32 compute floor: training FLOPs / the best fp32 matmul FLOP/s measured here, now, on its own layer shapes.

    python benchmarks/bench_trainer.py --data ../shared/data [--recipe a|b|both] [--workers 0] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from functools import partial
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import accuracy, floor_seconds, machine_line, matmul_flops_per_second, seed_pipeline, training_flops

from mlplab.data import load_dataset
from mlplab.device import bf16_support
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer
from mlplab.train.trainer import ONE

RECIPES = {"a": ([1024, 2048, 256], 2048, 1e-3), "b": ([100, 100, 100, 100], 16, 1e-4)}


def fresh_net(hidden: list[int]) -> nn.Module:
    torch.manual_seed(0)
    return MLPClassifier(784, hidden, 10, dropout=0.0).net


def fresh_trainer(hidden: list[int], lr: float, precision: torch.dtype | None = None) -> Trainer:
    torch.manual_seed(0)
    model = MLPClassifier(784, hidden, 10, dropout=0.0)
    return Trainer(
        model,
        make_optimizer(model.parameters(), "adam", lr),
        progress=False,
        generator=torch.Generator().manual_seed(0),
        precision=precision,
    )


def dataloader_epoch(
    root: str, hidden: list[int], batch: int, lr: float, workers: int, limit: int | None
) -> tuple[float, float]:
    """The notebook way: per-sample transforms through a DataLoader. Returns (seconds, test accuracy)."""
    loader, (xt, yt) = seed_pipeline("mnist", root, batch, workers)
    model = fresh_net(hidden)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    for i, (x, y) in enumerate(loader):
        if limit is not None and i == limit:
            break
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return time.perf_counter() - t0, accuracy(model, xt, yt)


def lightning_epoch(
    root: str, hidden: list[int], batch: int, lr: float, workers: int, limit: int | None
) -> tuple[float, float]:
    import logging
    import warnings

    import lightning as L

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = fresh_net(hidden)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=lr)

    class EpochClock(L.Callback):
        def on_train_epoch_start(self, trainer, module):
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, module):
            self.seconds = time.perf_counter() - self.t0

    loader, (xt, yt) = seed_pipeline("mnist", root, batch, workers)
    module, clock = Module(), EpochClock()
    trainer = L.Trainer(
        max_epochs=1,
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_train_batches=limit if limit is not None else 1.0,
        callbacks=[clock],
    )
    trainer.fit(module, loader)
    return clock.seconds, accuracy(module.net, xt, yt)


def mlplab_epoch(
    root: str, hidden: list[int], batch: int, lr: float, limit: int | None, precision: torch.dtype | None = None
) -> tuple[float, float]:
    ds = load_dataset("mnist", data_dir=root, val_size=0, download=False)
    train = ds.train if limit is None else ds.train.subset(limit * batch)
    trainer = fresh_trainer(hidden, lr, precision)
    t0 = time.perf_counter()
    trainer.train_epoch(train, batch, epoch=1)
    seconds = time.perf_counter() - t0
    return seconds, trainer.evaluate(ds.test)["accuracy"]


def bare_steps(train, net: nn.Module, opt: torch.optim.Optimizer, batch: int):
    """The least a resident-tensor loop can do: same permutation, fused Adam, no metrics, no checks; one step per
    next()."""
    perm = torch.randperm(len(train), generator=torch.Generator().manual_seed(0))
    x, y = train.x[perm], train.y[perm]
    for i in range(0, len(x), batch):
        loss = nn.functional.cross_entropy(net(x[i : i + batch]), y[i : i + batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        yield


def bare_contestant(root: str, hidden: list[int], batch: int, lr: float, limit: int | None) -> tuple[float, None]:
    """bare_epoch as a contestant: (seconds, no test accuracy)."""
    return bare_epoch(root, hidden, batch, lr, limit), None


def bare_epoch(root: str, hidden: list[int], batch: int, lr: float, limit: int | None) -> float:
    ds = load_dataset("mnist", data_dir=root, val_size=0, download=False)
    train = ds.train if limit is None else ds.train.subset(limit * batch)
    net = fresh_net(hidden)
    opt = make_optimizer(net.parameters(), "adam", lr)
    t0 = time.perf_counter()
    for _ in bare_steps(train, net, opt, batch):
        pass
    return time.perf_counter() - t0


def lockstep_overhead(root: str, hidden: list[int], batch: int, lr: float, limit: int | None) -> float:
    """The trainer's epoch and the bare loop's run in lock-step, one bare step inside each trainer step (in the
    trainer's optimizer's post-step hook), each side's time summed apart: a slow phase of the machine slows both
    alike, so the ratio holds to about a percent where back-to-back epochs differ by ten. Returns trainer / bare."""
    ds = load_dataset("mnist", data_dir=root, val_size=0, download=False)
    train = ds.train if limit is None else ds.train.subset(limit * batch)
    net = fresh_net(hidden)
    steps, bare_seconds = bare_steps(train, net, make_optimizer(net.parameters(), "adam", lr), batch), [0.0]
    trainer = fresh_trainer(hidden, lr)

    def one_bare_step(*_):
        t = time.perf_counter()
        next(steps, None)
        bare_seconds[0] += time.perf_counter() - t

    trainer.optimizers[ONE].register_step_post_hook(one_bare_step)
    t0 = time.perf_counter()
    trainer.train_epoch(train, batch, epoch=1)
    total = time.perf_counter() - t0
    assert next(steps, "done") == "done", "the bare loop must have run exactly as many steps as the trainer"
    return (total - bare_seconds[0]) / bare_seconds[0]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--recipe", choices=["a", "b", "both"], default="both")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="smoke run: 20 batches per contestant, one repeat")
    p.add_argument("--repeats", type=int, default=3, help="epochs per contestant, interleaved; the best is compared")
    p.add_argument(
        "--lockstep", type=int, default=5, help="epochs of trainer and bare loop in lock-step, for the overhead"
    )
    args = p.parse_args()
    limit = 20 if args.quick else None
    args.repeats, args.lockstep = (1, 1) if args.quick else (args.repeats, args.lockstep)
    if importlib.util.find_spec("lightning") is None:
        sys.exit("PyTorch Lightning, the peer this benchmark measures, is not installed: pip install -e '.[bench]'")
    bf16_ok, bf16_line = bf16_support(torch.device("cpu"))
    print(machine_line())
    for name in ["a", "b"] if args.recipe == "both" else [args.recipe]:
        hidden, batch, lr = RECIPES[name]
        recipe = (args.data, hidden, batch, lr)  # bound now (partial), not read from the loop when called
        contestants = [
            ("torchvision DataLoader", partial(dataloader_epoch, *recipe, args.workers, limit)),
            ("PyTorch Lightning", partial(lightning_epoch, *recipe, args.workers, limit)),
            ("mlplab trainer", partial(mlplab_epoch, *recipe, limit)),
        ]
        if bf16_ok:
            contestants.append(("mlplab trainer, bf16", partial(mlplab_epoch, *recipe, limit, torch.bfloat16)))
        contestants.append(("bare resident loop", partial(bare_contestant, *recipe, limit)))
        # interleaved repeats; each contestant's best epoch time (the least disturbed by the machine) is compared
        times: dict[str, list[float]] = {label: [] for label, _ in contestants}
        accs: dict[str, float | None] = {}
        for _ in range(args.repeats):
            for label, fn in contestants:
                seconds, accs[label] = fn()
                times[label].append(seconds)
        rows = [(label, min(times[label]), statistics.median(times[label]), accs[label]) for label, _ in contestants]
        base = rows[0][1]
        print(
            f"\nrecipe ({name}) 784-{'-'.join(map(str, hidden))}-10, batch {batch}, Adam {lr:g}, one epoch"
            + (f" ({limit} batches)" if limit else "")
        )
        print(f"  {'contestant':26s} {'best s':>8s} {'median s':>9s} {'vs DataLoader':>14s} {'test accuracy':>14s}")
        for label, best, median, acc in rows:
            print(
                f"  {label:26s} {best:8.2f} {median:9.2f} {base / best:13.2f}x "
                f"{'-' if acc is None else f'{acc:.4f}':>14s}"
            )
        ours = rows[2][1]
        print(
            f"  mlplab vs Lightning: {rows[1][1] / ours:.2f}x faster; vs the DataLoader: {base / ours:.2f}x faster "
            f"({args.repeats} interleaved repeats, best of each)"
        )
        # the trainer's overhead is a few percent, below this machine's drift from one epoch to the next: measure
        # it with both loops in lock-step, a few epochs, and take the median
        ratios = sorted(lockstep_overhead(args.data, hidden, batch, lr, limit) for _ in range(args.lockstep))
        print(
            f"  mlplab trainer overhead over the bare loop: {100 * (statistics.median(ratios) - 1):+.1f}% "
            f"(median of {args.lockstep} epochs run in lock-step; {100 * (ratios[0] - 1):+.1f}% to "
            f"{100 * (ratios[-1] - 1):+.1f}%)"
        )
        if not bf16_ok:
            print(f"  bf16: not measured ({bf16_line})")
        if name == "a":
            n = len(range(0, 60000, batch)) * batch if limit is None else limit * batch
            floor, rate = floor_seconds([784, *hidden, 10], batch, n)
            print(
                f"  fp32 compute floor: {training_flops([784, *hidden, 10], n) / 1e12:.3f} TFLOP at "
                f"{rate / 1e9:.1f} GFLOP/s (best fp32 matmuls of these shapes) = {floor:.2f} s; "
                f"mlplab fp32 at {ours / floor:.2f}x the floor"
                + (f", bf16 at {rows[3][1] / floor:.2f}x" if bf16_ok else "")
            )
            peak = matmul_flops_per_second()
            print(
                f"  (at the 2048x2048x2048 fp32 matmul peak, {peak / 1e9:.1f} GFLOP/s, the floor would be "
                f"{training_flops([784, *hidden, 10], n) / peak:.2f} s: these layer shapes run below the peak)"
            )


if __name__ == "__main__":
    main()
