"""Trained models cached as run folders, keyed by a hash of the configuration that made them.

A cache entry is written under a temporary name and renamed into place when complete, so a killed
training leaves no half entry, and two processes that train the same model at once both end with one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from mlplab.data.core import default_data_dir
from mlplab.errors import UserError
from mlplab.runs import Run


def default_cache_dir() -> Path:
    """$MLPLAB_CACHE, else `models/` beside the default data folder."""
    env = os.environ.get("MLPLAB_CACHE")
    return Path(env).expanduser() if env else default_data_dir().parent / "models"


def config_key(config: dict[str, Any]) -> str:
    """A short stable hash of a JSON-able configuration."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_run(cache_dir: str | os.PathLike, experiment: str, key_config: dict[str, Any],
               run_config: dict[str, Any], train: Callable[[Run], None]) -> tuple[Run, bool]:
    """The run folder for `key_config` from the cache, or trained now by `train(run)`; returns (run, was_cached)."""
    root = Path(cache_dir).expanduser()
    target = root / f"{experiment}-{config_key({'experiment': experiment, **key_config})}"
    if (target / "checkpoints" / "best.pt").is_file():
        return Run.open(target), True
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=root))
    except OSError as exc:
        raise UserError(f"cannot write the model cache {str(root)!r} ({exc.strerror}); "
                        "set cache_dir= or $MLPLAB_CACHE to a writable folder") from None
    try:
        train(Run.create(experiment, run_config, out=tmp))
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
