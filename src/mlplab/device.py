"""Device choice and seeding, done once per run."""
from __future__ import annotations

import contextlib
import random
import re
from typing import Iterator

import numpy as np
import torch

from mlplab.errors import UserError


def resolve_device(name: str) -> torch.device:
    """auto -> cuda when available, else cpu; cuda without a GPU is a user error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("device=cuda was asked for but no CUDA GPU is available here; use device=cpu or device=auto")
    if name not in ("cpu", "cuda"):
        raise UserError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return the generator that orders batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def _size_text(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} bytes"


@contextlib.contextmanager
def memory_errors_as_user_errors() -> Iterator[None]:
    """Turn an allocation that cannot be met (CPU or GPU) into one clear UserError line."""
    try:
        yield
    except (torch.OutOfMemoryError, MemoryError, RuntimeError) as exc:
        text = str(exc)
        if not isinstance(exc, (torch.OutOfMemoryError, MemoryError)) and \
                "can't allocate memory" not in text and "out of memory" not in text.lower():
            raise
        in_bytes, in_units = re.search(r"allocate (\d+) bytes", text), re.search(r"allocate ([\d.]+ [KMGTP]i?B)", text)
        asked = _size_text(int(in_bytes.group(1))) if in_bytes else in_units.group(1) if in_units else ""
        need = f" (one allocation asked for {asked})" if asked else ""
        raise UserError(f"not enough memory for this configuration{need}; choose smaller sizes (hidden layers, "
                        "image_size, batch_size, code) or a device with more memory") from None
