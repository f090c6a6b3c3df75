"""Progress bars: notebook widgets under Jupyter (when ipywidgets is there), text on a terminal.

Whether bars show is decided once per call of `mlplab.run` / `mlplab run` (`showing(on)`); library code
asks `enabled()` and wraps its loop in `bar(...)`, and never decides by itself.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_SHOW: ContextVar[bool | None] = ContextVar("mlplab_progress", default=None)


def in_notebook() -> bool:
    """True inside a Jupyter kernel (not a plain IPython console)."""
    ipython = sys.modules.get("IPython")
    try:
        shell = ipython.get_ipython() if ipython else None
    except Exception:  # an IPython too broken to ask is not a notebook
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def enabled() -> bool:
    """Bars on when asked for, else when a person watches: a terminal on stderr or a notebook."""
    asked = _SHOW.get()
    return (sys.stderr.isatty() or in_notebook()) if asked is None else asked


@contextlib.contextmanager
def showing(on: bool | None) -> Iterator[None]:
    """Within the block, bars are on (True), off (False) or decided by `enabled()` (None)."""
    token = _SHOW.set(on)
    try:
        yield
    finally:
        _SHOW.reset(token)


def bar(iterable: Iterable[T], **kwargs) -> Iterable[T]:
    """`iterable` with a tqdm.auto bar (a widget in notebooks, text elsewhere)."""
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
