"""The study page (study.html) and its figures, drawn from study.json alone: counts, the confirmation table and
verdict, the command that reproduces the best run, the optimisation history with the best-so-far curve, each
trial's validation curve (where the pruner stopped it), parameter importances (fANOVA) and a slice plot per key."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

from mlplab.runs import atomic_write_text

FIGURES = ("history", "curves", "importances", "slices")
COLOURS = {"complete": "#1f77b4", "pruned": "#ff7f0e", "failed": "#d62728", "interrupted": "#7f7f7f"}


def importances(study) -> dict[str, float]:
    """fANOVA importance of each searched key for the validation metric (Optuna's evaluator, seeded); {} when
    fewer than two trials are complete or nothing varies."""
    import warnings

    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            found = optuna.importance.get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
        except (RuntimeError, ValueError):  # e.g. every complete trial has the same value
            return {}
    return {k: float(v) for k, v in found.items()}


def write_page(folder: Path, result: dict[str, Any]) -> Path:
    """figures/*.png and study.html (atomically); returns the page's path."""
    folder = Path(folder)
    (folder / "figures").mkdir(exist_ok=True)
    drawn = draw_figures(folder / "figures", result)
    path = folder / "study.html"
    atomic_write_text(path, render(result, drawn))
    return path


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


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def render(result: dict[str, Any], drawn: list[str]) -> str:
    esc = lambda v: html.escape(_fmt(v), quote=True)
    counts = " · ".join(f"{v} {k}" for k, v in result["counts"].items() if v)
    best, conf = result["best"], result["confirmation"]
    parts = [
        f"<h1>Study: {esc(result['experiment'])}</h1>",
        f"<p><code>{esc(result['command'])}</code></p>",
        f"<p>Optuna TPE sampler (seed {esc(result['search_seed'])}), {esc(result['pruner'])} pruner, "
        f"study database: {esc(result['storage'])}. Trials: <b id='counts'>{esc(counts)}</b>.</p>",
        f"<p class='note'>The search selects on the validation set only ({esc(result['metric'])}, "
        f"{'higher' if result['direction'] == 'maximize' else 'lower'} is better); the test set is used by the "
        "confirmation below and by nothing else.</p>",
    ]
    if best:
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in best["params"].items())
        parts.append(
            f"<h2>Best configuration</h2><p>Trial {esc(best['trial'])} (<a href='{esc(best['page'])}'>its run</a>): "
            f"{esc(result['metric'])} {esc(best['value'])} with {esc(params)}.</p>"
            f"<p>Reproduce it: <code id='reproduce'>{esc(best['command'])}</code></p>"
        )
    if conf:
        head = (
            "<tr><th>configuration</th><th>n</th><th>mean ± std</th><th>95% interval</th>"
            + "".join(f"<th>seed {esc(s)}</th>" for s in conf["seeds"])
            + "</tr>"
        )
        body = "".join(
            f"<tr><td>{esc(arm)}</td><td>{esc(a['n'])}</td><td>{esc(a['mean'])} ± {esc(a['std'])}</td>"
            f"<td>{esc(a['ci_low'])} – {esc(a['ci_high'])}</td>"
            + "".join(
                f"<td><a href='{esc(run)}/'>{esc(v)}</a></td>" for v, run in zip(a["values"], a["runs"], strict=True)
            )
            + "</tr>"
            for arm, a in conf["arms"].items()
        )
        parts.append(
            f"<h2>Confirmation on fresh seeds ({esc(conf['metric'])}, test set)</h2>"
            f"<p>The best configuration and the experiment's defaults, each re-run on seeds "
            f"{esc(', '.join(map(str, conf['seeds'])))}, none of them used by the search.</p>"
            f"<table id='confirmation'>{head}{body}</table>"
            f"<p id='verdict'><b>Verdict:</b> {esc(conf['verdict'])}. Welch t = {esc(conf['welch_t'])}, "
            f"p = {esc(conf['welch_p'])}.</p>"
        )
    elif best:
        parts.append("<p>No confirmation was run (confirm_seeds = 0): the best value above is one seed's.</p>")
    captions = {
        "history": "Each trial's value and the best so far",
        "curves": "Validation metric per epoch of every trial",
        "importances": "Parameter importances (fANOVA)",
        "slices": "Slice plot",
    }
    for name in drawn:
        parts.append(
            f"<figure><img src='figures/{name}.png' alt='{esc(captions[name])}'>"
            f"<figcaption>{esc(captions[name])}</figcaption></figure>"
        )
    keys = result["space_keys"]
    head = "".join(f"<th>{esc(k)}</th>" for k in ["trial", "state", result["metric"], "epochs", *keys, "run"])
    body = "".join(
        f"<tr class='{esc(r['state'])}'><td>{esc(r['trial'])}</td><td>{esc(r['state'])}</td><td>{esc(r['value'])}</td>"
        f"<td>{esc(r['epochs_run'])}</td>"
        + "".join(f"<td>{esc(r['params'].get(k))}</td>" for k in keys)
        + (f"<td><a href='{esc(r['run'])}/'>{esc(r['run'])}</a></td>" if r["run"] else "<td></td>")
        + "</tr>"
        for r in result["trials"]
    )
    parts.append(f"<h2>Trials</h2><table id='trials'><tr>{head}</tr>{body}</table>")
    style = (
        "body{font-family:sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}"
        "img{max-width:100%}.note{background:#f4f4f4;padding:.5em}"
    )
    title = f"mlplab study · {esc(result['experiment'])}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>"
        f"<body>{''.join(parts)}</body></html>\n"
    )
