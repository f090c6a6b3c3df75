"""Where a study's trials run: this process (one worker), spawned processes (--workers K), or Ray tasks on a
local instance or a cluster (--engine ray). Every worker runs the same loop (trial.work) on the same study
database, so the results are one study whichever engine ran it; Optuna's heartbeat fails and re-asks the trial of
a worker that died."""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
from typing import Any

from mlplab.tune.trial import work


def run_local(spec: dict[str, Any], workers: int, storage, stream) -> None:
    """One worker: here, with the open storage. More: that many spawned processes, one torch thread each."""
    if workers == 1:
        work(spec, storage, stream)
        return
    from mlplab.sweeps.local import _one_thread_env

    ctx = mp.get_context("spawn")
    with _one_thread_env():
        procs = [
            ctx.Process(target=_serve, args=({**spec, "worker": i}, os.getpid()), daemon=True) for i in range(workers)
        ]
        for p in procs:
            p.start()
    try:
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
    bad = [p.exitcode for p in procs if p.exitcode]
    if bad:
        from mlplab.errors import RunFailed

        raise RunFailed(
            f"{len(bad)} of {workers} tuning workers stopped with an error (exit codes {bad}); run the "
            "same command again to resume the study"
        )


def _serve(spec: dict[str, Any], parent: int) -> None:
    import sys

    import torch

    from mlplab.sweeps.local import _watch_parent

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    torch.set_num_threads(1)
    work(spec, stream=sys.stderr)


def _ray_work(spec: dict[str, Any]) -> int:
    import torch

    torch.set_num_threads(1)
    return work(spec)


def run_ray(spec: dict[str, Any], workers: int, address: str | None) -> None:
    """`workers` Ray tasks, each a worker loop on the study database (which every node must reach: a shared
    folder for the default SQLite, or --storage postgresql://...)."""
    import logging

    from mlplab.sweeps.ray_engine import import_ray

    ray = import_ray()
    init = {
        "include_dashboard": False,
        "log_to_driver": False,
        "logging_level": logging.ERROR,
        "configure_logging": True,
    }
    if address:
        ray.init(address=address, **init)
    else:
        ray.init(num_cpus=workers, object_store_memory=200 * 1024**2, **init)
    try:
        task = ray.remote(num_cpus=1, max_retries=2)(_ray_work)
        ray.get([task.options(name=f"tune-worker-{i}").remote({**spec, "worker": i}) for i in range(workers)])
    except ray.exceptions.RayError as exc:
        from mlplab.errors import RunFailed

        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise RunFailed(
            f"a Ray tuning worker failed: {first}; run the same command again to resume the study"
        ) from None
    finally:
        ray.shutdown()
