"""Findings of the autoencoder experiments, composed from their metrics and tables."""

from __future__ import annotations

from mlplab.report.findings import Finding, register_findings
from mlplab.runs import Run


def _rows(run: Run, table: str) -> list[dict]:
    """Table rows with numbers as numbers (ints where the text is an integer)."""

    def value(text: str):
        for kind in (int, float):
            try:
                return kind(text)
            except ValueError:
                pass
        return text

    return [{k: value(v) for k, v in row.items()} for row in run.load_table(table)]


@register_findings("ae-pca")
def pca(run: Run) -> list[Finding]:
    rows, metrics = _rows(run, "errors_by_k"), run.metrics
    if not rows or "pca_fit_images" not in metrics:
        return []
    parts = [
        f"k={r['k']}: PCA {r['pca_sse_per_image']:.2f}, AE {r['ae_sse_per_image']:.2f} "
        f"({100 * (1 - r['ae_over_pca']):.0f}% lower)"
        if r["ae_over_pca"] < 1
        else f"k={r['k']}: PCA {r['pca_sse_per_image']:.2f}, AE {r['ae_sse_per_image']:.2f} (PCA better)"
        for r in rows
    ]
    return [
        Finding(
            "PCA vs autoencoder",
            (
                f"Summed squared error per test image ({metrics['test_images']} images; per pixel = per image / number of "
                f"pixels). PCA is mean-centred and fitted on all {metrics['pca_fit_images']} training images (validation "
                f"included); the AE trains on the training split only. " + "; ".join(parts) + "."
            ),
            "errors_by_k",
        )
    ]


@register_findings("ae-undercomplete")
def undercomplete(run: Run) -> list[Finding]:
    rows = _rows(run, "errors_by_h")
    if not rows:
        return []
    best = min(rows, key=lambda r: r["sse_per_image"])
    return [
        Finding(
            "Width of the code",
            "Summed squared error per test image: "
            + ", ".join(f"h={r['h']}: {r['sse_per_image']:.2f}" for r in rows)
            + f". "
            f"h={best['h']} has the lowest error. The filters are the encoder's weights, one input-shaped image per unit; "
            "the noise-like ones belong to dead units ("
            + ", ".join(f"h={r['h']}: {r['dead_units']}" for r in rows)
            + " never active on a test image), which kept their random initial weights.",
            "errors_by_h",
        )
    ]


@register_findings("ae-sparse")
def sparse(run: Run) -> list[Finding]:
    rows = _rows(run, "sparsity")
    if not rows:
        return []
    base = rows[0]
    parts = [
        f"{r['model']}: {100 * r['active_fraction']:.1f}% of activations on, mean activation "
        f"{r['mean_activation']:.3f}, error {r['sse_per_image']:.2f} per image"
        for r in rows
    ]
    costlier = [r["model"] for r in rows[1:] if r["sse_per_image"] > base["sse_per_image"]]
    cost = (
        f"Error above the standard AE's: {', '.join(costlier)}."
        if costlier
        else "Every penalised AE also reconstructs at least as well as the standard one here (the penalty "
        "regularises as well as it sparsifies)."
    )
    return [
        Finding(
            "What the L1 penalty does",
            "Stronger L1 switches more hidden units off for each image. " + "; ".join(parts) + ". " + cost,
            "sparsity",
        )
    ]


@register_findings("ae-denoising")
def denoising(run: Run) -> list[Finding]:
    rows = _rows(run, "denoising")
    if not rows:
        return []
    return [
        Finding(
            "Denoising vs standard AE",
            "Summed squared error per test image against the clean image, "
            "on the same noisy inputs: "
            + "; ".join(
                f"{r['noise']}: standard {r['standard_sse_per_image']:.2f}, denoising "
                f"{r['denoising_sse_per_image']:.2f} ({100 * r['improvement']:.0f}% lower)"
                for r in rows
            )
            + ".",
            "denoising",
        )
    ]


@register_findings("ae-conv")
def conv(run: Run) -> list[Finding]:
    rows = _rows(run, "models")
    if not rows:
        return []
    code_numbers = next(r["code_numbers"] for r in rows if str(r["model"]).startswith("conv_"))
    best = min(rows, key=lambda r: r["test_sse_per_image"])
    text = "; ".join(
        f"{r['model']} {r['test_sse_per_image']:.2f} per image ({r['parameters']:,} parameters)" for r in rows
    )
    return [
        Finding(
            "Convolutional decoders",
            (
                f"Test squared error per image: {text}. Lowest: {best['model']}. The conv code holds {code_numbers} "
                "numbers; the unpool and both decoders also receive the pooling indices (where each maximum was), "
                "side information that a code of the same size alone does not carry. The MLP AEs have a linear code "
                "layer and a sigmoid output."
            ),
            "models",
        )
    ]


@register_findings("ae-manifold")
def manifold(run: Run) -> list[Finding]:
    metrics, rows, confident = run.metrics, _rows(run, "random_steps"), run.config.get("confident")
    if "classifier_source" not in metrics:
        return []
    typical = metrics["like_the_data_threshold"]
    out = [
        Finding(
            "Code space vs pixel space",
            " ".join(
                f"At {r['scale']:g}x the code spread, {r['code_same_digit']:.0%} of code steps decode to the same digit "
                f"({r['code_confident_digit']:.0%} a confident digit); pixel noise of the same mean distance "
                f"({r['code_distance']:.2f}, sigma {r['pixel_sigma']:.3f}) keeps {r['pixel_same_digit']:.0%} the same digit "
                f"and {r['pixel_confident_digit']:.0%} a confident digit."
                for r in rows
            )
            + f" Like the data (the AE reconstructs the image no worse than 95% of real test images, error <= "
            f"{typical:.4f}; decoded code steps are AE outputs, so this favours them by construction): code steps "
            + ", ".join(f"{r['code_like_the_data']:.0%}" for r in rows)
            + "; pixel steps "
            + ", ".join(f"{r['pixel_like_the_data']:.0%}" for r in rows)
            + " at the scales above.",
            "random_steps",
        )
    ]
    if "interp_code_confident_digit" in metrics:
        m = metrics
        out.append(
            Finding(
                "Interpolation",
                (
                    f"Between {run.config['pairs']} pairs of different digits, the inner points of the "
                    f"code-space path are a confident digit {m['interp_code_confident_digit']:.0%} of the "
                    f"time (one of the two end digits {m['interp_code_one_of_the_two']:.0%}); the pixel-"
                    f"space blends are a confident digit {m['interp_pixel_confident_digit']:.0%} of the "
                    f"time (one of the two {m['interp_pixel_one_of_the_two']:.0%}). Like the data (AE "
                    f"error): code path {m['interp_code_like_the_data']:.0%}, pixel blends "
                    f"{m['interp_pixel_like_the_data']:.0%}."
                ),
                "interp_code_confident_digit",
            )
        )
    out.append(
        Finding(
            "How the classifier judges",
            (
                f"Labels come from {metrics['classifier_source']} (test accuracy "
                f"{metrics['classifier_test_accuracy']:.1%}; on the AE's reconstructions "
                f"{metrics['classifier_accuracy_on_reconstructions']:.1%}). Steps start from "
                f"{metrics['start_images']} test images that it labels correctly both as themselves and as reconstructed. "
                f"'Same digit' = the label of a stepped image is the start image's true digit; 'confident "
                f"digit' = the classifier's largest probability is at least {confident:g}, whatever the digit."
            ),
            "classifier_test_accuracy",
        )
    )
    return out


@register_findings("ae-ood")
def ood(run: Run) -> list[Finding]:
    metrics, rows = run.metrics, _rows(run, "sources")
    if not rows:
        return []
    out = []
    if "model_class" in metrics:
        out.append(
            Finding(
                "Model",
                f"The autoencoder comes from {run.config['model']} ({metrics['model_class']}); "
                f"in distribution is its training dataset, {metrics['in_distribution']!r}.",
            )
        )
    first = rows[0]
    false_alarms = first["flagged_at_5pct_false_alarms"]
    parts = [f"In distribution ({first['source']}): mean reconstruction error {first['mean_error']:.4f} per pixel."]
    for r in rows[1:]:
        parts.append(
            f"{r['source']}: mean error {r['mean_error']:.4f}, AUROC {r['auroc']:.3f} by reconstruction error "
            f"alone; at the threshold that flags {false_alarms:.0%} of {first['source']} test images, "
            f"{r['flagged_at_5pct_false_alarms']:.1%} of them are flagged."
        )
    for name, why in metrics.get("skipped_because", {}).items():
        parts.append(f"{name} was skipped: {why.split(';')[0]}.")
    out.append(Finding("Out of distribution by reconstruction error", " ".join(parts), "sources"))
    return out
