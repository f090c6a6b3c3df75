"""`ae-manifold`: random steps in code space vs pixel space, and interpolation, judged by a classifier.

An AE 784-64-8-64-784 learns an 8-number code. From a test image's code, Gaussian steps whose size is
`scale` times each code dimension's spread (its standard deviation over the training codes) are decoded;
pixel-space steps get Gaussian noise whose strength is matched so that the stepped images lie, on average,
as far (Euclidean distance in [0, 1] pixels) from their start as the decoded code steps lie from theirs.
A classifier labels every image: a step "stays the same digit" when the label is the start image's true
digit, and an image is "a confident digit" when the classifier's largest probability is >= `confident`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mlplab.analysis.judge import Judge
from mlplab.analysis.reconstruction import per_image_mse
from mlplab.config import param
from mlplab.errors import UserError
from mlplab.experiments.base import Context, register_experiment
from mlplab.nn import MLPAutoencoder
from mlplab.train import Trainer
from mlplab.train.autoencoders import AEImageConfig, check_sizes, unit_images
from mlplab.train.classifier import classifier_of_run, train_image_classifier

SHOW_IMAGES, SHOW_SAMPLES = 3, 8  # steps kept for the figures: start images x samples per scale


@dataclass
class ManifoldConfig(AEImageConfig):
    epochs: int = param(20, "passes over the training set for the autoencoder", min=1)
    encoder: list[int] = param([64], "encoder hidden sizes", item_min=1)
    code: int = param(8, "code size (1 .. number of pixels)", min=1, max=784)
    decoder: list[int] = param([64], "decoder hidden sizes", item_min=1)
    scales: list[float] = param(
        [0.1, 0.25, 0.5, 1.0, 2.0],
        "step sizes in units of each code dimension's spread (standard deviation over the training codes)",
        nonempty=True,
        item_min=0,
    )
    images: int = param(200, "test images the steps start from", min=1)
    samples: int = param(10, "random steps per start image and scale", min=1)
    pairs: int = param(10, "pairs of test images of different digits to interpolate between", min=1)
    steps: int = param(9, "points on each interpolation path, both ends included", min=2)
    confident: float = param(
        0.9, "a classifier probability at least this high counts as 'a confident digit'", min=0, max=1
    )
    classifier: str = param(
        "",
        "folder of a `classify` run that labels the images (same dataset); empty = "
        "train a quick MLP classifier in this run",
    )
    classifier_hidden: list[int] = param([256], "hidden sizes of the in-run classifier", nonempty=True, item_min=1)
    classifier_epochs: int = param(5, "epochs of the in-run classifier", min=1)


# ---- steps and paths (pure functions) ----------------------------------------------------------
def code_steps(
    z: torch.Tensor, spread: torch.Tensor, scale: float, samples: int, generator: torch.Generator
) -> torch.Tensor:
    """z (N, k) -> z + scale * spread * eps, eps ~ N(0, I): (N, samples, k)."""
    eps = torch.randn(z.shape[0], samples, z.shape[1], generator=generator).to(z.device)
    return z[:, None, :] + scale * spread * eps


def mean_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean Euclidean distance between matching images (any shape with the batch first)."""
    return float((a - b).flatten(1).norm(dim=1).mean())


def pixel_steps(x: torch.Tensor, noise: torch.Tensor, sigma: float) -> torch.Tensor:
    """x + sigma * noise, kept a valid image in [0, 1]."""
    return (x + sigma * noise).clamp(0, 1)


def match_pixel_sigma(x: torch.Tensor, noise: torch.Tensor, target: float, iters: int = 40) -> float:
    """The sigma whose clamped pixel steps lie, on average, `target` away from x (bisection; the distance
    grows with sigma). Capped where even huge noise cannot go that far."""
    lo, hi = 0.0, 1.0
    while mean_distance(pixel_steps(x, noise, hi), x) < target and hi < 1e3:
        hi *= 2
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if mean_distance(pixel_steps(x, noise, mid), x) < target else (lo, mid)
    return hi


def interpolate_codes(model: MLPAutoencoder, xa: torch.Tensor, xb: torch.Tensor, steps: int) -> torch.Tensor:
    """Decode (1 - t) z_a + t z_b for t in linspace(0, 1, steps): (P, steps, C, H, W)."""
    with torch.no_grad():
        model.eval()
        za, zb = model.code(xa), model.code(xb)  # (P, k)
        t = torch.linspace(0, 1, steps, device=za.device)[None, :, None]  # (1, T, 1)
        z = (1 - t) * za[:, None] + t * zb[:, None]  # (P, T, k)
        return model.decode(z.flatten(0, 1)).view(len(xa), steps, *xa.shape[1:])


def interpolate_pixels(xa: torch.Tensor, xb: torch.Tensor, steps: int) -> torch.Tensor:
    """(1 - t) x_a + t x_b: (P, steps, C, H, W)."""
    t = torch.linspace(0, 1, steps, device=xa.device).view(1, steps, *([1] * (xa.dim() - 1)))
    return (1 - t) * xa[:, None] + t * xb[:, None]


# ---- the experiment ------------------------------------------------------------------------------
@register_experiment(
    "ae-manifold",
    ManifoldConfig,
    smoke=("image_size=28", "epochs=30", "classifier_epochs=10", "images=20", "samples=4", "pairs=3", "scales=[0.5,2]"),
)
def run(cfg: ManifoldConfig, ctx: Context) -> dict:
    """AE 784-64-8-64-784: do random steps in code space stay digits, and steps in pixel space?"""
    ds = unit_images(cfg, ctx.device)
    check_sizes("code", cfg.code, ds)
    judge = (
        classifier_of_run(cfg.classifier, ds, cfg.data_dir, ctx.device)
        if cfg.classifier
        else train_image_classifier(
            cfg, ds, ctx.run, ctx.generator, cfg.classifier_hidden, cfg.classifier_epochs, resume=ctx.resume
        )
    )
    ae = MLPAutoencoder(ds.num_features, cfg.encoder, cfg.code, cfg.decoder).to(ctx.device)
    result = Trainer.from_config(ae, cfg, run=ctx.run, generator=ctx.generator).fit(ds.train, ds.val, resume=ctx.resume)
    x, y = ds.test.x, ds.test.y
    errors = per_image_mse(ae, x)
    recon = ae.reconstruct(x)
    right, right_recon = judge.predict(x).argmax(1) == y, judge.predict(recon).argmax(1) == y  # (N,), (N,)
    judge_acc, recon_acc = float(right.float().mean()), float(right_recon.float().mean())
    # start images: the classifier names both the image and its reconstruction correctly
    ok = (right & right_recon).nonzero().flatten().cpu()
    if len(ok) == 0:
        raise UserError(
            "the classifier labels no test image and its reconstruction correctly; train longer "
            "(epochs, classifier_epochs) or give a better classifier="
        )
    start = ok[torch.randperm(len(ok), generator=ctx.generator)[: cfg.images]].sort().values.to(x.device)
    check_two_digits(y[start], len(ok), cfg, ds.classes)
    metrics = {
        "test_mse": float(errors.mean()),
        "test_sse_per_image": float(errors.mean() * ds.num_features),
        "classifier_test_accuracy": judge_acc,
        "classifier_accuracy_on_reconstructions": recon_acc,
        "start_images": len(start),
        "best_epoch": result.best_epoch,
        "train_seconds": result.train_seconds,
        "classifier_source": judge.source,
    }
    # the ae-ood criterion: an image is 'like the data' when the AE reconstructs it no worse than 95% of real
    # test images do (decoded codes are AE outputs, so this favours code-space images by construction)
    typical = torch.quantile(errors.double().cpu(), 0.95).item()
    metrics["like_the_data_threshold"] = typical
    metrics.update(random_steps(cfg, ctx, ds, ae, judge, start, typical))
    metrics.update(interpolation(cfg, ctx, ds, ae, judge, start, typical))
    return metrics


def random_steps(
    cfg: ManifoldConfig, ctx: Context, ds, ae: MLPAutoencoder, judge: Judge, start: torch.Tensor, typical: float
) -> dict:
    """Per scale: decoded code steps and distance-matched pixel steps, labelled by the judge."""
    with torch.no_grad():
        ae.eval()
        spread = ae.encode(ds.train.x).std(0)
        x, digit = ds.test.x[start], ds.test.y[start]  # (N, C, H, W), (N,)
        z, recon = ae.encode(x), ae.reconstruct(x)
    digits = digit[:, None].expand(-1, cfg.samples)  # (N, S)
    rows, metrics, shown = (
        [],
        {},
        {"code": [], "pixel": [], "code_label": [], "pixel_label": [], "code_top": [], "pixel_top": []},
    )
    for scale in cfg.scales:
        with torch.no_grad():
            stepped = ae.decode(code_steps(z, spread, scale, cfg.samples, ctx.generator).flatten(0, 1))
        code_img = stepped.view(len(x), cfg.samples, *x.shape[1:])  # (N, S, C, H, W)
        d_code = mean_distance(code_img.flatten(0, 1), recon.repeat_interleave(cfg.samples, 0))
        xs = x.repeat_interleave(cfg.samples, 0)  # (N*S, C, H, W)
        noise = torch.randn(xs.shape, generator=ctx.generator).to(xs.device)
        sigma = match_pixel_sigma(xs, noise, d_code)
        pix_img = pixel_steps(xs, noise, sigma).view_as(code_img)
        c, p = judge.label(code_img, digits, cfg.confident), judge.label(pix_img, digits, cfg.confident)
        tag = f"{scale:g}"
        row = {
            "scale": scale,
            "code_distance": d_code,
            "pixel_sigma": sigma,
            "pixel_distance": mean_distance(pix_img.flatten(0, 1), xs),
            "code_same_digit": float(c["same"].float().mean()),
            "code_confident_digit": float(c["confident"].float().mean()),
            "code_confident_same_digit": float((c["same"] & c["confident"]).float().mean()),
            "pixel_same_digit": float(p["same"].float().mean()),
            "pixel_confident_digit": float(p["confident"].float().mean()),
            "pixel_confident_same_digit": float((p["same"] & p["confident"]).float().mean()),
            "code_like_the_data": float((per_image_mse(ae, code_img.flatten(0, 1)) <= typical).float().mean()),
            "pixel_like_the_data": float((per_image_mse(ae, pix_img.flatten(0, 1)) <= typical).float().mean()),
        }
        rows.append(row)
        metrics.update({f"{k}_s{tag}": v for k, v in row.items() if k != "scale"})
        for kind, img, j in (("code", code_img, c), ("pixel", pix_img, p)):
            shown[kind].append(img[:SHOW_IMAGES, :SHOW_SAMPLES])
            shown[f"{kind}_label"].append(j["label"][:SHOW_IMAGES, :SHOW_SAMPLES])
            shown[f"{kind}_top"].append(j["top"][:SHOW_IMAGES, :SHOW_SAMPLES])
    ctx.run.save_table("random_steps", rows)
    ctx.run.save_arrays(
        "random_steps",
        scales=torch.tensor(cfg.scales),
        start=x[:SHOW_IMAGES],
        start_recon=recon[:SHOW_IMAGES],
        start_digit=digit[:SHOW_IMAGES],
        spread=spread,
        classes=ds.classes,
        confident=cfg.confident,
        **{k: torch.stack(v) for k, v in shown.items()},
    )  # (scales, images, samples, ...)
    return metrics


def check_two_digits(digits: torch.Tensor, qualified: int, cfg: ManifoldConfig, classes: list[str]) -> None:
    """The interpolation needs start images of two digits (classes) at least; say what would give them."""
    shown = [classes[c] for c in digits.unique().tolist()]
    if len(shown) >= 2:
        return
    if len(digits) < qualified:
        raise UserError(
            f"the {len(digits)} start images (images={cfg.images}) all show {shown[0]!r}; raise "
            f"images= (up to {qualified} test images qualify) so that two classes can be interpolated"
        )
    raise UserError(
        f"only {qualified} test images qualify as start images (the classifier labels both the image and "
        f"its reconstruction correctly) and they all show {shown[0]!r}, so raising images= cannot "
        "help; train longer (epochs, classifier_epochs) or give a better classifier="
    )


def pick_pairs(digits: torch.Tensor, num_classes: int, pairs: int) -> list[tuple[int, int]]:
    """Index pairs (a, b) into `digits` of different digits: 0->1, 1->2, ..., cycling through the examples."""
    by_class = [(digits == c).nonzero().flatten().tolist() for c in range(num_classes)]
    present = [c for c in range(num_classes) if by_class[c]]
    if len(present) < 2:
        raise ValueError("pick_pairs needs images of two different digits at least")
    out = []
    for p in range(pairs):
        a, b = present[p % len(present)], present[(p + 1 + p // len(present)) % len(present)]
        if a == b:
            b = present[(present.index(a) + 1) % len(present)]
        round_ = p // len(present)
        out.append((by_class[a][round_ % len(by_class[a])], by_class[b][round_ % len(by_class[b])]))
    return out


def interpolation(
    cfg: ManifoldConfig, ctx: Context, ds, ae: MLPAutoencoder, judge: Judge, start: torch.Tensor, typical: float
) -> dict:
    """Code-space and pixel-space paths between pairs of different digits, labelled along the way."""
    x, digit = ds.test.x[start], ds.test.y[start]
    idx = torch.tensor(pick_pairs(digit.cpu(), ds.num_classes, cfg.pairs), device=x.device)  # (P, 2)
    xa, xb = x[idx[:, 0]], x[idx[:, 1]]
    code_path = interpolate_codes(ae, xa, xb, cfg.steps)  # (P, T, C, H, W)
    pixel_path = interpolate_pixels(xa, xb, cfg.steps)
    da, db = digit[idx[:, 0]], digit[idx[:, 1]]
    lead = da[:, None].expand(-1, cfg.steps)
    c, p = judge.label(code_path, lead, cfg.confident), judge.label(pixel_path, lead, cfg.confident)
    inner = slice(1, cfg.steps - 1)
    like = lambda img: float((per_image_mse(ae, img.flatten(0, 1)) <= typical).float().mean())
    ends = lambda j: ((j["label"] == da[:, None]) | (j["label"] == db[:, None]))[:, inner]
    metrics = {}
    if cfg.steps > 2:
        metrics = {
            "interp_code_confident_digit": float(c["confident"][:, inner].float().mean()),
            "interp_pixel_confident_digit": float(p["confident"][:, inner].float().mean()),
            "interp_code_one_of_the_two": float(ends(c).float().mean()),
            "interp_pixel_one_of_the_two": float(ends(p).float().mean()),
            "interp_code_like_the_data": like(code_path[:, inner]),
            "interp_pixel_like_the_data": like(pixel_path[:, inner]),
        }
    ctx.run.save_arrays(
        "interpolation",
        code_path=code_path,
        pixel_path=pixel_path,
        digit_a=da,
        digit_b=db,
        code_label=c["label"],
        code_top=c["top"],
        pixel_label=p["label"],
        pixel_top=p["top"],
        classes=ds.classes,
        confident=cfg.confident,
    )
    return metrics
