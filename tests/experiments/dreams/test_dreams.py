"""dreams: objectives against torch/scipy references, the loop against a plain autograd loop, the run folder,
the model cache, and every bad input as one line with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter

from mlplab.analysis.dreaming import (
    cross_entropy,
    dream,
    freeze,
    gaussian_blur,
    gaussian_kernel,
    kl_to,
    l2,
    pixel_forward,
    target_reached,
    total_variation,
)
from mlplab.cache import cached_run
from mlplab.nn import MLPClassifier
from mlplab.train import load_model

SMALL = ("hidden=[128]", "epochs=3", "lr=0.01")


def _but(keys, *changed: str) -> list[str]:
    """`keys` with some of them given other values (a key may be given only once on a command line)."""
    names = {c.split("=", 1)[0] for c in changed}
    return [k for k in keys if k.split("=", 1)[0] not in names] + list(changed)


def test_objectives_match_torch_references():
    g = torch.Generator().manual_seed(0)
    logits, pixels = torch.randn(6, 5, generator=g), torch.rand(6, 1, 4, 4, generator=g)
    targets = torch.tensor([0, 4, 2, 2, 1, 3])
    mix = torch.softmax(torch.randn(6, 5, generator=g), 1)
    mix[0] = torch.tensor([0.5, 0.5, 0, 0, 0])  # zeros in the target: 0·log 0 = 0
    torch.testing.assert_close(
        cross_entropy(targets)(logits, pixels), F.cross_entropy(logits, targets, reduction="none")
    )
    torch.testing.assert_close(
        kl_to(mix)(logits, pixels), F.kl_div(logits.log_softmax(1), mix, reduction="none").sum(1)
    )
    torch.testing.assert_close(l2()(logits, pixels), (pixels**2).mean((1, 2, 3)))
    p = pixels.numpy()[:, 0]
    tv = np.abs(np.diff(p, axis=1)).mean((1, 2)) + np.abs(np.diff(p, axis=2)).mean((1, 2))
    torch.testing.assert_close(total_variation()(logits, pixels), torch.from_numpy(tv))
    weight = torch.arange(6.0)
    combined = cross_entropy(targets) + weight * l2() + 0.5 * total_variation()
    torch.testing.assert_close(
        combined(logits, pixels),
        cross_entropy(targets)(logits, pixels)
        + weight * l2()(logits, pixels)
        + 0.5 * total_variation()(logits, pixels),
    )


def test_blur_matches_scipy():
    x = torch.rand(2, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    sigma = 0.8
    radius = len(gaussian_kernel(sigma)) // 2
    ref = np.stack([gaussian_filter(a[0], sigma, mode="nearest", truncate=radius / sigma) for a in x.numpy()])
    np.testing.assert_allclose(gaussian_blur(x, sigma)[:, 0].numpy(), ref, atol=1e-6)


def reference_dream(model, start, targets, steps, lr, mean, std):
    """The textbook loop: loss.backward() through a model whose weights still want gradients."""
    x = start.clone().requires_grad_(True)
    opt = torch.optim.Adam([x], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model((x - mean) / std), targets, reduction="sum").backward()
        opt.step()
        with torch.no_grad():
            x.clamp_(0, 1)
    return x.detach()


def test_dream_matches_plain_autograd_and_leaves_weights_alone():
    torch.manual_seed(0)
    model = MLPClassifier(64, [16], 4, dropout=0.3)
    start = torch.rand(4, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    targets = torch.arange(4)
    expected = reference_dream(model.eval(), start, targets, 25, 0.05, 0.3, 0.4)
    model.zero_grad(set_to_none=True)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    forward = pixel_forward([freeze(model)], lambda px: (px - 0.3) / 0.4)
    trace = dream(forward, start, cross_entropy(targets), steps=25, lr=0.05, frame_every=10)
    torch.testing.assert_close(trace.pixels, expected)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None and not p.requires_grad for p in model.parameters())
    assert not model.training
    assert trace.steps == 25 and trace.probs.shape == (26, 4, 4)
    assert trace.frame_steps.tolist() == [0, 10, 20, 25] and trace.frames.shape == (4, 4, 1, 8, 8)
    assert trace.pixels.min() >= 0 and trace.pixels.max() <= 1


def test_dream_stops_at_the_target_confidence():
    torch.manual_seed(0)
    model = freeze(MLPClassifier(64, [16], 3))
    with torch.no_grad():
        model.net.out.weight.mul_(5)  # random weights reach 0.9 within [0, 1] pixels only when scaled up
    targets = torch.tensor([0, 1, 2])
    trace = dream(
        pixel_forward([model], lambda px: px * 4 - 2),
        torch.full((3, 1, 8, 8), 0.5),
        cross_entropy(targets),
        steps=2000,
        lr=0.1,
        stop=target_reached(targets, 0.9),
        check_every=5,
    )
    assert trace.steps < 2000 and trace.steps % 5 == 0
    assert (trace.probs[-1].gather(1, targets[:, None]) >= 0.9).all()
    assert trace.steps > 0 and not (trace.probs[-6].gather(1, targets[:, None]) >= 0.9).all()  # nor earlier


def test_dreams_on_digits_run_folder_and_cache(cli, tmp_path, check_run_folder):
    args = ("run", "dreams", "task=dreams", *SMALL, "steps=300", "confidence=0.9", "cache_dir=cache")
    code, out, err = cli(*args, "--out", "a")
    assert code == 0, err
    m = check_run_folder(tmp_path / "a")
    assert m["model_source"] == "trained" and "epoch 3/3" in err
    assert m["dreams_reached_target"] and m["dreams_min_confidence"] >= 0.9
    assert (tmp_path / "a" / "animations" / "dreams.gif").is_file()
    assert (tmp_path / "a" / "figures" / "dream_confidence.png").is_file()
    code, out, err = cli(*args, "targets=[3,8]", "--out", "b")
    assert code == 0, err
    again = check_run_folder(tmp_path / "b")
    assert again["model_source"] == "cached" and "epoch" not in err  # no retraining
    assert again["model_path"] == m["model_path"] and list(again["dreams_confidence"]) == ["3", "8"]
    code, _, err = cli(*args, "--out", "same")  # same seed, same dreams
    assert code == 0, err
    first, second = (
        np.load(tmp_path / "a" / "arrays" / "dreams.npz"),
        np.load(tmp_path / "same" / "arrays" / "dreams.npz"),
    )
    assert all(np.array_equal(first[k], second[k]) for k in ("images", "probs", "frames"))
    for made in [*(tmp_path / "a" / "figures").iterdir(), *(tmp_path / "a" / "animations").iterdir()]:
        made.unlink()
    code, _, err = cli("report", str(tmp_path / "a"))  # figures and animations come back from the run's files
    assert code == 0, err
    assert {p.name for p in (tmp_path / "a" / "figures").iterdir()} == {"dreams.png", "dream_confidence.png"}
    assert (tmp_path / "a" / "animations" / "dreams.gif").is_file()
    args = ("run", "dreams", "task=dreams", *_but(SMALL, "epochs=2"), "steps=300", "confidence=0.9", "cache_dir=cache")
    code, _, err = cli(*args, "--out", "c")  # another configuration is another model
    assert code == 0 and json.loads((tmp_path / "c" / "metrics.json").read_text())["model_source"] == "trained"
    assert len(list((tmp_path / "cache").iterdir())) == 2 and not list((tmp_path / "cache").glob(".*"))


def test_model_from_a_classify_run_and_the_l2_sweep(cli, trained, tmp_path):
    clf = trained("classify", "hidden=[128]", "epochs=3", "lr=0.01")  # read only: the dreams' classifier
    code, _, err = cli("run", "dreams", "task=l2", f"model={clf}", "steps=150", "l2_count=4", "--out", "d")
    assert code == 0, err
    m = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert m["model_source"] == "run" and m["weights_unchanged"]
    ours = torch.load(tmp_path / "d" / "checkpoints" / "classifier.pt", weights_only=True)["model"]
    theirs = torch.load(clf / "checkpoints" / "best.pt", weights_only=True)["model"]
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)
    a = np.load(tmp_path / "d" / "arrays" / "l2.npz")
    np.testing.assert_allclose(a["lambdas"], np.geomspace(0.001, 10, 4), rtol=1e-5)
    per_lambda = a["images"].reshape(4, 10, -1).mean(2)  # (L, B)
    np.testing.assert_allclose(per_lambda.mean(1), m["l2_mean_pixel"], rtol=1e-5)
    assert np.all(np.diff(per_lambda.mean(1)) < 0), per_lambda.mean(1)
    assert m["l2_mean_pixel_monotonic"]
    assert (tmp_path / "d" / "figures" / "l2_pixel_norm.png").is_file()


def not_a_classifier(tmp_path):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.yaml").write_text("experiment: explore\ndataset: digits\n")
    return "model=other"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["targets=[10]"], "'targets': class 10 is not a class of the 'digits' classifier; choose 0..9"),
        (["targets=[-1]"], "'targets'"),
        (["hybrid=3:0.7,5:0.5"], "weights sum to 1.2, not 1"),
        (["hybrid=3:-0.5,5:1.5"], "weight -0.5 of class 3 is negative"),
        (["hybrid=3:0.5,12:0.5"], "'hybrid': class 12 is not a class of the 'digits' classifier"),
        (["hybrid=three"], "is not class:weight"),
        (["lambda_l2=-1"], "'lambda_l2': -1.0 is out of range; it must be >= 0"),
        (["l2_range=[-1,10]"], "'l2_range'"),
        (["model=nowhere"], "model='nowhere' is not a run folder"),
        ([not_a_classifier], "model='other' is a run of 'explore', not a classifier"),
        (["dataset=moons"], "dreams optimise images"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    args = [a(tmp_path) if callable(a) else a for a in args]
    code, out, err = cli("run", "dreams", *args, "cache_dir=cache", "--out", "bad")
    assert code == 2, err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad").exists() and not (tmp_path / "cache").exists()  # refused before any training


def test_robust_dreams_and_the_judge_verdict_reproduce_from_the_run(cli, tmp_path):
    code, _, err = cli(
        "run",
        "dreams",
        "task=robust",
        *SMALL,
        "ensemble=2",
        "judge_epochs=2",
        "robust_steps=60",
        "steps=60",
        "cache_dir=cache",
        "--out",
        "r",
    )
    assert code == 0, err
    m = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert m["weights_unchanged"] and m["ensemble_size"] == 2 and m["judge_source"] == "trained"
    names = sorted(p.name.split("-")[0] for p in (tmp_path / "cache").iterdir())
    assert names == ["classify", "classify", "dreams"]  # two ensemble members and the judge, each cached
    a = np.load(tmp_path / "r" / "arrays" / "robust.npz")
    judge = load_model(tmp_path / m["judge_path"] / "checkpoints" / "best.pt").eval()
    mean, std = m["normalization_mean"][0], m["normalization_std"][0]
    for kind in ("plain", "robust"):
        with torch.no_grad():
            p = judge((torch.from_numpy(a[kind]) - mean) / std).softmax(1).numpy()
        np.testing.assert_allclose(p, a[f"judge_{kind}"], atol=1e-5)
        assert m[f"judge_recognised_{kind}"] == int((p[np.arange(10), a["targets"]] >= 0.5).sum())
    assert 0 <= a["robust"].min() and a["robust"].max() <= 1
    assert (tmp_path / "r" / "figures" / "judge_verdict.png").is_file()
    assert (tmp_path / "r" / "animations" / "robust_dreams.gif").is_file()


def test_an_interrupted_training_leaves_no_cache_entry(tmp_path):
    def train(run):
        (run.path / "checkpoints" / "best.pt").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cached_run(tmp_path / "cache", "classify", {"a": 1}, {"a": 1}, train)
    assert not list((tmp_path / "cache").iterdir())  # neither an entry nor a temporary folder
    calls = []
    run, hit = cached_run(
        tmp_path / "cache",
        "classify",
        {"a": 1},
        {"a": 1},
        lambda r: calls.append((r.path / "checkpoints" / "best.pt").write_bytes(b"ok")),
    )
    assert not hit and len(calls) == 1 and run.experiment == "classify"
    again, hit = cached_run(tmp_path / "cache", "classify", {"a": 1}, {"a": 1}, lambda r: calls.append(1))
    assert hit and again.path == run.path and len(calls) == 1
