"""ae-conv, ae-manifold, ae-ood: conv decoders and unpooling against torch, code paths, judges, AUROC on real data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from mlplab.analysis.judge import Judge
from mlplab.experiments.autoencoders.manifold import (
    code_steps,
    interpolate_codes,
    interpolate_pixels,
    match_pixel_sigma,
    mean_distance,
    pick_pairs,
)
from mlplab.experiments.autoencoders.ood import auroc, flagged
from mlplab.nn import build_model
from mlplab.nn.autoencoders import MLPAutoencoder
from mlplab.nn.conv_autoencoders import DECODERS, ConvAutoencoder, ConvEncoder, parameter_count, transpose_up


def conv_params(a: int, b: int) -> int:
    return 9 * a * b + b  # a 3x3 (transposed) convolution from a to b channels, with bias


# ---- conv AE -------------------------------------------------------------------------------------
@pytest.mark.parametrize("decoder", DECODERS)
def test_every_decoder_maps_28x28_back_to_28x28_in_unit_range(decoder):
    torch.manual_seed(0)
    model = ConvAutoencoder(1, 28, [8, 16, 16], decoder)
    x = torch.rand(5, 1, 28, 28)
    code, indices, sizes = model.encoder(x)
    assert code.shape == (5, 16, 3, 3)
    assert [tuple(s) for s in sizes] == [(28, 28), (14, 14), (7, 7)]
    assert [i.shape for i in indices] == [(5, 8, 14, 14), (5, 16, 7, 7), (5, 16, 3, 3)]
    out = model(x)
    assert out.shape == (5, 1, 28, 28) and 0 <= out.min() and out.max() <= 1
    again = build_model(model.spec)
    again.load_state_dict(model.state_dict())
    torch.testing.assert_close(again(x), out)


def test_parameter_counts_by_hand():
    encoder = conv_params(1, 8) + conv_params(8, 16) + conv_params(16, 16)
    unpool = conv_params(16, 16) + conv_params(16, 8) + conv_params(8, 1)  # conv after each unpooling
    both = (
        conv_params(16, 16)
        + conv_params(32, 16)
        + conv_params(16, 16)
        + conv_params(32, 8)
        + conv_params(8, 8)
        + conv_params(16, 1)
    )
    assert parameter_count(ConvAutoencoder(decoder="unpool")) == encoder + unpool == 7121
    assert parameter_count(ConvAutoencoder(decoder="transpose")) == encoder + unpool
    assert parameter_count(ConvAutoencoder(decoder="both")) == encoder + both


def test_3_to_7_needs_the_explicit_output_size():
    h = torch.randn(2, 16, 7, 7, generator=torch.Generator().manual_seed(0))
    pooled, idx = F.max_pool2d(h, 2, return_indices=True)  # (2, 16, 3, 3)
    with pytest.raises(RuntimeError, match="invalid max index"):  # the default guess, 6x6, cannot hold 7x7 indices
        F.max_unpool2d(pooled, idx, 2)
    assert F.max_unpool2d(pooled, idx, 2, output_size=(7, 7)).shape[-2:] == (7, 7)
    for n, m in ((3, 7), (7, 14), (14, 28), (2, 5), (4, 8)):
        assert transpose_up(4, 2, n, m)(torch.randn(1, 4, n, n)).shape == (1, 2, m, m)


def test_unpooling_puts_each_maximum_back_where_it_was():
    torch.manual_seed(1)
    enc = ConvEncoder(1, [8, 16, 16])
    x = torch.rand(3, 1, 28, 28)
    code, indices, sizes = enc(x)
    # reference: the same layers through torch.nn modules
    pool, unpool = torch.nn.MaxPool2d(2, return_indices=True), torch.nn.MaxUnpool2d(2)
    h, maps = x, []
    for conv in enc.convs:
        maps.append(torch.relu(conv(h)))
        h, _ = pool(maps[-1])
    torch.testing.assert_close(code, h)
    for stage in range(3):
        pooled = F.max_pool2d(maps[stage], 2)
        up = unpool(pooled, indices[stage], output_size=sizes[stage])  # (B, C, s, s)
        flat, idx = up.flatten(2), indices[stage].flatten(2)
        # the value at each stored index is the pooled maximum, which is the feature map's value there
        torch.testing.assert_close(flat.gather(2, idx), pooled.flatten(2))
        torch.testing.assert_close(maps[stage].flatten(2).gather(2, idx), pooled.flatten(2))
        # and every other position is zero
        expected = torch.zeros_like(flat).scatter_(2, idx, pooled.flatten(2))
        torch.testing.assert_close(flat, expected)


# ---- manifold pieces -----------------------------------------------------------------------------
def test_code_interpolation_ends_are_the_reconstructions():
    torch.manual_seed(2)
    ae = MLPAutoencoder(64, [32], 8, [32])
    xa, xb = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    path = interpolate_codes(ae, xa, xb, 5)  # (4, 5, 1, 8, 8)
    torch.testing.assert_close(path[:, 0], ae.reconstruct(xa), atol=1e-6, rtol=0)
    torch.testing.assert_close(path[:, -1], ae.reconstruct(xb), atol=1e-6, rtol=0)
    mid = ae.decode((ae.encode(xa) + ae.encode(xb)) / 2).view_as(xa)
    torch.testing.assert_close(path[:, 2], mid, atol=1e-6, rtol=0)
    blend = interpolate_pixels(xa, xb, 5)
    torch.testing.assert_close(blend[:, 0], xa)
    torch.testing.assert_close(blend[:, -1], xb)
    torch.testing.assert_close(blend[:, 1], 0.75 * xa + 0.25 * xb)


def test_code_steps_have_the_asked_spread_and_pixel_noise_matches_the_distance():
    g = torch.Generator().manual_seed(3)
    z = torch.randn(50, 6, generator=g)
    spread = torch.tensor([0.5, 1, 2, 3, 4, 5.0])
    steps = code_steps(z, spread, 0.5, 400, g)  # (50, 400, 6)
    measured = (steps - z[:, None]).flatten(0, 1).std(0)
    torch.testing.assert_close(measured, 0.5 * spread, rtol=0.03, atol=0)
    x = torch.rand(40, 1, 8, 8, generator=g)
    noise = torch.randn(x.shape, generator=g)
    for target in (0.5, 2.0, 4.0):
        sigma = match_pixel_sigma(x, noise, target)
        assert mean_distance((x + sigma * noise).clamp(0, 1), x) == pytest.approx(target, rel=1e-4)


def test_pairs_are_of_different_digits():
    digits = torch.tensor([3, 1, 1, 0, 2, 3, 0, 2])
    pairs = pick_pairs(digits, 4, 9)
    assert len(pairs) == 9 and all(digits[a] != digits[b] for a, b in pairs)
    assert [int(digits[a]) for a, _ in pairs[:4]] == [0, 1, 2, 3]


def test_judge_is_softmax_of_the_classifier_on_normalised_pixels():
    from mlplab.data import Normalization
    from mlplab.nn import MLPClassifier

    torch.manual_seed(4)
    model = MLPClassifier(64, [16], 10)
    norm = Normalization("standard", (0.3,), (0.2,))
    pixels = torch.rand(7, 1, 8, 8)
    expected = torch.softmax(model((pixels - 0.3) / 0.2), 1)
    torch.testing.assert_close(Judge(model, norm, "test").predict(pixels), expected)


# ---- end to end ----------------------------------------------------------------------------------
def test_manifold_with_a_classify_run_labels_like_that_run(cli, trained, tmp_path):
    cls_run = trained("classify", "hidden=[32]", "epochs=3", "image_size=28")  # read only: the manifold's judge
    code, _, err = cli(
        "run",
        "ae-manifold",
        "image_size=28",
        "epochs=30",
        "images=30",
        "samples=3",
        "pairs=2",
        "scales=[0,1]",
        f"classifier={cls_run}",
        "--out",
        "m",
    )
    assert code == 0, err
    m = json.loads((tmp_path / "m" / "metrics.json").read_text())
    cls = json.loads((cls_run / "metrics.json").read_text())
    assert m["classifier_test_accuracy"] == pytest.approx(cls["test_accuracy"], abs=1e-6)
    # the judge reproduces the classify run's own test probabilities (standard normalisation, refitted)
    from mlplab.data import load_dataset
    from mlplab.train.classifier import classifier_of_run

    ds = load_dataset("digits", normalization="unit", image_size=28)
    judge = classifier_of_run(str(cls_run), ds, "", torch.device("cpu"))
    saved = np.load(cls_run / "arrays" / "predictions.npz")["probs"]
    np.testing.assert_allclose(judge.predict(ds.test.x).numpy(), saved, atol=1e-5)
    # a step of size 0 decodes to the start's reconstruction: the same digit by construction of the start set
    assert m["code_same_digit_s0"] == 1.0 and m["code_distance_s0"] == pytest.approx(0, abs=1e-5)
    assert m["pixel_sigma_s0"] < 1e-6 and m["pixel_same_digit_s0"] == 1.0
    assert 0 <= m["code_same_digit_s1"] <= 1 and 0 <= m["pixel_like_the_data_s1"] <= 1
    # pixel noise is matched to the code steps' mean distance
    assert m["pixel_distance_s1"] == pytest.approx(m["code_distance_s1"], rel=1e-3)
    assert (tmp_path / "m" / "figures" / "steps_by_scale.png").is_file()
    assert (tmp_path / "m" / "figures" / "interpolation.png").is_file()
    code, _, err = cli("run", "ae-manifold", "classifier=m", "--out", "bad")
    assert code == 2 and "'classifier': 'm' holds a 'MLPAutoencoder' model, not MLPClassifier" in err


def test_conv_decoders_learn_and_an_ood_run_loads_one(cli, trained, tmp_path):
    conv = trained("ae-conv", "image_size=16", "epochs=5", "batch_size=32", "mlp_codes=[16]")  # numbers only
    with open(conv / "tables" / "models.csv", newline="") as fh:
        rows = {r["model"]: r for r in csv.DictReader(fh)}
    assert list(rows) == ["conv_unpool", "conv_transpose", "conv_both", "mlp_h16"]
    from mlplab.data import load_dataset

    ds = load_dataset("digits", normalization="unit", image_size=16)
    mean_image_mse = float((ds.test.x - ds.train.x.mean(0)).pow(2).mean())  # what a stalled AE reaches
    for name in ("conv_unpool", "conv_transpose", "conv_both"):
        assert float(rows[name]["test_mse"]) < 0.6 * mean_image_mse, name
        assert float(rows[name]["test_sse_per_image"]) == pytest.approx(256 * float(rows[name]["test_mse"]))
    # the pooling indices carry where each maximum was: the unpooling decoder beats the transposed convs
    assert float(rows["conv_unpool"]["test_mse"]) < float(rows["conv_transpose"]["test_mse"])
    assert int(rows["conv_unpool"]["parameters"]) == 7121
    assert int(rows["mlp_h16"]["parameters"]) == 2 * 256 * 16 + 16 + 256
    code, _, err = cli(
        "run", "--no-report", "ae-ood", f"model={conv}/checkpoints/conv_unpool.pt", "max_images=100", "--out", "o"
    )
    assert code == 0, err
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["in_distribution"] == "digits" and m["auroc_noise"] > 0.9
    assert m["skipped_sources"] == ["fashion-mnist", "kmnist", "mnist"]


def test_auroc_and_flagged_match_references():
    g = torch.Generator().manual_seed(5)
    a, b = torch.rand(300, generator=g), torch.rand(200, generator=g) + 0.3
    assert auroc(a, b) == pytest.approx(roc_auc_score(np.r_[np.zeros(300), np.ones(200)], np.r_[a, b]))
    assert flagged(a, b) == pytest.approx(float((b > np.quantile(a.numpy(), 0.95)).float().mean()))


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["ae-manifold", "scales=[0.5,-1]"], "'scales': -1.0 in [0.5, -1.0] is out of range"),
        (["ae-manifold", "code=0"], "'code': 0 is out of range"),
        (["ae-manifold", "code=100", "image_size=0"], "'code': 100 is out of range; it must be in 1..64"),
        (["ae-manifold", "confident=1.5"], "'confident'"),
        (["ae-manifold", "classifier=nowhere"], "'classifier': 'nowhere' is not a run folder"),
        (["ae-manifold", "normalization=standard"], "normalization=unit"),
        (["ae-conv", "decoders=[unpool,deconv]"], "'decoders': 'deconv' is not a decoder"),
        (["ae-conv", "mlp_codes=[0]"], "'mlp_codes'"),
        (["ae-conv", "image_size=4"], "needs square images of side at least 8"),
        (["ae-ood", "model=nowhere"], "'model': 'nowhere' is not a run folder"),
        (["ae-ood", "ood=[pictures]"], "'ood': 'pictures' is neither noise nor a dataset"),
        (["ae-ood", "ood=[digits]", "epochs=1"], "'ood': 'digits' is the training dataset"),
        (["ae-ood", "code=65", "image_size=0"], "'code': 65 is out of range; it must be in 1..64"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    code, out, err = cli("run", *args, "--out", "bad")
    assert code == 2, err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_classifier_run_is_not_an_autoencoder(cli, tmp_path):
    code, _, err = cli("run", "--no-report", "classify", "hidden=[8]", "epochs=1", "--out", "cls")
    assert code == 0, err
    code, _, err = cli("run", "ae-ood", "model=cls", "--out", "bad")
    assert code == 2 and "holds a 'MLPClassifier' model, not MLPAutoencoder or ConvAutoencoder" in err


@pytest.mark.slow
def test_ood_auroc_mnist_vs_fashion_above_0_9(cli, tmp_path, fashion_dir):
    # KMNIST is not available here: a stand-in folder holds Fashion-MNIST's files under KMNIST's name, so the
    # KMNIST source must score exactly as Fashion-MNIST does
    data = tmp_path / "data"
    for name in ("MNIST", "FashionMNIST"):
        (data / name).mkdir(parents=True)
        (data / name / "raw").symlink_to(fashion_dir / name / "raw")
    (data / "KMNIST").mkdir()
    (data / "KMNIST" / "raw").symlink_to(fashion_dir / "FashionMNIST" / "raw")
    code, _, err = cli(
        "run", "ae-ood", "dataset=mnist", f"data_dir={data}", "epochs=1", "max_images=3000", "--out", "o"
    )
    assert code == 0, err
    m = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert m["auroc_fashion"] > 0.9 and m["auroc_noise"] > 0.9
    assert m["skipped_sources"] == [] and m["auroc_kmnist"] == m["auroc_fashion"]
    a = np.load(tmp_path / "o" / "arrays" / "ood.npz")
    assert list(a["sources"]) == ["mnist", "fashion-mnist", "kmnist", "noise"]
    truth = np.r_[np.zeros(len(a["errors_0"])), np.ones(len(a["errors_1"]))]
    assert m["auroc_fashion"] == pytest.approx(roc_auc_score(truth, np.r_[a["errors_0"], a["errors_1"]]))
    # the per-image errors are those of the saved model
    from mlplab.train import read_checkpoint

    state = read_checkpoint(tmp_path / "o" / "checkpoints" / "best.pt")
    ae = build_model(state["spec"])
    ae.load_state_dict(state["model"])
    shown = torch.from_numpy(a["shown_1"])
    errors = (ae.reconstruct(shown) - shown).pow(2).flatten(1).mean(1)
    np.testing.assert_allclose(errors.numpy(), a["shown_err_1"], rtol=1e-5)


# ---- ae-manifold: start images of one digit only (issue 11, item 12) -------------------------------
def test_start_images_of_one_digit_say_whether_more_images_would_help():
    from mlplab.errors import UserError
    from mlplab.experiments.autoencoders.manifold import ManifoldConfig, check_two_digits

    classes = [str(c) for c in range(10)]
    check_two_digits(torch.tensor([3, 5, 3]), 40, ManifoldConfig(images=3), classes)  # two digits: fine
    with pytest.raises(UserError, match=r"the 2 start images \(images=2\) all show '3'; raise images= \(up to 40"):
        check_two_digits(torch.tensor([3, 3]), 40, ManifoldConfig(images=2), classes)
    with pytest.raises(
        UserError, match="only 2 test images qualify .* all show '3', so raising images= cannot help; train longer"
    ):
        check_two_digits(torch.tensor([3, 3]), 2, ManifoldConfig(images=100000), classes)


def test_manifold_with_more_images_than_qualify_does_not_ask_for_more(cli):
    """The issue's reproduction: an AE that barely trained leaves start images of one digit; images=100000."""
    code, _, err = cli(
        "run",
        "ae-manifold",
        "image_size=0",
        "epochs=1",
        "lr=1e-6",
        "classifier_epochs=1",
        "images=100000",
        "samples=1",
        "pairs=1",
        "scales=[1]",
    )
    last = err.strip().splitlines()[-1]
    assert code == 2 and "raising images= cannot help; train longer" in last, err
