"""Images (files or bytes) decoded by Pillow into uint8 arrays, in parallel worker processes for large sets.

Every image becomes (H, W, 1) when it is grey (L, 1, LA, 16-bit and float greys, palettes whose colours are
all greys, WebP images whose three channels are equal) and (H, W, 3) otherwise (RGB; alpha dropped; CMYK and
other modes converted). Animated GIFs and multi-page TIFFs give their first frame; JPEG, TIFF and WebP photos
are turned upright by their EXIF orientation. With `side` > 0 each image is resized to side x side by Pillow's
antialiased bilinear filter (the aspect ratio is not kept).
"""

from __future__ import annotations

import io
import multiprocessing
import os
import warnings
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image, ImageOps

from mlplab.errors import UserError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
EXIF_FORMATS = frozenset({"JPEG", "MPO", "TIFF", "WEBP"})
GREY_MODES = frozenset({"1", "L", "LA", "La", "I", "F"})
NO_GREY_FORMATS = frozenset({"WEBP"})  # stores a grey picture as RGB with three equal channels
PARALLEL_FROM = 2000  # fewer images decode faster in this process than worker processes start
CHUNK = 500
SHOWN = 3  # names quoted in a note

Source = str | bytes  # a file path, or an encoded image's bytes


def workers() -> int:
    """Processes for decoding: the cores this process may use, at most 8."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        n = os.cpu_count() or 1
    return max(1, min(8, n))


def _open(source: Source) -> Image.Image:
    return Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)


def _grey_or_rgb(im: Image.Image, fmt: str | None) -> Image.Image:
    """The image in mode L or RGB (see the module's docstring)."""
    mode = im.mode
    if mode == "L" or (mode == "RGB" and fmt not in NO_GREY_FORMATS):
        return im
    if mode in ("1", "LA", "La"):
        return im.convert("L")
    if mode.startswith("I") or mode == "F":  # 16/32-bit integer or float grey
        a = np.asarray(im, dtype=np.float64)
        if mode == "F":
            a = a * 255 if a.max(initial=0) <= 1 else a
        else:
            a = a / 257  # 0..65535 -> 0..255
        return Image.fromarray(np.clip(np.round(a), 0, 255).astype(np.uint8), "L")
    rgb = im.convert("RGB")  # palette, RGBA (alpha dropped), CMYK, YCbCr, ...
    if mode in ("P", "PA") or fmt in NO_GREY_FORMATS:
        a = np.asarray(rgb)
        if (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all():
            return Image.fromarray(np.ascontiguousarray(a[..., 0]), "L")
    return rgb


def decode_image(source: Source, side: int = 0) -> np.ndarray:
    """One image as (H, W, C) uint8, C = 1 (grey) or 3 (colour); resized to side x side when side > 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DecompressionBombWarning, TIFF metadata warnings: the caller decides
        with _open(source) as opened:
            im = ImageOps.exif_transpose(opened) if opened.format in EXIF_FORMATS else opened
            im = _grey_or_rgb(im, opened.format)
            if side and im.size != (side, side):
                im = im.resize((side, side), Image.Resampling.BILINEAR)
            a = np.array(im, dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def peek(source: Source) -> tuple[int, int, int] | None:
    """(channels, height, width) from the image's header alone (nothing decoded); None when unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with _open(source) as im:
                return (1 if im.mode in GREY_MODES or im.mode.startswith("I;") else 3), im.height, im.width
    except Exception:
        return None


def why(exc: BaseException) -> str:
    """A short reason for an image that could not be decoded."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, Image.UnidentifiedImageError):
        text = "not an image Pillow can read"
    return text[:120]


def _decode_chunk(args: tuple[Sequence[Source], int]) -> list[np.ndarray | str]:
    sources, side = args
    out: list[np.ndarray | str] = []
    for source in sources:
        try:
            out.append(decode_image(source, side))
        except Exception as exc:  # truncated, corrupt, not an image, too large: reported by the caller
            out.append(why(exc))
    return out


def decode_all(sources: Sequence[Source], side: int = 0) -> list[np.ndarray | str]:
    """Each source decoded (see decode_image), or the reason it could not be; in worker processes when many."""
    n_workers = workers()
    if len(sources) < PARALLEL_FROM or n_workers == 1:
        return _decode_chunk((sources, side))
    chunks = [(sources[i : i + CHUNK], side) for i in range(0, len(sources), CHUNK)]
    with ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context()) as pool:
        return [item for part in pool.map(_decode_chunk, chunks) for item in part]


def plural(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def some(names: list[str]) -> str:
    return ", ".join(names[:SHOWN]) + (", ..." if len(names) > SHOWN else "")


def _sizes_refused(what: str, shapes: list[tuple[int, int]], names: list[str]) -> UserError:
    counts = Counter(shapes)
    example: dict[tuple[int, int], str] = {}
    for s, n in zip(shapes, names, strict=True):
        example.setdefault(s, n)
    shown = ", ".join(f"{h}x{w} ({k:,}, e.g. {example[(h, w)]})" for (h, w), k in counts.most_common(4))
    more = f" and {len(counts) - 4} more" if len(counts) > 4 else ""
    return UserError(
        f"{what}: the images have {len(counts)} sizes: {shown}{more}; give image_size=N to resize them all to N x N"
    )


def decode_images(
    sources: Sequence[Source],
    names: list[str],
    splits: list[str],
    labels: np.ndarray,
    side: int,
    skip_bad: bool,
    what: str,
    notes: list[str],
    where: object = "",
) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """{split: ((N, C, H, W) uint8, (N,) labels, names)} of the images; one that cannot be decoded is refused, naming
    it (or skipped and noted with `skip_bad`); mixed sizes without `side` are refused with the sizes seen. A grey
    image in a set with colour ones fills all three channels."""
    results = decode_all(sources, side)
    bad = [(n, r) for n, r in zip(names, results, strict=True) if isinstance(r, str)]
    if bad and not skip_bad:
        more = f" ({len(bad) - 1} more images cannot be decoded either)" if len(bad) > 1 else ""
        first = os.path.join(str(where), bad[0][0]) if where else bad[0][0]
        raise UserError(
            f"{what}: {first} cannot be decoded ({bad[0][1]}){more}; replace or remove it, or give skip_bad=true "
            "to skip such files"
        )
    if bad:
        count = plural(len(bad), "image that could not be decoded was", "images that could not be decoded were")
        notes.append(f"{count} skipped: " + some([f"{n} ({r})" for n, r in bad]))
    keep = [i for i, r in enumerate(results) if not isinstance(r, str)]
    shapes = [results[i].shape[:2] for i in keep]
    if len(set(shapes)) > 1:
        raise _sizes_refused(what, shapes, [names[i] for i in keep])
    channels = max((results[i].shape[2] for i in keep), default=1)
    hw = shapes[0] if shapes else (1, 1)
    out = {}
    for split in dict.fromkeys(splits):
        rows = [i for i in keep if splits[i] == split]
        x = np.empty((len(rows), channels, *hw), dtype=np.uint8)
        for j, i in enumerate(rows):
            x[j] = results[i].transpose(2, 0, 1)
        out[split] = (x, labels[rows], [names[i] for i in rows])
    return out
