"""Which numbers of a run's metrics.json a sweep summarises, and which one ranks the grid points.

The main metric, by one rule for every experiment: `test_accuracy`, else `accuracy`, else the first
metric whose name ends in `accuracy` (higher is better); else the first metric whose name contains
`loss`, `mse` or `sse`, preferring one that starts with `test_` (lower is better); else none, and the
grid points keep their grid order.
"""

from __future__ import annotations

import math
from typing import Any

LOWER_IS_BETTER = ("loss", "mse", "sse")


def flatten_numeric(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every number of a (nested) metrics dict as `a.b -> float`; None (a NaN in JSON) stays as NaN."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_numeric(value, prefix=f"{name}."))
        elif value is None:
            out[name] = math.nan
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def main_metric(metrics: dict[str, float]) -> tuple[str, str] | None:
    """(name, "max" | "min") of the metric that ranks grid points, by the rule in this module's docstring."""
    names = [n for n in metrics if "." not in n]  # top-level numbers only: per-class entries never rank
    for name in ("test_accuracy", "accuracy"):
        if name in names:
            return name, "max"
    for name in names:
        if name.endswith("accuracy"):
            return name, "max"
    lower = [n for n in names if any(word in n for word in LOWER_IS_BETTER)]
    for name in sorted(lower, key=lambda n: not n.startswith("test_")):
        return name, "min"
    return None
