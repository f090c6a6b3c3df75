"""ae-manifold (experiments/autoencoders/manifold.py): random steps and interpolation in code space against pixel
space, judged by a classifier. Its main numbers, figures and findings, from its files only."""

from __future__ import annotations

import numpy as np

from mlplab.report import Finding, register_figures, register_findings, register_main_numbers
from mlplab.report.autoencoders.shared import autoencoder_curves, class_word, label_titles, table_rows
from mlplab.report.draw.grids import image_grid
from mlplab.report.draw.plots import new_figure, save
from mlplab.runs import Run

register_main_numbers("ae-manifold", "test_mse", "classifier_accuracy_on_reconstructions", "classifier_test_accuracy")


@register_figures("ae-manifold")
def figures(run: Run) -> None:
    autoencoder_curves(run)
    word = class_word(run)
    rows = run.load_table("random_steps")
    if rows:
        scales = [float(r["scale"]) for r in rows]
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        for key, style, label in (
            ("code_same_digit", "C0-o", f"code step: same {word}"),
            ("code_confident_digit", "C0--s", f"code step: confident {word}"),
            ("pixel_same_digit", "C3-o", f"pixel step: same {word}"),
            ("pixel_confident_digit", "C3--s", f"pixel step: confident {word}"),
            ("code_like_the_data", "C0:^", "code step: like the data (AE error)"),
            ("pixel_like_the_data", "C3:^", "pixel step: like the data (AE error)"),
        ):
            if key in rows[0]:
                ax.plot(scales, [float(r[key]) for r in rows], style, label=label)
        ax.set(
            xscale="log",
            xlabel="step size (x each code dimension's spread; pixel steps matched in distance)",
            ylabel="share of steps",
            ylim=(-0.02, 1.02),
            title="random steps judged by the classifier",
        )
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        save(fig, run.figure("steps_by_scale"))
    if (run.path / "arrays" / "random_steps.npz").is_file():
        a = run.load_arrays("random_steps")
        for i in range(len(a["start"])):
            images, titles = [], []
            for s, scale in enumerate(a["scales"]):
                for kind, first in (("code", a["start_recon"][i]), ("pixel", a["start"][i])):
                    images += [first, *a[kind][s, i]]
                    titles += [
                        f"{kind} x{scale:g}",
                        *label_titles(a["classes"], a[f"{kind}_label"][s, i], a[f"{kind}_top"][s, i]),
                    ]
            image_grid(
                np.stack(images),
                run.figure(f"steps_image{i}"),
                titles=titles,
                ncols=1 + a["code"].shape[2],
                title=f"{word} {a['classes'][int(a['start_digit'][i])]}: start, then random steps",
            )
    if (run.path / "arrays" / "interpolation.npz").is_file():
        a = run.load_arrays("interpolation")
        images, titles = [], []
        for p in range(len(a["code_path"])):
            for kind in ("code", "pixel"):
                images += list(a[f"{kind}_path"][p])
                titles += label_titles(a["classes"], a[f"{kind}_label"][p], a[f"{kind}_top"][p])
        image_grid(
            np.stack(images),
            run.figure("interpolation"),
            titles=titles,
            ncols=a["code_path"].shape[1],
            title="interpolation: per pair, a row through code space, then a row of pixel blends",
        )


@register_findings("ae-manifold")
def findings(run: Run) -> list[Finding]:
    metrics, rows, confident = run.metrics, table_rows(run, "random_steps"), run.config.get("confident")
    if "classifier_source" not in metrics:
        return []
    typical = metrics["like_the_data_threshold"]
    word, words = class_word(run), class_word(run, plural=True)
    out = [
        Finding(
            "Code space vs pixel space",
            " ".join(
                f"At {r['scale']:g}x the code spread, {r['code_same_digit']:.0%} of code steps decode to the "
                f"same {word} "
                f"({r['code_confident_digit']:.0%} a confident {word}); pixel noise of the same mean distance "
                f"({r['code_distance']:.2f}, sigma {r['pixel_sigma']:.3f}) keeps {r['pixel_same_digit']:.0%} "
                f"the same {word} "
                f"and {r['pixel_confident_digit']:.0%} a confident {word}."
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
                    f"Between {run.config['pairs']} pairs of different {words}, the inner points of the "
                    f"code-space path are a confident {word} {m['interp_code_confident_digit']:.0%} of the "
                    f"time (one of the two end {words} {m['interp_code_one_of_the_two']:.0%}); the pixel-"
                    f"space blends are a confident {word} {m['interp_pixel_confident_digit']:.0%} of the "
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
                f"{metrics['start_images']} test images that it labels correctly both as themselves and as "
                "reconstructed. "
                f"'Same {word}' = the label of a stepped image is the start image's true {word}; 'confident "
                f"{word}' = the classifier's largest probability is at least {confident:g}, whatever the {word}."
            ),
            "classifier_test_accuracy",
        )
    )
    return out
