"""Per-example values that a model's loss reports but nothing reads until an epoch ends (a training accuracy)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


class PerExample:
    """The values `fn(*tensors) -> (B,)` of one batch, computed only when read; the tensors are kept without
    their graph.

    A value that is only ever read as a mean over an epoch need not cost kernels in every step: the trainer keeps
    each step's tensors and computes all of an epoch's values at once when the epoch ends (`epoch_mean`); a
    single batch's mean is `mean()`.
    """

    __slots__ = ("fn", "tensors")

    def __init__(self, fn: Callable[..., torch.Tensor], *tensors: torch.Tensor):
        self.fn = fn
        self.tensors = tuple(t.detach() if t.requires_grad else t for t in tensors)

    def mean(self) -> torch.Tensor:
        """The batch's mean, a 0-dim tensor."""
        return self.fn(*self.tensors).double().mean()

    @staticmethod
    def epoch_mean(parts: Sequence[PerExample]) -> float:
        """The mean over every example of `parts` (batches of one `fn`), computed in one go."""
        return float(
            parts[0].fn(*(torch.cat(ts) for ts in zip(*(p.tensors for p in parts), strict=True))).double().mean()
        )
