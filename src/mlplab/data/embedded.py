"""Datasets that ship with the install: scikit-learn's 8x8 digits and make_moons."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch

from mlplab.data.core import RawData, register_dataset

DIGITS_TEST_SIZE = 360  # 20% of 1797, drawn once with a fixed seed so every run tests on the same images
MOONS_TRAIN, MOONS_TEST, MOONS_NOISE = 8000, 2000, 0.08


@register_dataset("digits")
def load_digits(root: Path, download: bool) -> RawData:
    """1797 8x8 digits (values 0..16) as pixels in [0, 1], shape (N, 1, 8, 8)."""
    images, target = digits_arrays()
    x = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)
    y = torch.from_numpy(target.astype(np.int64))
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(12345))
    test, train = perm[:DIGITS_TEST_SIZE].sort().values, perm[DIGITS_TEST_SIZE:].sort().values
    return RawData(x[train], y[train], x[test], y[test], [str(i) for i in range(10)], default_val=180)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as (images (1797, 8, 8), targets (1797,)), read from the CSV file it ships.

    Importing scikit-learn takes about two seconds (it loads SciPy); the digits are the default dataset of
    every run, so its file is read directly as `sklearn.datasets.load_digits` reads it (a test checks the
    arrays are equal). Where the file is not where this version of scikit-learn keeps it, its loader is used.
    """
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    roots = spec.submodule_search_locations if spec is not None else None
    path = Path(roots[0]) / "datasets" / "data" / "digits.csv.gz" if roots else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_digits as sk_digits

        bunch = sk_digits()
        return bunch.images, bunch.target
    with gzip.open(path, "rt") as fh:
        data = np.loadtxt(fh, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


@register_dataset("moons")
def load_moons(root: Path, download: bool) -> RawData:
    """make_moons: 8,000 training and 2,000 test points, noise 0.08, different random states.

    Features are min-max rescaled to [0, 1] with the training set's statistics only; the
    `minus_one_one` normalisation then gives the [-1, 1] inputs the moons experiment uses.
    """
    from sklearn.datasets import make_moons

    xtr, ytr = make_moons(MOONS_TRAIN, noise=MOONS_NOISE, random_state=0)
    xte, yte = make_moons(MOONS_TEST, noise=MOONS_NOISE, random_state=1)
    lo, hi = xtr.min(axis=0), xtr.max(axis=0)

    def scale(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(((a - lo) / (hi - lo)).astype(np.float32))

    return RawData(
        scale(xtr),
        torch.from_numpy(ytr.astype(np.int64)),
        scale(xte),
        torch.from_numpy(yte.astype(np.int64)),
        ["0", "1"],
        default_val=0,
    )
