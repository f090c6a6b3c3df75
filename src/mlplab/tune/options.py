"""The options of a study (not config keys of the experiment): written once here, taken as keywords by
`mlplab.tune(...)` (the Python entry point, whose signature shows them) and by the runner."""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True)
class Options:
    trials: int = 20
    metric: str = "val_accuracy"
    pruner: str = "median"
    confirm_seeds: int = 3
    engine: str = "local"
    address: str | None = None
    workers: int | None = None
    storage: str | None = None
    out: str | os.PathLike | None = None
    root: str | os.PathLike = "studies"


NAMES = tuple(f.name for f in fields(Options))


def entry_signature() -> inspect.Signature:
    """`tune(experiment, /, *space, trials=20, ..., root="studies", **fixed)`: the options as keywords."""
    P = inspect.Parameter
    return inspect.Signature(
        [P("experiment", P.POSITIONAL_ONLY, annotation="str"), P("space", P.VAR_POSITIONAL, annotation="str")]
        + [P(f.name, P.KEYWORD_ONLY, default=f.default, annotation=f.type) for f in fields(Options)]
        + [P("fixed", P.VAR_KEYWORD, annotation=Any)],
        return_annotation="Study",
    )
