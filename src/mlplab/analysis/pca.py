"""PCA by eigendecomposition of the covariance matrix (torch.linalg.eigh), in float64."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class PCA:
    mean: torch.Tensor  # (D,)
    components: torch.Tensor  # (k, D), rows are unit eigenvectors, by decreasing eigenvalue
    explained_variance: torch.Tensor  # (k,) eigenvalues of the covariance
    total_variance: float  # trace of the covariance

    @property
    def explained_variance_ratio(self) -> torch.Tensor:
        return self.explained_variance / self.total_variance

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, k) codes."""
        x = x.reshape(len(x), -1).to(self.mean.dtype)
        return (x - self.mean) @ self.components.T

    def inverse_transform(self, z: torch.Tensor) -> torch.Tensor:
        """(N, k) codes -> (N, D)."""
        return z.to(self.mean.dtype) @ self.components + self.mean

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.inverse_transform(self.transform(x))

    def truncate(self, k: int) -> PCA:
        return PCA(self.mean, self.components[:k], self.explained_variance[:k], self.total_variance)


def fit_pca(x: torch.Tensor, k: int | None = None) -> PCA:
    """Fit on (N, ...) data: eigenvectors of the sample covariance (N - 1 in the denominator)."""
    x = x.reshape(len(x), -1).double()
    n, d = x.shape
    if n < 2:
        raise ValueError("PCA needs at least two examples")
    k = d if k is None else k
    if not 1 <= k <= d:
        raise ValueError(f"k={k} components must be in 1..{d}")
    mean = x.mean(0)
    xc = x - mean
    cov = xc.T @ xc / (n - 1)  # (D, D)
    eigvals, eigvecs = torch.linalg.eigh(cov)  # ascending
    order = torch.argsort(eigvals, descending=True)[:k]
    components = eigvecs[:, order].T.contiguous()  # (k, D)
    # a fixed sign per component (largest |entry| positive) so results do not flip between runs
    flip = torch.sign(components.gather(1, components.abs().argmax(1, keepdim=True)))
    return PCA(mean, components * flip, eigvals[order].clamp_min(0), float(torch.trace(cov)))
