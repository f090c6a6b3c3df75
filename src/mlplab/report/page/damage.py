"""Building a report around damaged run files: warn once per file, leave out only what it held."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from mlplab.errors import DamagedFile

log = logging.getLogger("mlplab.report")
T = TypeVar("T")


def salvage(read: Callable[[], T], default: T, consequence: str) -> T:
    """`read()`, or `default` with one warning line naming the damaged file and what the report leaves out."""
    try:
        return read()
    except DamagedFile as exc:
        log.warning("%s is damaged (%s); %s", exc.path, exc.problem, consequence)
        return default
