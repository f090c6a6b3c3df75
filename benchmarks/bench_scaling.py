"""Epoch time against training-set size and against width: mlplab's trainer and the DataLoader pipeline, with
the fp32 compute floor of each point, measured in the same run; writes a two-panel figure.

Model 784-W-W-10, batch 256, Adam 1e-3, MNIST. Size sweep: W = 1024, the first N training images, N = 1k ... 60k.
Width sweep: N = 10k, W = 256 ... 4096. The floor of a point is its training FLOPs at the best fp32 matmul rate of
its own layer shapes. Where a curve runs parallel to the floor, compute dominates; where it lies far above it,
per-step (mlplab) or per-sample (DataLoader) overhead does.

    python benchmarks/bench_scaling.py --data ../shared/data [--out benchmarks/results/scaling.png] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import TORCHVISION, floor_seconds, machine_line

from mlplab.data import load_dataset
from mlplab.nn import MLPClassifier
from mlplab.train import Trainer, make_optimizer

BATCH, LR = 256, 1e-3
SIZES, SIZE_WIDTH = [1000, 2000, 5000, 10000, 20000, 60000], 1024
WIDTHS, WIDTH_SIZE = [256, 512, 1024, 2048, 4096], 10000


def dataloader_seconds(root: str, n: int, width: int) -> float:
    """One epoch of the first n images, the notebook way (per-sample ToTensor + Normalize through a DataLoader)."""
    from torchvision import transforms

    cls, mean, std = TORCHVISION["mnist"]
    data = cls(
        root,
        train=True,
        download=False,
        transform=transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)]),
    )
    loader = torch.utils.data.DataLoader(
        torch.utils.data.Subset(data, range(n)),
        batch_size=BATCH,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    torch.manual_seed(0)
    net = MLPClassifier(784, [width, width], 10).net
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    t0 = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    return time.perf_counter() - t0


def mlplab_seconds(train, n: int, width: int) -> float:
    torch.manual_seed(0)
    model = MLPClassifier(784, [width, width], 10)
    trainer = Trainer(
        model,
        make_optimizer(model.parameters(), "adam", LR),
        progress=False,
        generator=torch.Generator().manual_seed(0),
    )
    part = train.subset(n)
    t0 = time.perf_counter()
    trainer.train_epoch(part, BATCH, epoch=1)
    return time.perf_counter() - t0


def sweep(root: str, train, points: list[tuple[int, int]]) -> list[dict]:
    rows = []
    for n, width in points:
        floor, _ = floor_seconds([784, width, width, 10], BATCH, n)
        row = {
            "n": n,
            "width": width,
            "mlplab": mlplab_seconds(train, n, width),
            "dataloader": dataloader_seconds(root, n, width),
            "floor": floor,
        }
        print(
            f"  N {n:6d}  W {width:5d}   mlplab {row['mlplab']:7.3f} s   DataLoader {row['dataloader']:7.3f} s   "
            f"floor {floor:7.3f} s   DataLoader/mlplab {row['dataloader'] / row['mlplab']:5.2f}x   "
            f"mlplab/floor {row['mlplab'] / floor:5.2f}x",
            flush=True,
        )
        rows.append(row)
    return rows


def plot(by_size: list[dict], by_width: list[dict], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, rows, key, label in (
        (axes[0], by_size, "n", f"training images (width {SIZE_WIDTH})"),
        (axes[1], by_width, "width", f"hidden width W ({WIDTH_SIZE:,} images)"),
    ):
        xs = [r[key] for r in rows]
        ax.plot(xs, [r["dataloader"] for r in rows], "o-", label="torchvision DataLoader")
        ax.plot(xs, [r["mlplab"] for r in rows], "s-", label="mlplab trainer")
        ax.plot(xs, [r["floor"] for r in rows], "k--", label="fp32 compute floor")
        ax.set(xscale="log", yscale="log", xlabel=label, ylabel="seconds per epoch")
        ax.set_xticks(xs, [f"{x // 1000}k" if key == "n" else str(x) for x in xs])
        ax.minorticks_off()
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    axes[0].set_title("epoch time against training-set size")
    axes[1].set_title("epoch time against width")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "scaling.png"))
    p.add_argument("--quick", action="store_true", help="smoke run: two points per sweep")
    args = p.parse_args()
    sizes, widths = (SIZES[:2], WIDTHS[:2]) if args.quick else (SIZES, WIDTHS)
    machine = machine_line()
    print(machine)
    train = load_dataset("mnist", data_dir=args.data, val_size=0, download=False).train
    print(f"model 784-W-W-10, batch {BATCH}, Adam {LR:g}; size sweep (W = {SIZE_WIDTH}):")
    by_size = sweep(args.data, train, [(n, SIZE_WIDTH) for n in sizes])
    print(f"width sweep (N = {WIDTH_SIZE}):")
    by_width = sweep(args.data, train, [(WIDTH_SIZE, w) for w in widths])
    plot(by_size, by_width, Path(args.out), machine)
    print(f"figure: {args.out}")


if __name__ == "__main__":
    main()
