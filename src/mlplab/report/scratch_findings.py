"""Findings of the scratch-engine runs (gradcheck, moons), composed from their metrics, tables and arrays."""

from __future__ import annotations

from mlplab.analysis.scratch_vs_torch import AUTOGRAD_PASS, TWIN_PASS
from mlplab.report.findings import Finding, register_findings
from mlplab.runs import Run


@register_findings("gradcheck")
def gradcheck(run: Run) -> list[Finding]:
    m, cfg, rows = run.metrics, run.config, run.load_table("gradient_check")
    if "twin_examples" not in m or not rows:
        return []
    worst = max(rows, key=lambda r: float(r["max_rel_error_autograd"]))["component"]
    return [
        Finding(
            "Gradient check",
            (
                f"{m['components_checked']} components checked in float64. Largest relative error against torch.autograd: "
                f"{m['max_rel_error_autograd']:.2g} ({worst}; pass mark {AUTOGRAD_PASS:g}); against central differences "
                f"(h={cfg['step']:g}): {m['max_rel_error_finite_diff']:.2g}, the truncation and rounding error of the "
                f"differences themselves. Relative error = max |hand - reference| / max |reference| over each gradient "
                f"array. Twin run: {cfg['twin_steps']} SGD steps of the scratch MLP and torch.nn's MLP from the same weights "
                f"on the same batches of {m['twin_examples']} {cfg['dataset']} examples; largest relative loss difference "
                f"{m['twin_max_rel_diff']:.2g} (pass mark {TWIN_PASS:g})."
            ),
            "gradient_check",
        )
    ]


def why_it_diverged(names: list[str], act, grad, loss, step: int, where: str, layer: str, width: int) -> str:
    """Where and why, in numbers read off the per-step norms of the network that overflowed."""
    first_act = act[0]
    fc = [i for i, n in enumerate(names) if n.startswith("fc")]
    growth = (first_act[fc[-1]] / first_act[fc[0]]) ** (1 / max(len(fc) - 1, 1)) if first_act[fc[0]] else float("nan")
    first_grad = grad[0]
    return (
        f"With weights drawn from a standard normal, "
        f"each {width}-wide layer multiplies the size of its "
        f"signal by about {growth:.1f} (He init keeps it near 1: its variance 2/fan_in is what makes the "
        f"product of gains 1). At step 1 the RMS activation grows from {first_act[fc[0]]:.3g} after "
        f"{names[fc[0]]} to {first_act[-1]:.3g} at the logits, and the loss is {loss[0]:.3g}; "
        f"the gradient grows the same way going backwards, from {first_grad[-1]:.3g} at the logits to "
        f"{first_grad[0]:.3g} at {names[0]}. One SGD step with such gradients moves the first layers' "
        f"weights by orders of magnitude, the next forward pass multiplies the larger weights again, and at "
        f"step {step} the {where} of {layer} overflowed to inf (float limits) — training stopped there "
        f"rather than continue on NaN. The He-initialised network of the same depth trains normally."
    )


@register_findings("moons")
def moons(run: Run) -> list[Finding]:
    m = run.metrics
    if "deep_normal_diverged" not in m:
        return []
    a = run.load_arrays("depth_study")
    names = [str(n) for n in a["layers"]]
    diverged = [key for key in ("deep_normal_", "deep_he_") if m.get(f"{key}diverged")]
    if diverged:
        key = diverged[-1]
        return [
            Finding(
                "Why the standard-normal network blew up",
                why_it_diverged(
                    names,
                    a[f"{key}act_rms"],
                    a[f"{key}grad_rms"],
                    a[f"{key}loss"],
                    m[f"{key}diverged_at_step"],
                    m[f"{key}diverged_in"],
                    m[f"{key}diverged_layer"],
                    int(run.config["deep_width"]),
                ),
                "depth_study",
            )
        ]
    act = a["deep_normal_act_rms"]
    return [
        Finding(
            "Depth study",
            (
                f"In this run the standard-normal network did not overflow; it reached test accuracy "
                f"{m['deep_normal_test_accuracy']:.2%} against {m['deep_he_test_accuracy']:.2%} with He init. "
                f"Its activation RMS at step 1 grew from {act[0][0]:.3g} (fc1) to "
                f"{act[0][-1]:.3g} (logits); see the per-layer norms figure."
            ),
            "depth_study",
        )
    ]
