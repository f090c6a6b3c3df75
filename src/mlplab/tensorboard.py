"""Per-epoch scalars for TensorBoard, written when a run's config says tensorboard=true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlplab.errors import UserError


def require_tensorboard() -> None:
    """UserError unless the tensorboard package is installed (checked before a run with tensorboard=true trains)."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise UserError("tensorboard=true needs the tensorboard package: pip install tensorboard") from None


class ScalarWriter:
    """Writes the numeric values of metrics rows as TensorBoard scalars ("val_loss" -> "val/loss")."""

    def __init__(self, folder: Path):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise UserError("tensorboard=true needs the tensorboard package: pip install tensorboard") from None
        self.writer = SummaryWriter(log_dir=str(folder))

    def write(self, row: dict[str, Any], step: int, skip: tuple[str, ...] = ("epoch",)) -> None:
        for key, value in row.items():
            if key not in skip and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.writer.add_scalar(key.replace("_", "/", 1), value, step)
        self.writer.flush()
