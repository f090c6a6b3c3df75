"""Loading users' own data: MNIST written out as 70,000 PNGs (folder:) and as an .npz, first load (decoding, in
parallel worker processes) and cached load (the decoded cache), against the IDX path of dataset=mnist, in one run.

Every time is load_dataset(...) to resident normalised tensors, best of `--repeats` (the first load: once, on an
empty decoded cache). The PNGs are written once into --work (not timed). The machine is shared: the load
average is printed beside the table.

    python benchmarks/bench_own_data.py --data ../shared/data [--work /tmp/mnist-png] [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine_line

from mlplab.data import load_dataset
from mlplab.data.sources import decode
from mlplab.data.vision import load_mnist


def write_png_folder(data: str, root: Path, n_train: int, n_test: int) -> int:
    """MNIST as root/train/CLASS/i.png and root/test/CLASS/i.png (IDX order within a class); returns the count."""
    from PIL import Image

    raw = load_mnist(Path(data), download=False)
    count = 0
    for split, x, y, n in (("train", raw.x_train, raw.y_train, n_train), ("test", raw.x_test, raw.y_test, n_test)):
        pixels = (x[:n, 0] * 255).round().byte().numpy()
        for c in raw.classes:
            (root / split / c).mkdir(parents=True, exist_ok=True)
        for i, (a, label) in enumerate(zip(pixels, y[:n].tolist(), strict=True)):
            Image.fromarray(a).save(root / split / raw.classes[label] / f"{i:05d}.png")
            count += 1
    return count


def seconds(fn, repeats: int = 1) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="folder holding MNIST/raw (torchvision layout)")
    p.add_argument("--work", help="where the PNGs and the decoded cache go (default: a temporary folder)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="2,000 + 500 images, one repeat (a smoke run)")
    args = p.parse_args()
    n_train, n_test = (2000, 500) if args.quick else (60000, 10000)
    repeats = 1 if args.quick else args.repeats
    work = Path(args.work or tempfile.mkdtemp(prefix="mlplab-own-data-"))
    os.environ["MLPLAB_DATA"] = str(work / "mlplab-data")  # an empty decoded cache
    shutil.rmtree(work / "mlplab-data", ignore_errors=True)
    folder = work / "png"
    if not (folder / "test").is_dir():
        t = time.perf_counter()
        n = write_png_folder(args.data, folder, n_train, n_test)
        print(f"wrote {n:,} PNGs in {time.perf_counter() - t:.1f} s (not timed below)", file=sys.stderr)
    n = sum(1 for _ in folder.rglob("*.png"))
    raw = load_mnist(Path(args.data), download=False)
    to_u8 = lambda x: (x[:, 0] * 255).round().byte().numpy()
    np.savez(
        work / "mnist.npz",
        x_train=to_u8(raw.x_train[:n_train]),
        y_train=raw.y_train[:n_train].numpy(),
        x_test=to_u8(raw.x_test[:n_test]),
        y_test=raw.y_test[:n_test].numpy(),
    )

    def idx():
        load_dataset("mnist", data_dir=args.data, download=False)

    source = f"folder:{folder}"
    rows = [("mnist (IDX files)", seconds(idx, repeats))]
    load = os.getloadavg()[0]
    # first loads (decoding into an empty cache) in worker processes and in one process, interleaved, each best of
    # `repeats`: a single first load per mode once made the earlier one pay for the file system's cold caches
    workers = decode.workers
    first = {"parallel": float("inf"), "serial": float("inf")}
    for _ in range(repeats):
        for mode in first:
            shutil.rmtree(work / "mlplab-data", ignore_errors=True)
            decode.workers = workers if mode == "parallel" else (lambda: 1)
            first[mode] = min(first[mode], seconds(lambda: load_dataset(source)))
    decode.workers = workers
    rows.append(("folder: first load (decoding, empty cache)", first["parallel"]))
    rows.append(("folder: cached load", seconds(lambda: load_dataset(source), repeats)))
    rows.append(("folder: first load, one process", first["serial"]))
    rows.append(("npz: load", seconds(lambda: load_dataset(f"npz:{work / 'mnist.npz'}"), repeats)))
    idx_s = rows[0][1]
    print(machine_line())
    print(
        f"MNIST as {n:,} PNGs ({n_train:,} train + {n_test:,} test) and as an .npz; load_dataset to normalised "
        f"tensors, best of {repeats} (first loads: each on an empty cache); {decode.workers()} decoding processes; "
        f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"
    )
    for name, s in rows:
        print(f"  {name:<44} {s:8.2f} s   {s / idx_s:7.1f}x the IDX path")
    first, cached, serial = rows[1][1], rows[2][1], rows[3][1]
    print(
        f"  the cache makes the second load {first / cached:.0f}x faster than the first; decoding in "
        f"{decode.workers()} processes is {serial / first:.2f}x faster than in one"
    )
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
