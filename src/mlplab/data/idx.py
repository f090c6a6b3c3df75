"""Our own check and reader of IDX files (MNIST family): size, magic number, counts, MD5 where known, label range.

The files are read here, after the check, and never through torchvision (which would prefer an
unchecked processed/*.pt cache it finds beside them).
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np

from mlplab.errors import UserError

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def md5(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def check_idx(
    path: Path, *, magic: int, count: int, item_shape: tuple[int, ...], expected_md5: str | None = None, fix: str = ""
) -> None:
    """Raise UserError with one clear line if `path` is not the IDX file we expect."""
    kind = "images" if magic == IMAGES_MAGIC else "labels"
    if not path.is_file():
        raise UserError(f"missing file {path}; {fix}")
    size = path.stat().st_size
    header = 4 + 4 * (1 + len(item_shape))
    with open(path, "rb") as fh:
        head = fh.read(header)
    if len(head) < header:
        raise UserError(f"{path} is truncated ({size} bytes, not even an IDX header); {fix}")
    found_magic, found_count, *dims = struct.unpack(f">{1 + 1 + len(item_shape)}i", head)
    if found_magic != magic:
        raise UserError(f"{path} is not an IDX {kind} file (magic number {found_magic}, expected {magic}); {fix}")
    if found_count != count or tuple(dims) != tuple(item_shape):
        raise UserError(
            f"{path} holds {found_count} {kind} of shape {tuple(dims)}, expected {count} of "
            f"shape {tuple(item_shape)}; {fix}"
        )
    item = 1
    for d in item_shape:
        item *= d
    expected_size = header + count * item
    if size != expected_size:
        state = "truncated" if size < expected_size else "longer than it should be"
        raise UserError(f"{path} is {state}: {size} bytes, expected {expected_size}; {fix}")
    if expected_md5 is not None and md5(path) != expected_md5:
        raise UserError(f"{path} is corrupted (MD5 does not match {expected_md5}); {fix}")


def read_idx(
    path: Path,
    *,
    magic: int,
    count: int,
    item_shape: tuple[int, ...],
    expected_md5: str | None = None,
    num_classes: int | None = None,
    fix: str = "",
) -> np.ndarray:
    """Check `path` (see check_idx), then read it as uint8 (count, *item_shape); labels must lie in 0..num_classes-1."""
    check_idx(path, magic=magic, count=count, item_shape=item_shape, expected_md5=expected_md5, fix=fix)
    header = 4 + 4 * (1 + len(item_shape))
    data = np.fromfile(path, dtype=np.uint8, offset=header).reshape((count, *item_shape))
    if num_classes is not None and data.size and int(data.max()) >= num_classes:
        bad = int(np.count_nonzero(data >= num_classes))
        raise UserError(
            f"{path} holds {bad} labels outside 0..{num_classes - 1} (largest {int(data.max())}); "
            f"it is corrupted or not this dataset's label file; {fix}"
        )
    return data
