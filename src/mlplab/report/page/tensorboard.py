"""RUN/tensorboard/, rebuilt from the run folder after the run, the same way for every experiment.

Scalars from metrics.jsonl (tag `train/loss` for `train_loss`, `NAME/train/loss` for a row of the model NAME
of a multi-model run; step = the row's `step`, else `epoch`, else its number), every figure as a sample image
(`figures/NAME`), and the HParams view: the resolved config as hyper-parameters with the final numeric metrics
(`final/KEY`). Event files already there (the trainer's live
scalars) are replaced, so each point appears once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlplab.errors import UserError
from mlplab.report.page.summary import is_number
from mlplab.runs import Run


def _step(row: dict[str, Any], index: int) -> int:
    for key in ("step", "epoch"):
        if is_number(row.get(key)):
            return int(row[key])
    return index


def _hparam(value: Any) -> Any:
    if isinstance(value, (bool, int, float, str)):
        return value
    return "" if value is None else str(value)


def _image(path: Path) -> np.ndarray:
    import imageio.v2 as imageio

    img = np.asarray(imageio.imread(path))  # (H, W) or (H, W, C)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return img[..., :3]  # (H, W, 3): drop alpha


def write_tensorboard(run: Run) -> Path:
    """Rewrite RUN/tensorboard/ from metrics.jsonl, figures/*.png, config.yaml and metrics.json."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError("tensorboard=true needs the tensorboard package: pip install tensorboard") from None
    folder = run.path / "tensorboard"
    folder.mkdir(exist_ok=True)
    for old in folder.rglob("events.out.tfevents.*"):
        old.unlink()
    with SummaryWriter(log_dir=str(folder)) as writer:
        for i, row in enumerate(run.history):
            step = _step(row, i)
            model = f"{row['model']}/" if row.get("model") else ""  # each model of a multi-model run: its own tags
            for key, value in row.items():
                if key not in ("step", "epoch") and is_number(value):
                    writer.add_scalar(model + key.replace("_", "/", 1), value, step)
        for fig in sorted((run.path / "figures").glob("*.png")):
            writer.add_image(f"figures/{fig.stem}", _image(fig), 0, dataformats="HWC")
        hparams = {k: _hparam(v) for k, v in run.config.items()}
        final = {f"final/{k}": float(v) for k, v in run.metrics.items() if is_number(v)}
        writer.add_hparams(hparams, final, run_name=".")
    return folder
