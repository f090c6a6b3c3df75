"""Trained models cached as run folders, keyed by a hash of the configuration that made them.

A cache entry is written under a temporary name and renamed into place when complete, so a killed
training leaves no half entry, and two processes that train the same model at once both end with one.
The temporary folder is a locked run folder: a later call removes those whose owner died (a killed run).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlplab.errors import RunLocked, UserError
from mlplab.runs import Run

STALE_AFTER_S = 60  # a temporary entry younger than this may still be on its way to being locked


def sweep_stale(root: Path) -> list[Path]:
    """Remove the temporary entries (`.NAME.*.tmp`) of killed trainings; return what was removed."""
    removed = []
    for tmp in root.glob(".*.tmp"):
        try:
            if not tmp.is_dir() or time.time() - tmp.stat().st_mtime < STALE_AFTER_S:
                continue
            probe = Run(tmp).lock()  # RunLocked while its owner is alive
        except (RunLocked, OSError):
            continue
        probe.release()
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def config_key(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_run(
    cache_dir: str | os.PathLike,
    experiment: str,
    key_config: dict[str, Any],
    run_config: dict[str, Any],
    train: Callable[[Run], None],
) -> tuple[Run, bool]:
    """The run folder for `key_config` from the cache, or trained now by `train(run)`; returns (run, was_cached)."""
    root = Path(cache_dir).expanduser()
    target = root / f"{experiment}-{config_key({'experiment': experiment, **key_config})}"
    if (target / "checkpoints" / "best.pt").is_file():
        return Run.open(target), True
    try:
        root.mkdir(parents=True, exist_ok=True)
        sweep_stale(root)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=root))
    except OSError as exc:
        raise UserError(
            f"cannot write the model cache {str(root)!r} ({exc.strerror}); "
            "set cache_dir= or $MLPLAB_CACHE to a writable folder"
        ) from None
    try:
        run = Run.create(experiment, run_config, out=tmp)
        train(run)
        run.release()
        if target.exists() and not (target / "checkpoints" / "best.pt").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a damaged entry: replace it
        try:
            os.rename(tmp, target)
        except OSError:
            if not (target / "checkpoints" / "best.pt").is_file():
                raise
            # another process finished the same model first: use its entry
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Run.open(target), False
