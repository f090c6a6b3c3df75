"""How good and how varied a generator's images are, in the eyes of an independent judge (a classifier).

decent fraction and label histogram from the judge's probabilities; Fréchet distance and precision /
recall / density / coverage (Naeem et al. 2020, k-NN manifolds) in the judge's penultimate features;
memorisation in pixel space; and a mode-collapse detector over the evaluations of a run.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from mlplab.analysis.activations import activations

DECENT = 0.9  # the judge must give the chosen class at least this probability
K = 5  # neighbours that make the k-NN manifolds
MEMORISED_QUANTILE = 0.05  # a sample closer to the training set than 95% of real test images is "memorised"


# ---- the judge's view ------------------------------------------------------------------------------
def penultimate_layer(model: nn.Module) -> str:
    """The name of the last hidden activation (`act*`) of a classifier: the judge's feature layer."""
    names = [n for n, m in model.named_modules() if n and n.rsplit(".", 1)[-1].startswith("act")]
    if not names:
        raise ValueError(f"{type(model).__name__} has no layer named act*, so no penultimate features")
    return names[-1]


@torch.no_grad()
def judge_view(judge: nn.Module, x: torch.Tensor, batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The judge's class probabilities (N, K) and penultimate features (N, F) of images x, in eval mode."""
    layer = penultimate_layer(judge)
    logits: list[torch.Tensor] = []
    was = judge.training
    judge.eval()
    try:
        feats = activations(judge, x, [layer], batch_size)[layer]
        for i in range(0, len(x), batch_size):
            logits.append(judge(x[i : i + batch_size]))
    finally:
        judge.train(was)
    probs = torch.cat(logits).softmax(1)
    return probs.double().cpu().numpy(), feats.double().cpu().numpy()


def decent_fraction(probs: np.ndarray, cls: int, threshold: float = DECENT) -> float:
    """Share of images the judge assigns to `cls` with probability >= threshold."""
    return float((probs[:, cls] >= threshold).mean())


def label_histogram(probs: np.ndarray) -> np.ndarray:
    """How many images the judge labels as each class, (K,) counts."""
    return np.bincount(probs.argmax(1), minlength=probs.shape[1])


# ---- distances between two sets of features --------------------------------------------------------
def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||² + Tr(S_a + S_b - 2 (S_a S_b)^½) of Gaussians fitted to features a (N, F), b (M, F)."""
    import scipy.linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # fewer samples than features make S singular; the root is still right
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        root = scipy.linalg.sqrtm(s_a @ s_b)
        if not np.isfinite(root).all():  # nudge both covariances off zero (as FID code does)
            eps = 1e-6 * np.eye(len(s_a))
            root = scipy.linalg.sqrtm((s_a + eps) @ (s_b + eps))
    root = root.real  # numerical noise leaves tiny imaginary parts
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * np.trace(root))


def knn_radii(x: np.ndarray, k: int = K) -> np.ndarray:
    """Distance of every point to its k-th nearest other point, (N,)."""
    from sklearn.neighbors import NearestNeighbors  # scikit-learn and SciPy load when first needed (a second)

    dist, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return dist[:, k]  # column 0 is the point itself


def prdc(real: np.ndarray, fake: np.ndarray, k: int = K) -> dict[str, float]:
    """Precision, recall, density and coverage of `fake` against `real` (Naeem et al. 2020), k-NN balls."""
    from sklearn.metrics import pairwise_distances

    r_real, r_fake = knn_radii(real, k), knn_radii(fake, k)
    d = pairwise_distances(real, fake)  # (N_real, N_fake)
    inside_real = d < r_real[:, None]  # fake j lies in the ball of real i
    return {
        "precision": float(inside_real.any(0).mean()),
        "recall": float((d < r_fake[None, :]).any(1).mean()),
        "density": float(inside_real.sum(0).mean() / k),
        "coverage": float((d.min(1) < r_real).mean()),
    }


def memorised_share(
    samples: np.ndarray, train: np.ndarray, test: np.ndarray, quantile: float = MEMORISED_QUANTILE
) -> float:
    """Share of samples nearer to their nearest training image than all but `quantile` of real test images are.

    Fresh images from the data's distribution score about `quantile`; a generator that copies scores near 1.
    """
    from sklearn.neighbors import NearestNeighbors

    nn_train = NearestNeighbors(n_neighbors=1).fit(train.reshape(len(train), -1))
    d_test = nn_train.kneighbors(test.reshape(len(test), -1))[0][:, 0]
    d_samples = nn_train.kneighbors(samples.reshape(len(samples), -1))[0][:, 0]
    return float((d_samples < np.quantile(d_test, quantile)).mean())


# ---- one evaluation ----------------------------------------------------------------------------------
@dataclass
class Reference:
    """Real test images of the class, split into halves: `a` is the reference, `b` plays a perfect generator."""

    cls: int
    feats_a: np.ndarray  # (Na, F)
    feats_b: np.ndarray  # (Nb, F)
    probs_b: np.ndarray  # (Nb, K)
    fd_real: float  # FD(b, a): the distance sampling alone makes, the scale of every FD

    @classmethod
    def of(cls, judge: nn.Module, real_test: torch.Tensor, label: int) -> Reference:
        probs, feats = judge_view(judge, real_test)
        half = len(real_test) // 2
        return cls(label, feats[:half], feats[half:], probs[half:], frechet_distance(feats[half:], feats[:half]))

    def real_scores(self) -> dict[str, float]:
        """The metrics of the held-out real half: what a perfect generator would score."""
        return scores(self, self.probs_b, self.feats_b)


def scores(ref: Reference, probs: np.ndarray, feats: np.ndarray) -> dict[str, float]:
    """decent fraction on every sample; FD, its ratio and PRDC on as many samples as the real half b holds."""
    m = min(len(feats), len(ref.feats_b))  # FD and PRDC depend on sample size: compare equal sizes
    fd = frechet_distance(feats[:m], ref.feats_a)
    return {
        "decent_fraction": decent_fraction(probs, ref.cls),
        "fd": fd,
        "fd_ratio": fd / max(ref.fd_real, 1e-12),
        **prdc(ref.feats_a, feats[:m]),
    }


def evaluate(judge: nn.Module, ref: Reference, samples: torch.Tensor) -> tuple[dict[str, float], np.ndarray]:
    """The judge's metrics of `samples` (N, C, H, W) and its label histogram (K,)."""
    probs, feats = judge_view(judge, samples)
    return scores(ref, probs, feats), label_histogram(probs)


# ---- mode collapse -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CollapseRule:
    """Collapse: recall or coverage falls below its threshold after the generator had been healthy, that is had
    reached twice both thresholds (a margin, so that noise around one threshold is not called a collapse)."""

    recall: float = 0.25
    coverage: float = 0.25

    def low(self, row: dict[str, Any]) -> bool:
        return row["recall"] < self.recall or row["coverage"] < self.coverage

    def healthy(self, row: dict[str, Any]) -> bool:
        return row["recall"] >= min(1.0, 2 * self.recall) and row["coverage"] >= min(1.0, 2 * self.coverage)


def collapse_flags(rows: Sequence[dict[str, Any]], rule: CollapseRule) -> list[bool]:
    """Per evaluation row: has the generator collapsed? One that has not yet covered the data is still learning
    (early GANs make one blurry average for every z), so only a fall from a healthy evaluation counts."""
    flags, healthy_seen = [], False
    for row in rows:
        flags.append(rule.low(row) and healthy_seen)
        healthy_seen |= rule.healthy(row)
    return flags


def first_collapse(rows: Sequence[dict[str, Any]], rule: CollapseRule, key: str = "step") -> Any:
    """`row[key]` of the first collapsed evaluation, or None."""
    for row, flag in zip(rows, collapse_flags(rows, rule), strict=True):
        if flag:
            return row[key]
    return None
