"""Findings of dreams, composed from its metrics, arrays and config."""

from __future__ import annotations

from mlplab.analysis.dream_tasks import RECOGNISED
from mlplab.report.findings import Finding, register_findings
from mlplab.runs import Run


@register_findings("dreams")
def dreams(run: Run) -> list[Finding]:
    m, cfg = run.metrics, run.config
    out = []
    if "dreams_confidence" in m:
        conf = list(m["dreams_confidence"].values())
        out.append(
            Finding(
                "Dreams",
                f"{sum(c >= cfg['confidence'] for c in conf)} of {len(conf)} dreams reached "
                f"p ≥ {cfg['confidence']:g} for their class after {m['dreams_steps']} steps "
                f"({m['dreams_seconds']:.2f} s); the lowest confidence is "
                f"{m['dreams_min_confidence']:.4f}.",
                "dreams_confidence",
            )
        )
    if "hybrid_pairs" in m:
        a = run.load_arrays("hybrids")
        pairs = a["deviation"][: len(a["deviation"]) - int(a["custom"])]
        out.append(
            Finding(
                "Hybrids",
                f"{m['hybrid_pairs_within_tolerance']} of {m['hybrid_pairs']} 50/50 pairs are "
                f"within {cfg['hybrid_tolerance']:g} of their mixture after {m['hybrid_steps']} "
                f"steps; the worst deviation is {float(pairs.max()):.4f}.",
                "hybrids",
            )
        )
    if "l2_mean_pixel" in m:
        pixel, conf = m["l2_mean_pixel"], m["l2_target_confidence"]
        out.append(
            Finding(
                "L2 penalty",
                f"As λ grows from {cfg['l2_range'][0]:g} to {cfg['l2_range'][1]:g} the mean "
                f"pixel falls from {pixel[0]:.3f} to {pixel[-1]:.3f} "
                f"({'monotonically' if m['l2_mean_pixel_monotonic'] else 'not monotonically'})"
                f" and the mean target probability goes from {conf[0]:.3f} to "
                f"{conf[-1]:.3f}.",
                "l2_sweep",
            )
        )
    if "judge_recognised_robust" in m:
        n = len(m["judge_p_plain"])
        out.append(
            Finding(
                "Robust dreams and the judge",
                (
                    f"An independently trained CNN recognises (p ≥ {RECOGNISED:g}) {m['judge_recognised_plain']} of {n} plain "
                    f"dreams and {m['judge_recognised_robust']} of {n} robust dreams (ensemble of {m['ensemble_size']}, "
                    f"jitter {cfg['jitter']} px, rotation ±{cfg['rotate']:g}°, zoom ±{cfg['zoom']:g}, blur σ "
                    f"{cfg['blur_sigma']:g} every {cfg['blur_every']} steps, TV {cfg['tv']:g}, L2 {cfg['robust_l2']:g}, "
                    f"{cfg['robust_steps']} steps). The classifier's own confidence in the robust dreams is "
                    f"{min(m['robust_classifier_confidence'].values()):.3f} at the lowest."
                ),
                "judge",
            )
        )
    return out
