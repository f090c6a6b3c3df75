"""Device choice and seeding, done once per run."""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Iterator

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
        if (
            not isinstance(exc, (torch.OutOfMemoryError, MemoryError))
            and "can't allocate memory" not in text
            and "out of memory" not in text.lower()
        ):
            raise
        in_bytes, in_units = re.search(r"allocate (\d+) bytes", text), re.search(r"allocate ([\d.]+ [KMGTP]i?B)", text)
        asked = _size_text(int(in_bytes.group(1))) if in_bytes else in_units.group(1) if in_units else ""
        need = f" (one allocation asked for {asked})" if asked else ""
        raise UserError(
            f"not enough memory for this configuration{need}; choose smaller sizes (hidden layers, "
            "image_size, batch_size, code) or a device with more memory"
        ) from None


# CPU flags of matrix instructions that compute in bfloat16 (without them oneDNN emulates bf16, slower than fp32)
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo; else platform.processor())."""
    import platform

    try:
        for line in open("/proc/cpuinfo", encoding="utf-8", errors="replace"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def cpu_bf16_flags() -> list[str]:
    """Which bf16 matrix instructions this CPU has, of amx_bf16 and avx512_bf16 (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            flags = next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        flags = []
    return [f for f in BF16_CPU_FLAGS if f in flags]


def bf16_support(device: torch.device) -> tuple[bool, str]:
    """(whether bf16 autocast is fast here, a line saying which hardware decides it)."""
    if device.type == "cuda":
        ok = torch.cuda.is_bf16_supported(including_emulation=False)
        return ok, f"{torch.cuda.get_device_name(device)} {'has' if ok else 'has no'} bf16 tensor cores"
    flags = cpu_bf16_flags()
    what = (
        f"{cpu_model()}: {', '.join(flags)}"
        if flags
        else f"{cpu_model()} has no bf16 matrix instructions ({' or '.join(BF16_CPU_FLAGS)})"
    )
    return bool(flags), what


def resolve_precision(name: str, device: torch.device) -> torch.dtype | None:
    """fp32 -> None (no autocast); bf16 -> torch.bfloat16 where the device computes in it, else a UserError;
    auto -> bf16 where the device computes in it, else None."""
    if name == "fp32":
        return None
    if name not in ("bf16", "auto"):
        raise UserError(f"unknown precision {name!r}; choose fp32, bf16 or auto")
    ok, what = bf16_support(device)
    if ok:
        return torch.bfloat16
    if name == "auto":
        return None
    raise UserError(
        f"precision=bf16 needs bf16 matrix instructions, and {what}; use precision=fp32 "
        "(or precision=auto, which picks bf16 only where it is fast)"
    )


def precision_name(dtype: torch.dtype | None) -> str:
    return "bf16" if dtype == torch.bfloat16 else "fp32"
