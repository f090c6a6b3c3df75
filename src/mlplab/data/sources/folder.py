"""`folder:PATH`: one subfolder per class (torchvision's ImageFolder layout), optionally under train/ and test/.

Class names are the subfolder names (sorted, as ImageFolder sorts them); the images of a class may sit in
nested folders. Hidden files are passed over; other files that are not images (by their suffix) are ignored
and counted. Images of mixed sizes are refused with the sizes seen unless `image_size` resizes them all.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mlplab.data.sources.base import Decoded, check_classes, check_memory
from mlplab.data.sources.cache import cached, file_key
from mlplab.data.sources.decode import IMAGE_SUFFIXES, decode_images, peek, plural, some
from mlplab.errors import UserError

SAMPLED_HEADERS = 32  # images whose headers estimate the memory before anything is decoded


@dataclass
class Listing:
    """What a scan found: image files by split with their class, and the files it ignored."""

    classes: list[str]
    files: dict[str, list[tuple[str, int, os.stat_result]]]  # split -> (path relative to root, class, stat)
    ignored: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)


def _entries(folder: Path, what: str) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as it:
            return sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        raise UserError(f"{what}: cannot read {folder} ({exc.strerror}); check its permissions") from None


def _is_dir(entry: os.DirEntry, what: str) -> bool | None:
    """Whether the entry (links followed) is a folder; None for a broken link; UserError for a link loop."""
    try:
        if entry.is_dir():
            return True
        entry.stat()  # raises for a broken link or a link loop, which is_dir() reports as False
        return False
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UserError(f"{what}: {entry.path} is a symlink loop; remove or fix the link") from None
        return None


def _walk(folder: Path, rel: str, ancestors: frozenset[str], label: int, listing: Listing, out: list, what: str):
    """The image files under `folder` (named `rel` from the root; links followed, loops refused), in name order."""
    for entry in _entries(folder, what):
        name = f"{rel}/{entry.name}"
        kind = _is_dir(entry, what)
        if kind is None:
            listing.broken.append(name)
        elif kind:
            real = os.path.realpath(entry.path)
            if real in ancestors:
                raise UserError(
                    f"{what}: {entry.path} is a symlink loop (it leads back to {real}); remove or fix the link"
                )
            _walk(Path(entry.path), name, ancestors | {real}, label, listing, out, what)
        elif entry.name[entry.name.rfind(".") :].lower() in IMAGE_SUFFIXES:
            out.append((name, label, entry.stat()))
        else:
            listing.ignored.append(name)


def _class_folders(folder: Path, root: Path, listing: Listing, what: str) -> list[os.DirEntry]:
    entries = _entries(folder, what)
    dirs = [e for e in entries if _is_dir(e, what)]
    loose = [e for e in entries if not _is_dir(e, what)]
    if not dirs:
        images = [e for e in loose if os.path.splitext(e.name)[1].lower() in IMAGE_SUFFIXES]
        if images:
            raise UserError(
                f"{what}: {folder} holds {len(images)} images but no class subfolders; put each class's images "
                f"in a subfolder named after the class ({folder / 'CLASS' / images[0].name})"
            )
        raise UserError(
            f"{what}: {folder} is empty (no class subfolders); give a folder with one subfolder of images per "
            f"class, e.g. {folder / 'cat' / '1.png'}"
        )
    listing.ignored += [os.path.relpath(e.path, root) for e in loose]
    return dirs


def scan(root: Path, what: str) -> Listing:
    """The images of `root`: root/CLASS/... or root/train/CLASS/... (+ root/test/CLASS/...)."""
    if not root.is_dir():
        raise UserError(
            f"{what}: {root} is a file, not a folder; give a folder with one subfolder of images per class "
            "(csv:, npz: and hf: read files)"
        )
    listing = Listing([], {})
    top = {e.name: e for e in _entries(root, what)}
    split_layout = "train" in top and _is_dir(top["train"], what)
    parts = {"train": root / "train"} if split_layout else {"train": root}
    if split_layout and "test" in top and _is_dir(top["test"], what):
        parts["test"] = root / "test"
    if split_layout:
        listing.ignored += [name for name in top if name not in parts]
    for split, folder in parts.items():
        dirs = _class_folders(folder, root, listing, what)
        if split == "train":
            listing.classes = [e.name for e in dirs]
            if len(dirs) == 1:
                raise UserError(
                    f"{what}: {folder} has a single class folder ({dirs[0].name}); a classifier needs two or "
                    "more, one subfolder of images per class"
                )
        else:
            lacking = [e.name for e in dirs if e.name not in listing.classes]
            if lacking:
                raise UserError(
                    f"{what}: {folder} has class folders that {parts['train']} lacks ({', '.join(lacking[:5])}); "
                    "add training images of them, or remove them from the test folder"
                )
        files: list[tuple[str, int, os.stat_result]] = []
        for e in dirs:
            before = len(files)
            rel = os.path.relpath(e.path, root)
            label = listing.classes.index(e.name)
            _walk(Path(e.path), rel, frozenset({os.path.realpath(e.path)}), label, listing, files, what)
            if len(files) == before:
                raise UserError(
                    f"{what}: class folder {e.path} holds no images (PNG, JPEG, BMP, GIF, TIFF or WebP); add "
                    "images to it or remove it"
                )
        listing.files[split] = files
    return listing


def _estimate(root: Path, listing: Listing, side: int, what: str) -> None:
    every = [f for files in listing.files.values() for f in files]
    step = max(1, len(every) // SAMPLED_HEADERS)
    seen = [s for f in every[::step] if (s := peek(str(root / f[0])))]
    if not seen:
        return  # nothing readable in the sample: decoding names the files
    channels = max(s[0] for s in seen)
    h, w = (side, side) if side else (max(s[1] for s in seen), max(s[2] for s in seen))
    check_memory(what, len(every), (channels, h, w), "give a smaller image_size= (e.g. image_size=32), or fewer images")


def decode_listing(root: Path, listing: Listing, side: int, skip_bad: bool, what: str) -> Decoded:
    """Decode every listed image (in parallel) into (N, C, H, W) uint8 per split."""
    _estimate(root, listing, side, what)
    notes = []
    if listing.ignored:
        n = len(listing.ignored)
        notes.append(f"{plural(n, 'file that is not an image was', 'files that are not images were')} ignored: "
                     f"{some(listing.ignored)}")  # fmt: skip
    if listing.broken:
        n = len(listing.broken)
        notes.append(f"{plural(n, 'broken link was', 'broken links were')} ignored: {some(listing.broken)}")
    every = [(split, f) for split, files in listing.files.items() for f in files]
    arrays = decode_images(
        [str(root / f[0]) for _, f in every],
        [f[0] for _, f in every],
        [split for split, _ in every],
        np.array([f[1] for _, f in every], dtype=np.int64),
        side,
        skip_bad,
        what,
        notes,
        where=root,
    )
    x_test, y_test, names_test = arrays.get("test", (None, None, None))
    x_train, y_train, names_train = arrays["train"]
    d = Decoded(x_train, y_train, x_test, y_test, listing.classes, "", notes, names_train, names_test)
    check_classes(d, what)  # before the cache keeps it
    return d


def load_folder(root: Path, what: str, side: int, skip_bad: bool) -> tuple[Decoded, bool]:
    """The decoded images of a folder source, from the decoded cache when its files have not changed."""
    listing = scan(root, what)
    key = file_key((rel, st) for files in listing.files.values() for rel, _, st in files) + str(len(listing.ignored))
    options = {"image_size": side, "skip_bad": skip_bad, "classes": listing.classes}
    d, hit = cached("folder", root, options, key, lambda: decode_listing(root, listing, side, skip_bad, what))
    d.fingerprint = "folder-" + key
    return d, hit
