"""One MNIST epoch: mlplab's trainer vs the usual torchvision pipeline, measured in the same run.

Baseline: torchvision.datasets.MNIST with ToTensor + Normalize per sample, a DataLoader (shuffle, default
num_workers=0 unless --workers), the same model, torch.optim.Adam with its defaults, the same batch size.
Both start from the same weights and draw the same batches in the same order (one seeded permutation),
so their accuracies differ only by arithmetic (normalisation constants, fused vs. unfused Adam).
mlplab: resident normalised tensors, one permutation per epoch, the Trainer with fused Adam.
Also prints recipe (a)'s compute floor: its training FLOPs / matmul FLOP/s measured here, now.

    python benchmarks/bench_trainer.py --data ../shared/data [--recipe a|b|both] [--workers 0]
"""
from __future__ import annotations

import argparse
import time

import torch
import torchvision
from torch import nn
from torchvision import transforms

from mlplab.data import load_dataset
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer

RECIPES = {"a": ([1024, 2048, 256], 2048, 1e-3), "b": ([100, 100, 100, 100], 16, 1e-4)}


def baseline_epoch(root: str, hidden: list[int], batch: int, lr: float, workers: int) -> tuple[float, float]:
    """The notebook way: per-sample transforms through a DataLoader. Returns (seconds, test accuracy)."""
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = torchvision.datasets.MNIST(root, train=True, download=False, transform=tf)
    test = torchvision.datasets.MNIST(root, train=False, download=False, transform=tf)
    # the same seeded permutation as mlplab's batch iterator, so both runs see the same batches in the same order
    loader = torch.utils.data.DataLoader(train, batch_size=batch, shuffle=True, num_workers=workers,
                                         generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = MLPClassifier(784, hidden, 10, dropout=0.0).net
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    model.train()
    for x, y in loader:
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    seconds = time.perf_counter() - t0
    correct = 0
    model.eval()
    with torch.no_grad():
        for x, y in torch.utils.data.DataLoader(test, batch_size=1000):
            correct += (model(x).argmax(1) == y).sum().item()
    return seconds, correct / len(test)


def mlplab_epoch(root: str, hidden: list[int], batch: int, lr: float) -> tuple[float, float]:
    ds = load_dataset("mnist", data_dir=root, val_size=0, download=False)
    torch.manual_seed(0)
    model = MLPClassifier(784, hidden, 10, dropout=0.0)
    trainer = Trainer(model, make_optimizer(model.parameters(), "adam", lr), progress=False,
                      generator=torch.Generator().manual_seed(0))
    t0 = time.perf_counter()
    trainer.train_epoch(ds.train, batch, epoch=1)
    seconds = time.perf_counter() - t0
    return seconds, trainer.evaluate(ds.test)["accuracy"]


def bare_epoch(root: str, hidden: list[int], batch: int, lr: float) -> float:
    """The least a resident-tensor loop can do: same permutation, fused Adam, no metrics, no checks."""
    ds = load_dataset("mnist", data_dir=root, val_size=0, download=False)
    torch.manual_seed(0)
    net = MLPClassifier(784, hidden, 10, dropout=0.0).net
    opt = make_optimizer(net.parameters(), "adam", lr)
    t0 = time.perf_counter()
    perm = torch.randperm(len(ds.train), generator=torch.Generator().manual_seed(0))
    x, y = ds.train.x[perm], ds.train.y[perm]
    for i in range(0, len(x), batch):
        loss = nn.functional.cross_entropy(net(x[i:i + batch]), y[i:i + batch])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def training_flops(sizes: list[int], n: int) -> float:
    """Forward 2*W, weight gradients 2*W, input gradients 2*W for every layer but the first (per example)."""
    weights = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
    return n * (4 * sum(weights) + 2 * sum(weights[1:]))


def matmul_flops_per_second(size: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--recipe", choices=["a", "b", "both"], default="both")
    p.add_argument("--workers", type=int, default=0)
    args = p.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for name in (["a", "b"] if args.recipe == "both" else [args.recipe]):
        hidden, batch, lr = RECIPES[name]
        base_s, base_acc = baseline_epoch(args.data, hidden, batch, lr, args.workers)
        ours_s, ours_acc = mlplab_epoch(args.data, hidden, batch, lr)
        bare_s = bare_epoch(args.data, hidden, batch, lr)
        print(f"recipe ({name}) 784-{'-'.join(map(str, hidden))}-10, batch {batch}, Adam {lr:g}")
        print(f"  torchvision DataLoader: {base_s:7.2f} s/epoch  test accuracy {base_acc:.4f}")
        print(f"  mlplab trainer:         {ours_s:7.2f} s/epoch  test accuracy {ours_acc:.4f}")
        print(f"  bare resident loop:     {bare_s:7.2f} s/epoch  (no trainer: the eager-PyTorch limit, "
              f"{base_s / bare_s:.2f}x the baseline)")
        print(f"  speed-up: {base_s / ours_s:.2f}x   accuracy difference: {100 * (ours_acc - base_acc):+.2f} points   "
              f"trainer overhead over the bare loop: {100 * (ours_s / bare_s - 1):+.0f}%")
        if name == "a":
            flops = training_flops([784, *hidden, 10], 60000)
            rate = matmul_flops_per_second()
            floor = flops / rate
            print(f"  compute floor: {flops / 1e12:.3f} TFLOP / {rate / 1e9:.1f} GFLOP/s = {floor:.2f} s; "
                  f"mlplab at {ours_s / floor:.2f}x the floor")


if __name__ == "__main__":
    main()
