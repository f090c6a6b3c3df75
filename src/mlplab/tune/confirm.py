"""The honest ending: the best configuration (chosen on validation) and the experiment's defaults, each re-run on
fresh seeds never used in the search and measured on the test set: mean ± std, the 95% Student-t interval and a
verdict by Welch's t-test (the intervals' overlap is reported beside it)."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

from mlplab.analysis.spread import beyond_noise, spread
from mlplab.errors import UserError
from mlplab.sweeps.metrics import flatten_numeric
from mlplab.tune.trial import quiet

CONFIRM_DIR = "confirm"
ALPHA = 0.05
ARMS = ("best", "defaults")


def test_metric(metric: str) -> str:
    """The test-set number that confirms a validation metric: val_accuracy -> test_accuracy."""
    return "test_" + metric.removeprefix("val_")


def confirm_seeds(search_seed: int, n: int) -> list[int]:
    """n seeds after the search's one: never used by any trial of the search."""
    return [search_seed + i for i in range(1, n + 1)]


def run_confirmation(
    folder: Path, experiment: str, fixed: list[str], best: list[str], seeds: list[int], stream=None
) -> dict[str, list[str]]:
    """Run (or find, when a resume already ran them) every arm x seed as a run folder under confirm/; returns the
    run folders (relative to `folder`) of each arm, in seed order."""
    from mlplab.experiments.base import execute

    runs: dict[str, list[str]] = {}
    for arm, overrides in (("best", [*fixed, *best]), ("defaults", list(fixed))):
        runs[arm] = []
        for seed in seeds:
            rel = f"{CONFIRM_DIR}/{arm}-seed{seed}"
            path = folder / rel
            if not (path / "metrics.json").is_file():
                shutil.rmtree(path, ignore_errors=True)  # a run a kill cut short starts again
                path.parent.mkdir(parents=True, exist_ok=True)
                (folder / "logs").mkdir(exist_ok=True)
                with quiet(folder / "logs" / f"{arm}-seed{seed}.txt"):
                    execute(experiment, [*overrides, f"seed={seed}"], out=str(path), report=False)
                if stream is not None:
                    print(f"confirmation: {arm} seed {seed} done", file=stream or sys.stderr, flush=True)
            runs[arm].append(rel)
    return runs


def statistics(folder: Path, runs: dict[str, list[str]], metric: str, direction: str) -> dict[str, Any]:
    """The confirmation table and verdict from the runs' own metrics.json files."""
    from scipy import stats

    name = test_metric(metric)
    arms = {}
    for arm in ARMS:
        values = []
        for rel in runs[arm]:
            numbers = flatten_numeric(json.loads((folder / rel / "metrics.json").read_text()))
            if name not in numbers:
                tests = ", ".join(k for k in numbers if k.startswith("test_")) or "none"
                raise UserError(
                    f"the confirmation needs {name} (the test-set number of --metric {metric}), which the experiment "
                    f"does not report (its test numbers: {tests}); choose a --metric whose test_ twin it reports"
                )
            values.append(numbers[name])
        arms[arm] = {"runs": runs[arm], "values": values, **spread(values).as_dict()}
    a, b = arms["best"]["values"], arms["defaults"]["values"]
    welch = stats.ttest_ind(a, b, equal_var=False) if len(a) > 1 and len(b) > 1 else None
    t = float(welch.statistic) if welch is not None else math.nan
    p = float(welch.pvalue) if welch is not None else math.nan
    sign = 1 if direction == "maximize" else -1
    diff = sign * (arms["best"]["mean"] - arms["defaults"]["mean"])
    overlap = not beyond_noise(spread(a), spread(b))
    return {
        "metric": name,
        "goal": "max" if direction == "maximize" else "min",
        "seeds": _seeds(runs),
        "arms": arms,
        "difference": arms["best"]["mean"] - arms["defaults"]["mean"],
        "welch_t": t,
        "welch_p": p,
        "alpha": ALPHA,
        "intervals_overlap": overlap,
        "verdict": verdict(diff, p, overlap, len(a)),
    }


def verdict(diff: float, p: float, overlap: bool, n: int) -> str:
    """One sentence: better, worse or not told apart from the defaults, and by which test."""
    noted = "their 95% intervals overlap" if overlap else "their 95% intervals do not overlap"
    if n < 2:
        return "one seed per arm cannot tell a difference from the seed noise; give confirm_seeds of 2 or more"
    if math.isnan(p):
        if diff == 0:
            return "the best configuration gives the very same numbers as the defaults on every seed"
        return f"no seed noise to test against (every seed gave the same number); {noted}"
    if p < ALPHA and diff > 0:
        return f"the best configuration beats the defaults beyond the seed noise (Welch t-test p = {p:.3g}; {noted})"
    if p < ALPHA and diff < 0:
        return f"the best configuration is worse than the defaults on fresh seeds (Welch t-test p = {p:.3g}; {noted})"
    return (
        f"the best configuration is not told apart from the defaults by the seed noise (Welch t-test p = {p:.3g} "
        f">= {ALPHA}; {noted})"
    )


def _seeds(runs: dict[str, list[str]]) -> list[int]:
    return [int(rel.rsplit("seed", 1)[1]) for rel in runs["best"]]
