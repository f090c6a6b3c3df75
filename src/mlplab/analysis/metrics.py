"""Classification metrics from labels: confusions, per-class precision and recall, binary counts."""

from __future__ import annotations

from dataclasses import dataclass

import torch


def confusions(y_true: torch.Tensor, y_pred: torch.Tensor, k: int) -> torch.Tensor:
    """counts[i, j] = examples of class i predicted as j, (k, k) int64."""
    return torch.bincount(y_true.long() * k + y_pred.long(), minlength=k * k).reshape(k, k)


def precision_recall(cm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-class precision = cm[c, c] / column c, recall = cm[c, c] / row c (0 where undefined)."""
    cm = cm.double()
    tp = cm.diagonal()
    predicted, actual = cm.sum(0), cm.sum(1)
    return tp / predicted.clamp_min(1), tp / actual.clamp_min(1)


def most_confused_pairs(cm: torch.Tensor, n: int) -> list[tuple[int, int, int]]:
    """The n unordered class pairs (a, b, count) with the most errors either way, count > 0."""
    both = (cm + cm.T).triu(diagonal=1)  # (k, k), errors a->b plus b->a above the diagonal
    order = both.flatten().argsort(descending=True)[:n]
    k = cm.shape[0]
    pairs = [(int(i) // k, int(i) % k, int(both.flatten()[i])) for i in order]
    return [p for p in pairs if p[2] > 0]


@dataclass
class BinaryCounts:
    tp: int
    fp: int
    tn: int
    fn: int

    @classmethod
    def of(cls, is_positive: torch.Tensor, said_positive: torch.Tensor) -> BinaryCounts:
        t, p = is_positive.bool(), said_positive.bool()
        return cls(int((t & p).sum()), int((~t & p).sum()), int((~t & ~p).sum()), int((t & ~p).sum()))

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / max(1, self.tp + self.fp + self.tn + self.fn)

    @property
    def precision(self) -> float:
        return self.tp / max(1, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return self.tp / max(1, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0
