"""Building a report around damaged run files: warn once per file, leave out only what it held.

Syntax damage (torn JSON, bytes that are not UTF-8, a truncated archive) is found where a file is read
(runs.DamagedFile). Damage of valid syntax (a string where a number was written, an archive without the
arrays mlplab saved, a table without its columns) surfaces later, in the figure or findings builder that
uses it: `salvage(..., run=run)` then names the last file of the run the builder opened for reading (an
audit hook on `open` watches the run folder while the builder runs). An error before any file of the run was
read is a bug, not damage, and is raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from mlplab.errors import DamagedFile, UserError

if TYPE_CHECKING:
    from mlplab.runs import Run

log = logging.getLogger("mlplab.report")
T = TypeVar("T")

_WATCHED: list[tuple[str, list[str]]] = []  # (folder + os.sep, files of it opened for reading), innermost last
_HOOKED = False


def _on_audit(event: str, args: tuple) -> None:
    if event != "open" or not _WATCHED:
        return
    path, mode, flags = args
    if not isinstance(path, (str, bytes)):
        return  # a file descriptor
    writing = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & (os.O_WRONLY | os.O_RDWR))
    if writing:
        return
    path = os.path.abspath(os.fsdecode(path))
    folder, seen = _WATCHED[-1]
    if path.startswith(folder):
        seen.append(path)


@contextlib.contextmanager
def watching(folder: str | os.PathLike) -> Iterator[list[str]]:
    """The files under `folder` opened for reading while the block runs, in order."""
    global _HOOKED
    if not _HOOKED:  # once per process: an audit hook cannot be removed, so it does nothing unless watching
        sys.addaudithook(_on_audit)
        _HOOKED = True
    seen: list[str] = []
    _WATCHED.append((os.path.abspath(folder) + os.sep, seen))
    try:
        yield seen
    finally:
        _WATCHED.pop()


def salvage(read: Callable[[], T], default: T, consequence: str, run: Run | None = None) -> T:
    """`read()`, or `default` with one warning line naming the damaged file and what the report leaves out.

    With `run`, `read` is a builder that uses the run's files: an error of any kind after it opened one of them
    is blamed on the last one opened."""
    if run is None:
        try:
            return read()
        except DamagedFile as exc:
            log.warning("%s is damaged (%s); %s", exc.path, exc.problem, consequence)
            return default
    with watching(run.path) as seen:
        try:
            return read()
        except DamagedFile as exc:
            log.warning("%s is damaged (%s); %s", exc.path, exc.problem, consequence)
            return default
        except UserError:
            raise
        except Exception as exc:
            if not seen:
                raise  # no file of the run was read: a bug, not damage
            problem = (str(exc).splitlines() or [""])[0][:160]
            log.warning(
                "%s does not hold what mlplab wrote there (%s%s); %s",
                run.path / os.path.relpath(seen[-1], os.path.abspath(run.path)),
                type(exc).__name__,
                f": {problem}" if problem else "",
                consequence,
            )
            return default
