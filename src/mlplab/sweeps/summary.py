"""The sweep's summary: per grid point, every numeric metric as mean ± std and a 95% interval over seeds.

Numbers come from each finished trial's own metrics.json (the run folder is the source of truth);
summary.json and summary.csv hold every metric, summary.html the ranked table and a figure.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from mlplab.analysis.spread import spread
from mlplab.errors import UserError
from mlplab.runs import atomic_write_text, to_jsonable
from mlplab.sweeps.grid import SEED, Grid, Trial
from mlplab.sweeps.metrics import flatten_numeric, main_metric

STATS = ("mean", "std", "ci_low", "ci_high", "n")


def trial_metrics(sweep_dir: Path, record: dict[str, Any]) -> dict[str, float]:
    """The flattened numbers of a finished trial's metrics.json ({} when it failed); UserError naming the file
    when it is damaged."""
    raw = read_metrics(sweep_dir, record)
    try:
        return flatten_numeric(raw)
    except (OverflowError, RecursionError):
        raise _damaged(Path(sweep_dir) / record["run"] / "metrics.json", "a number too large or too deep") from None


def read_metrics(sweep_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    """A finished trial's metrics.json as written ({} when it failed or has none)."""
    if record.get("status") != "ok" or not isinstance(record.get("run"), str):
        return {}
    path = Path(sweep_dir) / record["run"] / "metrics.json"
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError, RecursionError):  # JSONDecodeError is a ValueError, as is a huge int
        raise _damaged(path, "not valid JSON") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    if not isinstance(raw, dict):
        raise _damaged(path, f"a JSON {type(raw).__name__}, not an object of metrics")
    return raw


def _damaged(path: Path, problem: str) -> UserError:
    return UserError(
        f"{path} is damaged ({problem}); restore it, or delete the folder {path.parent} and run the same sweep "
        "again to redo that trial"
    )


def check_finished(sweep_dir: Path, records: list[dict[str, Any]]) -> None:
    """Read every finished trial's metrics.json as the summary will; UserError naming the first damaged one."""
    per_trial = [trial_metrics(sweep_dir, r) for r in records]
    main = next((m for m in (main_metric(v) for v in per_trial if v) if m), None)
    if main is not None:
        _check_main(sweep_dir, main[0], records)


def _check_main(sweep_dir: Path, name: str, records: list[dict[str, Any]]) -> None:
    """The main metric must be a number (or null, a NaN) in every trial that has it: a text there is damage."""
    for record in records:
        value = read_metrics(sweep_dir, record).get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
            raise _damaged(Path(sweep_dir) / record["run"] / "metrics.json", f"{name} is {shown}, not a number")


def summarize(sweep_dir: Path, grid: Grid, trials: list[Trial], records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The summary as a dict: one entry per grid point, ranked by the main metric (see sweep.metrics)."""
    per_trial = {t.key: trial_metrics(sweep_dir, records[t.key]) for t in trials if t.key in records}
    names: list[str] = []
    for values in per_trial.values():
        names += [n for n in values if n not in names]
    main = next((m for m in (main_metric(v, grid.experiment) for v in per_trial.values() if v) if m), None)
    if main is not None:
        _check_main(sweep_dir, main[0], [records[t.key] for t in trials if t.key in records])
    points = []
    for p, point in enumerate(grid.points()):
        mine = [t for t in trials if t.point == p]
        ok = [t for t in mine if records.get(t.key, {}).get("status") == "ok"]
        points.append(
            {
                "point": {k: point[k] for k in grid.varying},
                "n": len(ok),
                "seeds": [t.seed for t in ok],
                "runs": [records[t.key]["run"] for t in ok],
                "failed": [
                    {"seed": t.seed, "status": records[t.key]["status"], "error": records[t.key].get("error")}
                    for t in mine
                    if t.key in records and t not in ok
                ],
                "missing": [t.seed for t in mine if t.key not in records],
                "metrics": {n: spread(per_trial[t.key].get(n, math.nan) for t in ok).as_dict() for n in names},
            }
        )
    if main is not None:
        sign = -1 if main[1] == "max" else 1
        points.sort(
            key=lambda e: (
                math.isnan(e["metrics"][main[0]]["mean"]),
                sign * e["metrics"][main[0]]["mean"] if e["metrics"][main[0]]["n"] else 0,
            )
        )
    for rank, entry in enumerate(points, 1):
        entry["rank"] = rank
    return {
        "experiment": grid.experiment,
        "main_metric": {"name": main[0], "goal": main[1]} if main else None,
        "varying": grid.varying,
        "fixed": {k: v[0] for k, v in grid.axes.items() if len(v) == 1 and k != SEED},
        "seeds": grid.seeds,
        "trials": len(trials),
        "finished": sum(1 for t in trials if records.get(t.key, {}).get("status") in ("ok", "failed")),
        "ok": sum(1 for t in trials if records.get(t.key, {}).get("status") == "ok"),
        "metric_names": names,
        "points": points,
    }


def to_csv(summary: dict[str, Any]) -> str:
    """One row per grid point: rank, the varying keys, n seeds, n failed, then METRIC_mean/std/ci_low/ci_high."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    names = summary["metric_names"]
    writer.writerow(
        ["rank", *summary["varying"], "n_seeds", "n_failed", *[f"{n}_{s}" for n in names for s in STATS[:-1]]]
    )
    for e in summary["points"]:
        writer.writerow(
            [
                e["rank"],
                *e["point"].values(),
                e["n"],
                len(e["failed"]),
                *[_num(e["metrics"][n][s]) for n in names for s in STATS[:-1]],
            ]
        )
    return buf.getvalue()


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else repr(x)


def write_summary(
    sweep_dir: Path, grid: Grid, trials: list[Trial], records: dict[str, dict[str, Any]], command: str = ""
) -> dict[str, Any]:
    """Write summary.json, summary.csv, summary.png and summary.html (each atomically); return the summary."""
    from mlplab.sweeps.page import write_figure, write_html

    sweep_dir = Path(sweep_dir)
    summary = summarize(sweep_dir, grid, trials, records)
    atomic_write_text(sweep_dir / "summary.json", json.dumps(to_jsonable(summary), indent=2) + "\n")
    atomic_write_text(sweep_dir / "summary.csv", to_csv(summary))
    figure = write_figure(sweep_dir, summary)
    write_html(sweep_dir, summary, command, figure)
    return summary
