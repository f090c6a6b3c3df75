"""How separable each class is in a low-dimensional projection: leave-one-out k-nearest-neighbour accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from mlplab.errors import UserError


@dataclass
class Separability:
    per_class: torch.Tensor  # (K,) fraction of class-c points whose k neighbours vote c (NaN if c is absent)
    accuracy: float  # over all points
    k: int

    def as_dict(self, classes: Sequence[str]) -> dict[str, float]:
        return {name: float(v) for name, v in zip(classes, self.per_class, strict=True)}


def check_knn(y: torch.Tensor, k: int) -> None:
    """UserError unless the points labelled y (N,) allow a kNN separability with k neighbours: an experiment
    calls it on the data it will project before training, so that a bad `knn_k` costs no training."""
    present = torch.unique(y)
    if len(present) < 2:
        raise UserError(
            f"a projection needs at least two classes to separate, but the data has only "
            f"{len(present)} ({present.tolist()}); use a dataset or class selection with two or more"
        )
    if len(y) <= k:
        raise UserError(
            f"config key 'knn_k': k={k} neighbours need more than {k} points, but there are {len(y)}; lower k"
        )


def knn_separability(
    z: torch.Tensor, y: torch.Tensor, num_classes: int, k: int = 10, chunk: int = 1024
) -> Separability:
    """Leave-one-out kNN accuracy per class of the points z (N, d) with labels y (N,)."""
    check_knn(y, k)
    z = z.double()
    votes = []
    for start in range(0, len(z), chunk):
        d = torch.cdist(z[start : start + chunk], z)  # (B, N)
        rows = torch.arange(start, min(start + chunk, len(z)))
        d[rows - start, rows] = float("inf")  # leave the point itself out
        nearest = d.topk(k, dim=1, largest=False).indices  # (B, k)
        counts = torch.nn.functional.one_hot(y[nearest], num_classes).sum(1)  # (B, K)
        votes.append(counts.argmax(1))
    correct = (torch.cat(votes) == y).double()  # (N,)
    hits = torch.zeros(num_classes, dtype=torch.float64).index_add_(0, y, correct)
    sizes = torch.bincount(y, minlength=num_classes).double()
    per_class = torch.where(sizes > 0, hits / sizes.clamp_min(1), torch.full_like(hits, float("nan")))
    return Separability(per_class, float(correct.mean()), k)
