"""The Ray engine: each trial a Ray task (one CPU, one torch thread) on a local instance or a cluster.

Ray retries a task whose worker process or node died (`max_retries`); a trial that fails by itself
returns a 'failed' record, which Ray sees as a normal result and never retries. Workers write the run
folders to the sweep folder's path, so on several machines that path must be shared storage.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from typing import Any

from mlplab.errors import UserError
from mlplab.sweeps.worker import record_of, run_trial

INSTALL = "pip install 'mlplab[ray]'"


def import_ray():
    """The ray module, or one line saying how to install it."""
    try:
        import ray
    except ImportError:
        raise UserError(
            f"--engine ray needs Ray, which is not installed; install it with `{INSTALL}` (or use --engine local)"
        ) from None
    return ray


def check_address(address: str, timeout: float = 3.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at HOST:PORT."""
    if address == "auto":
        return
    target = address.split("://", 1)[-1]
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(
            f"--address {address!r} is not HOST:PORT, e.g. --address 10.0.0.5:6379 "
            "(the address `ray start --head` prints)"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UserError(
            f"cannot reach a Ray cluster at {address}: {reason}; start one with `ray start --head` "
            "on that machine, or leave out --address to use a local Ray instance"
        ) from None


def _trial(spec: dict[str, Any]) -> dict[str, Any]:
    import ray
    import torch

    torch.set_num_threads(1)
    return {**run_trial(spec), "node": ray.get_runtime_context().get_node_id()}


def run_ray(
    specs: list[dict[str, Any]],
    workers: int,
    on_result: Callable[[dict], None],
    *,
    address: str | None = None,
    max_retries: int = 2,
) -> None:
    """Run every spec as a Ray task; `on_result(record)` in this process as each finishes."""
    ray = import_ray()
    if address:
        check_address(address)
    init = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR, configure_logging=True)
    if address:
        ray.init(address=address, **init)
    else:  # a private local instance, sized by --workers, with a small object store: results are tiny
        ray.init(num_cpus=workers, object_store_memory=200 * 1024**2, **init)
    try:
        task = ray.remote(num_cpus=1, max_retries=max_retries)(_trial)
        pending = {task.options(name=f"trial-{s['id']}").remote(s): s for s in specs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                spec = pending.pop(ref)
                try:
                    record = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker or node died more than max_retries times
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    record = record_of(
                        spec,
                        status="crashed",
                        run=None,
                        seconds=None,
                        error=f"{type(exc).__name__} after {max_retries} retries: {first}",
                    )
                on_result(record)
    finally:
        ray.shutdown()
