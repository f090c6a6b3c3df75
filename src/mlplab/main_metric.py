"""A run's main numbers and its main metric: one rule for the run page, the sweeps and the trainer.

It sits in the bottom row (it imports nothing of mlplab) so that report/, sweeps/ and train/ may all use it.

- `goal(name)`: which way a metric is better, read from its name: "max" when it says accuracy, precision,
  recall, F1, AUC, fraction or coverage; "min" when it says loss, mse, sse or error; else None.
- `main_metric(metrics, listed)`: (name, goal) of the number that ranks runs (a sweep's grid points): the
  first of the experiment's listed main numbers (names or glob patterns) that has a goal; without a list,
  `test_accuracy`, else `accuracy`, else the first name that `goal` calls "max", else the first that it calls
  "min", preferring one that starts with `test_`; else None. Only top-level names rank (no "a.b").
- `main_numbers(metrics, listed)`: the numbers a reader looks for first (a page's tiles, a gallery card): the
  listed ones (at most four); without a list the main metric, then the numeric metrics whose names say
  test/accuracy/error/mse/loss/auc/recall in the order the experiment returned them (at most four in all),
  else its first two numbers. Parameter counts, timings, epochs and seeds never lead by the rule.
- The trainer keeps the epoch whose monitored number is best by `goal` when its caller names no direction.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from typing import Any

MAX_MAIN = 4
_HIGHER = re.compile(r"(accuracy|precision|recall|(^|_)f1|auc|auroc|fraction|coverage)")
_LOWER = re.compile(r"(loss|mse|sse|error)")
_LEADING = re.compile(r"(test|accuracy|error|mse|loss|auc|recall)")
_NEVER_LEAD = re.compile(r"(parameters|params|seconds|epoch|^n_|_count$|seed)")


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def goal(name: str) -> str | None:
    """ "max" or "min": which way the metric `name` is better, by the words in its name; None when it says neither."""
    name = name.lower()
    if _HIGHER.search(name):
        return "max"
    if _LOWER.search(name):
        return "min"
    return None


def listed_numbers(metrics: dict[str, Any], listed: Sequence[str]) -> list[str]:
    """The numeric metrics that the names or glob patterns `listed` pick, in the list's order."""
    names: list[str] = []
    for pattern in listed:
        names += [k for k in metrics if fnmatch.fnmatchcase(k, pattern) and is_number(metrics[k]) and k not in names]
    return names


def main_metric(metrics: dict[str, Any], listed: Sequence[str] = ()) -> tuple[str, str] | None:
    """(name, "max" | "min") of the number that ranks runs, by the rule in this module's docstring."""
    for name in listed_numbers(metrics, listed):
        if "." not in name and goal(name):
            return name, goal(name)
    names = [n for n in metrics if "." not in n and is_number(metrics[n])]  # per-class entries never rank
    for name in ("test_accuracy", "accuracy"):
        if name in names:
            return name, "max"
    for name in names:
        if goal(name) == "max":
            return name, "max"
    for name in sorted((n for n in names if goal(n) == "min"), key=lambda n: not n.startswith("test_")):
        return name, "min"
    return None


def main_numbers(metrics: dict[str, Any], listed: Sequence[str] = ()) -> list[tuple[str, Any]]:
    """The numbers a reader looks for first, by the rule in this module's docstring."""
    names = listed_numbers(metrics, listed)
    if names:
        return [(k, metrics[k]) for k in names[:MAX_MAIN]]
    numeric = [k for k, v in metrics.items() if is_number(v) and not _NEVER_LEAD.search(k.lower())]
    leading = [k for k in numeric if _LEADING.search(k.lower())]
    ranked = main_metric(metrics)
    if ranked and ranked[0] in leading:
        leading.remove(ranked[0])
        leading.insert(0, ranked[0])
    return [(k, metrics[k]) for k in (leading[:MAX_MAIN] or numeric[:2])]
