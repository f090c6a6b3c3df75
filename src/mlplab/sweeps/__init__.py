"""Sweeps: a grid of settings times seeds, run as ordinary trials on a local process pool or on Ray.

`sweep("classify", ["lr=1e-3,1e-2", "seed=0,1,2"])` runs (or resumes) the grid and returns its folder and
summary; `mlplab sweep` is the same call from the command line.
"""

from mlplab.sweeps.grid import Grid, Trial, parse_grid, split_values, validate
from mlplab.sweeps.metrics import flatten_numeric, main_metric
from mlplab.sweeps.runner import ENGINES, SweepResult, sweep

__all__ = [
    "ENGINES",
    "Grid",
    "SweepResult",
    "Trial",
    "flatten_numeric",
    "main_metric",
    "parse_grid",
    "split_values",
    "sweep",
    "validate",
]
