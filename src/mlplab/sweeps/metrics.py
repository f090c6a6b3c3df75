"""Which numbers of a run's metrics.json a sweep summarises, and which one ranks the grid points.

The main metric is the one the run page shows first, by the rule of mlplab.main_metric that the page, the
sweeps and the trainer share: the first of the experiment's main numbers with a direction, else
`test_accuracy`, `accuracy`, another accuracy-like number (higher is better), a loss/mse/sse (lower is
better, `test_` first); else none, and the grid points keep their grid order.
"""

from __future__ import annotations

import math
from typing import Any

from mlplab.main_metric import main_metric as rule


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


def main_metric(metrics: dict[str, float], experiment: str = "") -> tuple[str, str] | None:
    """(name, "max" | "min") of the metric that ranks grid points: the rule of mlplab.main_metric, with the
    experiment's registered main numbers (the run page's) when `experiment` is given."""
    from mlplab.report.page.registry import main_patterns

    return rule(metrics, main_patterns(experiment) if experiment else ())
