"""What the run page and the gallery say about a run: status, times, command, main numbers, main figure.

Main numbers: the metrics that the experiment's entry in MAIN_METRICS names (names or glob patterns, at most
four), else the rule: up to four numeric metrics whose names say test/accuracy/error/mse/loss/auc/recall, in
the order the experiment returned them, else its first two numbers; parameter counts, timings, epochs and
seeds never lead by the rule. A new experiment adds its line to MAIN_METRICS when the rule picks badly.
Numbers carry units from their names: accuracy, precision, recall, F1, AUC and rates in [0, 1] are shown as
percentages; `*seconds` as seconds.
"""

from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlplab.runs import Run

MAIN_METRICS: dict[str, tuple[str, ...]] = {  # per experiment: names or glob patterns, in the order shown
    "classify": ("test_accuracy", "test_loss", "best_val_accuracy", "train_seconds"),
    "one-vs-rest": ("accuracy", "precision", "recall", "f1"),
    "moons": ("test_accuracy", "deep_normal_test_accuracy", "deep_he_test_accuracy"),
    "scratch-mnist": ("test_accuracy", "test_loss", "train_seconds"),
    "dreams": ("classifier_test_accuracy", "dreams_min_confidence", "hybrid_max_deviation", "judge_test_accuracy"),
    "explore": ("knn_accuracy_2d", "pca_components_for_90pct", "pca_components_for_99pct"),
    "gradcheck": ("max_rel_error_autograd", "max_rel_error_finite_diff", "twin_max_rel_diff"),
    "ae-manifold": ("test_mse", "classifier_accuracy_on_reconstructions", "classifier_test_accuracy"),
    "ae-ood": ("auroc_noise", "mean_error_in_distribution", "mean_error_noise"),
    "ae-conv": ("conv_*_test_mse", "mlp_*_test_mse"),
    "ae-denoising": ("denoising_sse_per_image_*", "improvement_*"),
    "ae-pca": ("ae_mse_k*", "pca_mse_k*"),
    "ae-sparse": ("mse_*",),
    "ae-undercomplete": ("mse_h*",),
    "optimizers": ("network/Adam/test_accuracy", "network/SGDMomentum/test_accuracy", "network/SGD/test_accuracy"),
    "mlp-protocol": ("test_accuracy", "best_val_accuracy", "best_epoch", "train_seconds"),
    "mlp-improve": (
        "best_mean_test_accuracy",
        "baseline/mean_test_accuracy",
        "all/mean_test_accuracy",
        "total_train_seconds",
    ),
    "pixel-shuffle": (
        "none/mean_test_accuracy",
        "fixed/mean_test_accuracy",
        "per-image/mean_test_accuracy",
        "sorted/mean_test_accuracy",
    ),
    "gan": ("decent_fraction", "recall", "fd_ratio", "coverage"),
}
MAX_MAIN = 4
_PERCENT = re.compile(r"(accuracy|precision|recall|(^|_)f1|(^|_)auc|auroc|_rate$|^rate_|fraction|share)")
_SECONDS = re.compile(r"(seconds|_s)$")
_LEADING = re.compile(r"(test|accuracy|error|mse|loss|auc|recall)")
_NEVER_LEAD = re.compile(r"(parameters|params|seconds|epoch|^n_|_count$|seed)")


@dataclass
class Summary:
    """The facts a page header and a gallery card show for one run folder."""

    path: Path
    experiment: str
    dataset: str
    status: str  # finished, resumed, failed, interrupted, running, unknown
    started: str  # "2026-12-01 14:03" or ""
    seconds: float | None
    command: str
    main: list[tuple[str, Any]] = field(default_factory=list)
    main_figure: Path | None = None
    error: str = ""


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def fmt_number(key: str, value: Any) -> str:
    """A number rounded for reading, with its unit (%, s) when its name says which."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if not is_number(value):
        return str(value)
    name = key.lower()
    if _PERCENT.search(name) and 0 <= value <= 1:
        return f"{100 * value:.2f} %"
    if _SECONDS.search(name):
        return fmt_duration(float(value))
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:
        return "NaN"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == 0 or abs(value) >= 1e-3:
        return f"{value:.4g}"
    return f"{value:.3e}"


def fmt_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes} min {sec:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def main_metrics(experiment: str, metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """The numbers a reader looks for first (see the module docstring for the rule)."""
    listed: list[str] = []
    for pattern in MAIN_METRICS.get(experiment, ()):
        listed += [k for k in metrics if fnmatch.fnmatchcase(k, pattern) and is_number(metrics[k]) and k not in listed]
    if listed:
        return [(k, metrics[k]) for k in listed[:MAX_MAIN]]
    numeric = [(k, v) for k, v in metrics.items() if is_number(v) and not _NEVER_LEAD.search(k.lower())]
    leading = [kv for kv in numeric if _LEADING.search(kv[0].lower())]
    return leading[:MAX_MAIN] or numeric[:2]


def reproduce_command(run: Run, config: dict[str, Any]) -> str:
    """The command recorded at run time, else one rebuilt from config.yaml (every resolved key)."""
    from mlplab.config import format_overrides

    recorded = run.status.get("command")
    if recorded:
        return str(recorded)
    return shlex.join(["mlplab", "run", str(config.get("experiment", "")), *format_overrides(config)])


def main_figure(run: Run) -> Path | None:
    """The figure a card shows: the first PNG whose name says samples/reconstructions/…, else the first one."""
    figures = sorted((run.path / "figures").glob("*.png"))
    for word in ("dream", "reconstruction", "samples", "grid", "confusion", "pca", "decision", "curves"):
        for f in figures:
            if word in f.stem:
                return f
    return figures[0] if figures else None


def summarize(run: Run) -> Summary:
    from mlplab.report.damage import salvage

    config = salvage(lambda: run.config, {}, "the report leaves out the configuration")
    metrics = salvage(lambda: run.metrics, {}, "the report leaves out the final metrics")
    status = salvage(lambda: run.status, {}, "the report leaves out the run's status")
    state = status.get("status") or ("finished" if metrics else "unknown")
    if state == "finished" and status.get("resumes"):
        state = "resumed"
    started = status.get("started") or _env(run).get("started") or ""
    return Summary(
        path=run.path,
        experiment=str(config.get("experiment", "")),
        dataset=str(config.get("dataset", "")),
        status=state,
        started=_short_date(started),
        seconds=status.get("seconds"),
        command=reproduce_command(run, config),
        main=main_metrics(str(config.get("experiment", "")), metrics),
        main_figure=main_figure(run),
        error=str(status.get("error") or ""),
    )


def _env(run: Run) -> dict[str, Any]:
    f = run.path / "env.json"
    try:
        return json.loads(f.read_text()) if f.is_file() else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _short_date(iso: str) -> str:
    try:
        return _dt.datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso)
