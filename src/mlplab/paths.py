"""Paths users give (`--out`, `--resume`, `root`, `data_dir`, `mlplab.open(...)`): checked before anything is made."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mlplab.errors import UserError, shown


def user_path(what: str, value: Any) -> str:
    """A folder path a user gave (`what` names it: "--out", "root", ...) as text, checked before anything is made:
    UserError (one line) for a value that is no path, a NUL byte, a name longer than the file system allows, or
    a path the operating system refuses to look at. A path that does not exist yet is fine."""
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise UserError(f"{what} must be a path (text or pathlib.Path), not {type(value).__name__} {shown(value)}")
    path = os.fspath(value)
    if not isinstance(path, str):
        raise UserError(f"{what} must be a path as text, not {type(path).__name__} {shown(path)}")
    if "\0" in path:
        raise UserError(f"{what} {shown(path)} holds a NUL character, which no file name may hold")
    limit = _name_max(path)
    for part in Path(path).parts:
        if len(os.fsencode(part)) > limit:
            raise UserError(
                f"{what} {shown(path)}: the name {shown(part, 40)} has {len(os.fsencode(part))} bytes, more than "
                f"the {limit} the file system allows; give a shorter name"
            )
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # made later (or refused there with its own message)
    except OSError as exc:
        raise UserError(f"{what} {shown(path)}: {exc.strerror}; give a path you may use") from None
    return path


def _name_max(path: str) -> int:
    """The longest file name (in bytes) the file system of `path`'s nearest existing folder allows."""
    folder = Path(os.path.abspath(path))
    while not os.path.isdir(folder) and folder != folder.parent:
        folder = folder.parent
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255
