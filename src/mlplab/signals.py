"""SIGTERM (what batch schedulers, `docker stop` and `kill` send) handled exactly as Ctrl-C is.

Inside `sigterm_as_interrupt()` a SIGTERM raises `Terminated`, a KeyboardInterrupt, so every handler that
keeps files whole and marks a run `interrupted` on Ctrl-C does the same for it. Only the first SIGTERM
raises: a second one while that cleanup runs is ignored (SIGKILL still ends the process at once).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by SIGTERM; exit code 128 + 15, as a shell reports it."""

    exit_code = 128 + signal.SIGTERM


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises Terminated in the main thread; elsewhere (no handler can be set) a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def handler(signum, frame):
        nonlocal fired
        if not fired:
            fired = True
            raise Terminated("stopped by SIGTERM")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for Ctrl-C (SIGINT), 143 for SIGTERM: what a shell reports for a process those signals ended."""
    return getattr(exc, "exit_code", 128 + signal.SIGINT)
