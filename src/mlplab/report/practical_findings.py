"""Findings of the practical's runs (optimizers, mlp-protocol, mlp-improve, pixel-shuffle), composed from
their metrics, tables and histories; the figures are in report/practical_*.py."""

from __future__ import annotations

import math

from mlplab.analysis.spread import beyond_noise
from mlplab.analysis.surfaces import STEEP_OPTIMA
from mlplab.report.findings import Finding, register_findings
from mlplab.report.practical_improve import by_row
from mlplab.report.practical_shuffle import by_mode
from mlplab.runs import Run

# ---- mlp-improve ------------------------------------------------------------
# mean test accuracy over 3 seeds the issue sets per dataset (MNIST: a row without augmentation)
TARGETS = {"fashion-mnist": 0.910, "mnist": 0.989, "cifar10": 0.56}


def _pct(v: float) -> str:
    return f"{v * 100:.2f}%"


@register_findings("mlp-improve")
def improve(run: Run) -> list[Finding]:
    s, m = by_row(run), run.metrics
    if not s:
        return []
    changes = {r["row"]: r["change"] for r in run.load_table("ablation")}
    base = s.get("baseline")
    out = []
    for name, v in s.items():
        text = f"{changes.get(name, name)}: {_pct(v.mean)} ± {_pct(v.std)} (95% CI {_pct(v.ci_low)}–{_pct(v.ci_high)}, n={v.n})."
        if base is not None and name != "baseline":
            delta = (v.mean - base.mean) * 100
            if v.n < 2:
                verdict = "one seed: no interval, so no verdict"
            elif beyond_noise(v, base):
                verdict = "helped beyond the seed noise" if delta > 0 else "hurt beyond the seed noise"
            else:
                verdict = "within the seed noise (the intervals overlap)"
            text += f" {delta:+.2f} points against the baseline: {verdict}."
        out.append(Finding(f"Row {name}", text, "ablation"))
    total = float(m.get("total_train_seconds", 0))
    out.append(
        Finding(
            "Budget",
            (
                f"{m.get('epochs')} epochs per model, {len(run.load_table('per_seed'))} models, {total / 60:.1f} minutes of "
                "training in all on this machine. The study's default budget (40 epochs per model, 4 on the embedded "
                "digits; experiments/practical/improve.py STUDY_EPOCHS) was sized so that the default ablation on "
                "Fashion-MNIST (9 rows x 3 seeds) finishes within 60 minutes on 2 CPU cores: it took 27.6 minutes of wall "
                "time on a 2-core AMD EPYC; the time above is what this run took."
            ),
            "per_seed",
        )
    )
    target = TARGETS.get(str(m.get("dataset")))
    if target is not None:
        best = max(s, key=lambda r: s[r].mean)
        out.append(
            Finding(
                "Target",
                f"Target on {m.get('dataset')}: mean ≥ {_pct(target)} over 3 seeds. Best row: "
                f"{best} with {_pct(s[best].mean)} over {s[best].n} seed(s) — "
                f"{'reached' if s[best].mean >= target and s[best].n >= 3 else 'not reached'}.",
                "ablation",
            )
        )
    if m.get("flip_on_digits"):
        out.append(
            Finding(
                "Flipped digits",
                f"augment included flip on {m.get('dataset')}: a left-right mirror turns "
                "many characters into shapes of no class (or another class), so the flip rows train on "
                "partly wrong labels; they ran as asked.",
                "augment",
            )
        )
    return out


# ---- optimizers ------------------------------------------------------------
def _point(r: dict[str, str]) -> str:
    w1, w2 = float(r["end_w1"]), float(r["end_w2"])
    return "diverged" if not (math.isfinite(w1) and math.isfinite(w2)) else f"({w1:.3g}, {w2:.3g})"


def end_verdict(surface: str, r: dict[str, str]) -> str:
    """What the end point means on the practical's surfaces (from the numbers, whatever the settings)."""
    w1, w2 = float(r["end_w1"]), float(r["end_w2"])
    if r["diverged"] == "True":
        return "diverged"
    if surface == "curvature":
        return (
            "ran down the valley (w2 < -7.5, |w1| < 0.5)"
            if w2 < -7.5 and abs(w1) < 0.5
            else "did not get far down the valley"
        )
    if surface == "steep-optima":
        wells = [m for m in STEEP_OPTIMA if math.hypot(w1 - m[0], w2 - m[1]) < 0.05]
        if wells:
            return f"sits in the well at {wells[0]}"
        return (
            "passed through a well (lowest loss {:.3g}) but was thrown out by its steep wall".format(
                float(r["lowest_loss"])
            )
            if float(r["lowest_loss"]) < -1
            else "never found a well"
        )
    return ""


@register_findings("optimizers")
def optimizers(run: Run) -> list[Finding]:
    rows = run.load_table("end_points")
    out = []
    for surface in dict.fromkeys(r["surface"] for r in rows):
        mine = [r for r in rows if r["surface"] == surface]
        ends = "; ".join(
            f"{r['optimizer']} (lr {float(r['lr']):g}) ends at {_point(r)}, loss {float(r['end_loss']):.4g}"
            + (f": {end_verdict(surface, r)}" if end_verdict(surface, r) else "")
            for r in mine
        )
        best = min(mine, key=lambda r: float(r["end_loss"]) if r["diverged"] != "True" else math.inf)
        text = (
            f"From ({float(mine[0]['start_w1']):g}, {float(mine[0]['start_w2']):g}) after "
            f"{run.config.get('updates')} updates: {ends}. Lowest end: {best['optimizer']}."
        )
        text += {
            "curvature": " The valley is steep across w1 and ever flatter along w2, so one learning rate "
            "fits neither direction for plain SGD; momentum accumulates the small, consistent "
            "w2 gradient and Adam rescales each parameter's step by its gradient's size.",
            "steep-optima": " The minima are narrow wells in a flat plain: at (0, 0) the gradient is tiny, "
            "Adam's per-parameter scaling turns it into a full-size step, while the wells' "
            "steep walls give SGD huge gradients.",
        }.get(surface, "")
        out.append(Finding(f"Surface {surface}", text, "end_points"))
    net = run.load_table("network")
    if net:
        ranked = sorted(net, key=lambda r: -float(r["test_accuracy"]))
        beta, sgdm = float(run.config.get("momentum", 0.9)), [r for r in net if r["optimizer"] == "SGDMomentum"]
        out.append(
            Finding(
                f"Optimizers on an MLP ({run.metrics.get('network_dataset')})",
                "Test accuracy from the same initial weights and batches: "
                + ", ".join(f"{r['optimizer']} {float(r['test_accuracy']):.2%}" for r in ranked)
                + f". SGDMomentum's steps are 1/(1-beta) = {1 / (1 - beta):.3g}x shorter than those of torch's SGD with "
                f"momentum at the same lr: it equals torch's SGD(lr*(1-beta), momentum=beta), here lr "
                f"{float(sgdm[0]['lr']) * (1 - beta):.3g}."
                if sgdm
                else ".",
                "network",
            )
        )
    return out


# ---- mlp-protocol ------------------------------------------------------------
PRACTICAL_CIFAR10 = "52–53%"  # what the practical expects on CIFAR-10 with this protocol


@register_findings("mlp-protocol")
def protocol(run: Run) -> list[Finding]:
    m = run.metrics
    if not m:
        return []
    c = run.config
    text = (
        f"MLP(hidden_sizes={c.get('hidden_sizes')}) on {m['dataset']}: "
        f"{m['train_size']} training and {m['val_size']} validation images (split seeded by seed={c.get('seed')}), "
        f"{c.get('epochs')} epochs of {c.get('optimizer')} at lr {c.get('lr')}, validated at epochs "
        f"{m['validated_epochs']}. The best validation accuracy, {m['best_val_accuracy']:.2%} at epoch "
        f"{m['best_epoch']}, was saved to checkpoints/best.pt, reloaded from disk "
        f"({'identical to' if m['reloaded_equals_best'] else 'DIFFERENT from'} the weights the trainer restored) "
        f"and tested once: {m['test_accuracy']:.2%} on {m['test_size']} test images."
        if m.get("best_val_accuracy") is not None
        else f"No validation split: the checkpoint of the lowest training loss (epoch {m['best_epoch']}) was tested: "
        f"{m['test_accuracy']:.2%}."
    )
    out = [Finding("Protocol", text, "test_accuracy")]
    if m.get("dataset") == "cifar10":
        out.append(
            Finding(
                "Against the practical",
                f"The practical expects {PRACTICAL_CIFAR10} test accuracy on "
                f"CIFAR-10 with this protocol; this run: {m['test_accuracy']:.2%}.",
                "test_accuracy",
            )
        )
    return out


# ---- pixel-shuffle ------------------------------------------------------------
@register_findings("pixel-shuffle")
def pixel_shuffle(run: Run) -> list[Finding]:
    s = by_mode(run)
    if not s:
        return []
    table = "; ".join(
        f"{m}: {v.mean:.2%} ± {v.std:.2%} (95% CI {v.ci_low:.2%}–{v.ci_high:.2%}, n={v.n})" for m, v in s.items()
    )
    out = [Finding("Test accuracy by mode", table, "per_seed")]
    if "none" in s and "fixed" in s:
        gap = s["fixed"].mean - s["none"].mean
        differs = beyond_noise(s["fixed"], s["none"])
        meaning = (
            "An MLP's first layer gives each input position its own weights and nothing ties neighbouring "
            "positions together, so a fixed reordering of the pixels is only a reordering of its weight rows: "
            "the MLP does not use the spatial arrangement it is given, only which pixel is which."
            if not differs
            else "A difference beyond the noise is not what the symmetry argument predicts (a fixed reordering is "
            "a reordering of the first layer's weight rows); with more seeds or epochs it should shrink."
        )
        out.append(
            Finding(
                "One fixed permutation",
                f"A fixed permutation changes the accuracy by {gap * 100:+.2f} "
                f"points ({'beyond' if differs else 'within'} the seed noise). {meaning}",
                "per_seed",
            )
        )
    lost = [m for m in ("per-batch", "per-image") if m in s]
    if lost and "none" in s:
        parts = [f"{m} {s[m].mean:.2%}" for m in lost]
        text = (
            f"With a new permutation per batch or image ({', '.join(parts)} vs {s['none'].mean:.2%} unshuffled) "
            "a pixel's position carries no information any more: the network can use only what survives any "
            "permutation, the image's bag of intensities."
        )
        if "sorted" in s:
            text += (
                f" A classifier on the sorted pixel values (the intensity histogram, which no permutation can "
                f"hurt) reaches {s['sorted'].mean:.2%}: that is roughly what is left to learn once positions "
                "are gone, and how far it sits below no shuffle measures what the identity of each pixel "
                "position is worth."
            )
        out.append(Finding("New permutations", text, "per_seed"))
    return out
