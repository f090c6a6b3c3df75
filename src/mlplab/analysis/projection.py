"""A 2-D principal-component view of a representation and how separable the classes are in it."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.analysis.pca import PCA, fit_pca
from mlplab.analysis.separability import Separability, knn_separability


@dataclass
class Projection:
    z: torch.Tensor  # (N, 2) coordinates on the first two principal components
    explained_ratio: torch.Tensor  # (2,) share of the variance each component explains
    separability: Separability


def project_2d(
    x: torch.Tensor, y: torch.Tensor, num_classes: int, *, k: int = 10, pca: PCA | None = None
) -> Projection:
    """Project x (N, ...) on the first two components of `pca` (default: fitted on x) and score kNN per class."""
    pca = (pca or fit_pca(x, 2)).truncate(2)
    z = pca.transform(x.cpu())  # (N, 2)
    return Projection(z.float(), pca.explained_variance_ratio.float(), knn_separability(z, y.cpu(), num_classes, k))
