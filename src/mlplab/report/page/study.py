"""A tuning study's page (study.html) and its figures, drawn from study.json alone: counts, the confirmation table
and verdict, the command that reproduces the best run, the optimisation history with the best-so-far curve, each
trial's validation curve (where the pruner stopped it), parameter importances (fANOVA) and a slice plot per key.
The layout is templates/study.html.j2 (autoescape on). Also what the gallery shows of a study folder.

A study folder is one `mlplab tune` made: tune.yaml (what is searched), study.json (written when the search and the
confirmation end), trials/NNNN/ (ordinary run folders), figures/*.png and study.html."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markupsafe import Markup

from mlplab.errors import DamagedFile
from mlplab.report.page.templates import render
from mlplab.runs import atomic_write_text

SPEC_FILE = "tune.yaml"  # what marks a study folder (tune/study.py writes it first)
RESULT_FILE = "study.json"
PAGE = "study.html"
COLOURS = {"complete": "#1f77b4", "pruned": "#ff7f0e", "failed": "#d62728", "interrupted": "#7f7f7f"}
CAPTIONS = {
    "history": "Each trial's value and the best so far",
    "curves": "Validation metric per epoch of every trial",
    "importances": "Parameter importances (fANOVA)",
    "slices": "Slice plot",
}
STYLE = Markup(
    "body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
    "img{max-width:100%}.note{background:#f4f4f4;padding:.5em}"
)


def write_page(folder: str | Path, result: dict[str, Any]) -> Path:
    """figures/*.png and study.html (atomically) from a study's result (study.json); returns the page's path."""
    folder = Path(folder)
    (folder / "figures").mkdir(exist_ok=True)
    drawn = draw_figures(folder / "figures", result)
    path = folder / PAGE
    atomic_write_text(path, render_page(result, drawn))
    return path


def fmt(value: Any) -> str:
    """A value in the study's tables: floats to 4 significant digits, NaN and None empty."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def counts_text(counts: dict[str, int]) -> str:
    return " · ".join(f"{v} {k}" for k, v in counts.items() if v)


def render_page(result: dict[str, Any], drawn: list[str]) -> str:
    best = result["best"]
    return render(
        "study.html.j2",
        r=result,
        fmt=fmt,
        style=STYLE,
        counts=counts_text(result["counts"]),
        params=", ".join(f"{k}={fmt(v)}" for k, v in best["params"].items()) if best else "",
        figures=[(name, CAPTIONS[name]) for name in drawn],
    )


def draw_figures(out: Path, result: dict[str, Any]) -> list[str]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = [r for r in result["trials"] if r["value"] is not None and r["state"] in ("complete", "pruned")]
    metric, maximize = result["metric"], result["direction"] == "maximize"
    drawn = []
    if rows:
        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for state in ("complete", "pruned"):
            mine = [r for r in rows if r["state"] == state]
            ax.scatter([r["trial"] for r in mine], [r["value"] for r in mine], s=18, c=COLOURS[state], label=state)
        complete = sorted((r for r in rows if r["state"] == "complete"), key=lambda r: r["trial"])
        best, xs, ys = None, [], []
        for r in complete:
            if best is None or (r["value"] > best if maximize else r["value"] < best):
                best = r["value"]
            xs.append(r["trial"])
            ys.append(best)
        ax.step(xs, ys, where="post", c="k", lw=1.2, label="best so far (complete trials)")
        ax.set(xlabel="trial", ylabel=metric, title="Optimisation history")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
        drawn.append(_save(fig, out / "history.png"))

        fig, ax = plt.subplots(figsize=(6.4, 3.6))
        for r in result["trials"]:
            steps = sorted(r["intermediate"], key=int)
            if steps:
                ax.plot(
                    [int(s) for s in steps],
                    [r["intermediate"][s] for s in steps],
                    c=COLOURS.get(r["state"], "k"),
                    alpha=0.7,
                    lw=1,
                    marker="." if len(steps) == 1 else None,
                )
        ax.set(xlabel="epoch", ylabel=metric, title="Validation curves (orange: stopped by the pruner)")
        drawn.append(_save(fig, out / "curves.png"))
    imp = result.get("importances") or {}
    if imp:
        fig, ax = plt.subplots(figsize=(6.4, 0.6 + 0.45 * len(imp)))
        keys = sorted(imp, key=imp.get)
        ax.barh(keys, [imp[k] for k in keys], color="#1f77b4")
        ax.set(xlabel="fANOVA importance (share of the metric's variance)", title="Parameter importances")
        drawn.append(_save(fig, out / "importances.png"))
    keys = result["space_keys"]
    if rows and keys:
        fig, axes = plt.subplots(1, len(keys), figsize=(3.2 * len(keys), 3.2), squeeze=False, sharey=True)
        for ax, key in zip(axes[0], keys, strict=True):
            for state in ("complete", "pruned"):
                mine = [r for r in rows if r["state"] == state and key in r["params"]]
                xs = [r["params"][key] for r in mine]
                ax.scatter(
                    [str(x) if isinstance(x, str) else x for x in xs],
                    [r["value"] for r in mine],
                    s=16,
                    c=COLOURS[state],
                    label=state,
                )
            if any(s.startswith(f"{key}=loguniform") for s in result["space"]):
                ax.set_xscale("log")
            ax.set(xlabel=key)
        axes[0][0].set(ylabel=metric)
        fig.suptitle("Slice plot: each trial's value against each key")
        drawn.append(_save(fig, out / "slices.png"))
    return drawn


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
    return path.stem


# ---- the gallery's view of a study folder --------------------------------------------------------------------
@dataclass
class StudyRow:
    """What the gallery shows of one study folder."""

    path: Path
    experiment: str = ""
    counts: str = ""  # "5 complete · 2 pruned"
    metric: str = ""
    best: float | None = None  # the best trial's validation value
    verdict: str = ""  # the confirmation's, when one was run
    page: Path | None = None  # study.html, where it exists
    note: str = ""  # why there are no numbers: still running, or a damaged study.json


def is_study(folder: Path) -> bool:
    return (folder / SPEC_FILE).is_file()


def study_row(folder: Path) -> StudyRow:
    """The gallery's row of a study folder, from its study.json; DamagedFile when that file is torn or does not
    hold what `mlplab tune` writes there."""
    page = folder / PAGE if (folder / PAGE).is_file() else None
    file = folder / RESULT_FILE
    if not file.is_file():
        return StudyRow(folder, page=page, note="no results yet: the study is running, or was stopped before its end")
    try:
        result = json.loads(file.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise DamagedFile(file, f"cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DamagedFile(file, f"not valid JSON: {str(exc).splitlines()[0][:80]}") from None
    try:
        best, conf = result["best"], result["confirmation"]
        counts = {str(k): int(v) for k, v in result["counts"].items()}
        value = None if best is None else float(best["value"])
        return StudyRow(
            folder,
            experiment=str(result["experiment"]),
            counts=counts_text(counts),
            metric=str(result["metric"]),
            best=value,
            verdict=str(conf["verdict"]) if conf else "",
            page=page,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DamagedFile(file, f"not the study.json mlplab writes: {type(exc).__name__} {exc}"[:120]) from None


def damaged_row(folder: Path) -> StudyRow:
    page = folder / PAGE if (folder / PAGE).is_file() else None
    return StudyRow(folder, page=page, note=f"{RESULT_FILE} is damaged: its numbers are left out")
