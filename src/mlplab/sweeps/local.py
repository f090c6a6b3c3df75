"""The local engine: a pool of spawned worker processes, one trial and one torch thread each.

Each worker has its own pipe, so when one dies (killed, out of memory) the pool knows which trial it
held: that trial goes back to the queue (up to `max_retries` times) and a new worker takes the slot.
A worker also exits when the sweep process itself dies, so a killed sweep leaves no trial running.
Ctrl-C and SIGTERM (to the sweep or to its workers) stop the running trials as they stop `mlplab run`.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection, wait
from typing import Any

from mlplab.signals import Terminated, sigterm_as_interrupt
from mlplab.sweeps.worker import record_of, run_trial

Spec = dict[str, Any]


def _watch_parent(parent: int) -> None:
    """Exit at once when the sweep process is gone (a SIGKILL gives it no chance to stop us)."""
    while True:
        if os.getppid() != parent:
            os._exit(1)
        time.sleep(0.5)


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextlib.contextmanager
def _one_thread_env() -> Iterator[None]:
    """Children started inside inherit one-thread BLAS/OpenMP settings (read when numpy and torch load)."""
    saved = {k: os.environ.get(k) for k in THREAD_VARS}
    os.environ.update(dict.fromkeys(THREAD_VARS, "1"))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _serve(conn: Connection, parent: int) -> None:
    """Worker loop: receive a trial spec, send back its record; None or a closed pipe ends it. Ctrl-C or SIGTERM
    stops the trial as they stop `mlplab run` (its run folder whole, marked interrupted) and ends the worker."""
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with contextlib.suppress(KeyboardInterrupt), sigterm_as_interrupt():
        import torch

        torch.set_num_threads(1)
        while True:
            try:
                spec = conn.recv()
            except (EOFError, OSError):
                return
            if spec is None:
                return
            conn.send(run_trial(spec))


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, os.getpid()), daemon=True)
        with _one_thread_env():
            self.process.start()
        child.close()
        self.spec: Spec | None = None

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass


def run_local(specs: list[Spec], workers: int, on_result: Callable[[dict], None], max_retries: int = 2) -> None:
    """Run every spec on `workers` processes; call `on_result(record)` in this process as each finishes."""
    if not specs:
        return
    ctx = mp.get_context("spawn")
    queue, deaths = deque(specs), {}
    pool = [_Worker(ctx) for _ in range(min(workers, len(specs)))]
    try:
        while True:
            for w in pool:
                if w.spec is None and queue:
                    w.spec = queue.popleft()
                    w.conn.send(w.spec)
            busy = [w for w in pool if w.spec is not None]
            if not busy:
                return
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for i, w in enumerate(pool):
                if w.spec is None:
                    continue
                record = _receive(w)
                if record is not None:
                    w.spec = None
                    on_result(record)
                elif not w.process.is_alive():
                    spec, w.spec = w.spec, None
                    deaths[spec["id"]] = deaths.get(spec["id"], 0) + 1
                    if deaths[spec["id"]] > max_retries:
                        on_result(
                            record_of(
                                spec,
                                status="crashed",
                                run=None,
                                seconds=None,
                                error=f"its worker process died {deaths[spec['id']]} times "
                                f"(exit code {w.process.exitcode})",
                            )
                        )
                    else:
                        queue.appendleft(spec)
                    pool[i] = _Worker(ctx)
    except Terminated:  # SIGTERM to this process alone (`docker stop`, `kill PID`): stop the trials as Ctrl-C would
        for w in pool:
            if w.spec is not None and w.process.is_alive():
                with contextlib.suppress(OSError):
                    os.kill(w.process.pid, signal.SIGTERM)
        raise
    finally:
        for w in pool:
            w.stop()
        for w in pool:
            w.process.join(timeout=10)
            if w.process.is_alive():
                w.process.terminate()


def _receive(w: _Worker) -> dict | None:
    try:
        if w.conn.poll():
            return w.conn.recv()
    except (EOFError, OSError):
        pass
    return None
