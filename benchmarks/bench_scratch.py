"""One epoch of the from-scratch NumPy MLP vs the same torch.nn MLP on CPU, measured in the same run.

Both get the same data (resident arrays), the same batch order, the same batch size, the same initial weights
and the same update (SGD with momentum); torch runs torch.nn.Linear/ReLU, F.cross_entropy, autograd and
torch.optim.SGD, the scratch engine its hand-written forward, backward and SGD. Repeats are interleaved so that
both see the same machine load; the best of each is compared. Thread counts: set OMP_NUM_THREADS (and
MKL_NUM_THREADS) before starting; both NumPy's BLAS and torch read them, and the script prints what it got.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python benchmarks/bench_scratch.py --data-dir ../shared/data
    (without MNIST under --data-dir it uses the embedded digits, upsampled to 28x28)
"""

from __future__ import annotations

import argparse
import os
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mlplab.data import load_dataset
from mlplab.nn import MLPClassifier
from mlplab.scratch import MLP
from mlplab.scratch.loop import batch_order


def load(data_dir: str | None) -> tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if data_dir and (Path(data_dir) / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        ds = load_dataset("mnist", data_dir=data_dir, val_size=0)
    else:
        ds = load_dataset("digits", image_size=28, val_size=0)
    return (ds.name, ds.train.x.flatten(1).numpy(), ds.train.y.numpy(), ds.test.x.flatten(1).numpy(), ds.test.y.numpy())


def scratch_epoch(model: MLP, x: np.ndarray, y: np.ndarray, order: list[np.ndarray]) -> float:
    start = time.perf_counter()
    for idx in order:
        model.training_step(x[idx], y[idx])
    return time.perf_counter() - start


def torch_epoch(
    net: torch.nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, order: list[torch.Tensor]
) -> float:
    start = time.perf_counter()
    for idx in order:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x[idx]), y[idx]).backward()
        opt.step()
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.environ.get("MLPLAB_TEST_DATA"), help="folder holding MNIST/raw")
    p.add_argument("--hidden", default="100", help="hidden sizes, comma-separated (784-100-10 by default)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    hidden = [int(h) for h in args.hidden.split(",")]
    name, x, y, xt, yt = load(args.data_dir)
    x, xt = x.astype(args.dtype), xt.astype(args.dtype)
    tdtype = torch.float32 if args.dtype == "float32" else torch.float64
    print(
        f"data: {name}, {len(x)} training examples; MLP {x.shape[1]}-{'-'.join(map(str, hidden))}-10, "
        f"batch {args.batch_size}, SGD lr {args.lr} momentum {args.momentum}, {args.dtype}"
    )
    print(
        f"threads: torch {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
        f"MKL_NUM_THREADS={os.environ.get('MKL_NUM_THREADS')}"
    )
    rng = np.random.default_rng(0)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    times: dict[str, list[float]] = {"scratch": [], "torch": []}
    for r in range(args.repeats):
        order = batch_order(len(x), args.batch_size, rng)
        ours = MLP(x.shape[1], hidden, 10, dtype=args.dtype, seed=r, lr=args.lr, momentum=args.momentum)
        net = MLPClassifier(x.shape[1], hidden, 10, dropout=0.0).net.to(tdtype)
        with torch.no_grad():
            for k, v in ours.state().items():
                net.get_parameter(k).copy_(torch.from_numpy(v))
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
        torder = [torch.from_numpy(i) for i in order]
        runs = [
            ("scratch", partial(scratch_epoch, ours, x, y, order)),  # bound now, not read from the loop
            ("torch", partial(torch_epoch, net, opt, xs, ys, torder)),
        ]
        for key, fn in runs if r % 2 == 0 else runs[::-1]:  # alternate who goes first
            times[key].append(fn())
        acc_s = float((ours.predict_proba(xt).argmax(1) == yt).mean())
        with torch.no_grad():
            acc_t = float((net(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
        print(
            f"repeat {r + 1}: scratch {times['scratch'][-1]:.3f} s (test acc {acc_s:.4f}), "
            f"torch {times['torch'][-1]:.3f} s (test acc {acc_t:.4f})"
        )
    best_s, best_t = min(times["scratch"]), min(times["torch"])
    print(
        f"best epoch: scratch {best_s:.3f} s, torch {best_t:.3f} s; scratch / torch = {best_s / best_t:.2f} "
        f"(target <= 2)"
    )


if __name__ == "__main__":
    main()
