"""Autoencoders: losses against torch, noise statistics, PCA and AE errors on real MNIST, sparsity, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mlplab.analysis.reconstruction import per_image_sse
from mlplab.nn import build_model
from mlplab.nn.autoencoders import MLPAutoencoder
from mlplab.nn.noise import gaussian_noise, salt_and_pepper
from mlplab.runs import Run
from mlplab.train.checkpoint import load_model, save_model


def metrics(path) -> dict:
    return json.loads((path / "metrics.json").read_text())


# ---- models ------------------------------------------------------------------------------------
def test_losses_match_torch_references():
    torch.manual_seed(0)
    x = torch.rand(16, 1, 8, 8)
    for recon_loss, reference in (("mse", torch.nn.MSELoss()), ("bce", torch.nn.BCELoss())):
        model = MLPAutoencoder(64, [32], 10, [32], recon_loss=recon_loss, l1=0.1).eval()
        out = model.loss((x, None))
        recon = model(x)
        assert recon.shape == x.shape and 0 <= recon.min() and recon.max() <= 1
        z = model.encode(x)
        torch.testing.assert_close(out["mse"], torch.nn.MSELoss()(recon, x))
        torch.testing.assert_close(out["code_l1"], z.abs().mean())
        torch.testing.assert_close(out["loss"], reference(recon, x) + 0.1 * z.abs().mean())


def test_denoising_corrupts_in_training_only_and_compares_with_the_clean_image():
    torch.manual_seed(0)
    x = torch.rand(32, 1, 8, 8)
    model = MLPAutoencoder(64, [], 16, [], noise="gaussian", noise_level=0.5)
    model.eval()
    torch.testing.assert_close(model.loss((x, None))["mse"], torch.nn.MSELoss()(model(x), x))
    model.train()
    torch.manual_seed(1)
    train_mse = model.loss((x, None))["mse"]
    torch.manual_seed(1)
    noisy = gaussian_noise(x, 0.5, clip=True)
    torch.testing.assert_close(train_mse, torch.nn.MSELoss()(model(noisy), x))


def test_model_saves_and_loads_with_its_spec(tmp_path):
    run = Run.create("ae-pca", {}, out=tmp_path / "r")
    model = MLPAutoencoder(64, [32], 8, [16], activation="elu", recon_loss="bce")
    save_model(model, run.checkpoint("m"))
    again = load_model(run.checkpoint("m"))
    x = torch.rand(5, 1, 8, 8)
    torch.testing.assert_close(again(x), model.eval()(x))
    assert build_model(model.spec).spec == model.spec


def test_dropout_follows_each_hidden_activation_and_only_while_training():
    torch.manual_seed(0)
    model = MLPAutoencoder(64, [32, 16], 8, [16, 32], activation="elu", dropout=0.5)
    plain = MLPAutoencoder(64, [32, 16], 8, [16, 32], activation="elu")
    kinds = [type(m).__name__ for m in model.encoder] + ["|"] + [type(m).__name__ for m in model.decoder]
    assert kinds == [
        *("Linear", "ELU", "Dropout", "Linear", "ELU", "Dropout", "Linear", "|"),  # the code layer: no dropout
        *("Linear", "ELU", "Dropout", "Linear", "ELU", "Dropout", "Linear", "Sigmoid"),
    ]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    for mine, theirs in zip(linears, [m for m in plain.modules() if isinstance(m, torch.nn.Linear)], strict=True):
        theirs.load_state_dict(mine.state_dict())
    x = torch.rand(16, 1, 8, 8)
    torch.testing.assert_close(model.eval()(x), plain.eval()(x))  # evaluation: the same network without dropout
    model.train()
    assert not torch.allclose(model(x), plain(x)) and not torch.allclose(model(x), model(x))
    assert build_model(model.spec).spec["dropout"] == 0.5


def test_ae_pca_dropout_reaches_the_model(cli, tmp_path):
    keys = ("ks=[4]", "encoder=[16]", "decoder=[16]", "epochs=1", "image_size=0", "dropout=0.25")
    code, _, err = cli("run", "--no-report", "ae-pca", *keys, "--out", "d")
    assert code == 0, err
    run = Run.open(tmp_path / "d")
    assert run.config["dropout"] == 0.25
    model = load_model(next((run.path / "checkpoints").glob("*.pt")))
    assert model.spec["dropout"] == 0.25 and sum(isinstance(m, torch.nn.Dropout) for m in model.modules()) == 2


@pytest.mark.parametrize("noise, level", [("gaussian", 0.1), ("salt_pepper", 0.05)])
def test_ae_pca_noise_reaches_the_model_and_corrupts_training_inputs_only(cli, tmp_path, noise, level):
    keys = ("ks=[4]", "encoder=[16]", "decoder=[16]", "epochs=1", "image_size=0", f"noise={noise}")
    code, _, err = cli("run", "--no-report", "ae-pca", *keys, f"noise_level={level}", "--out", "n")
    assert code == 0, err
    run = Run.open(tmp_path / "n")
    assert (run.config["noise"], run.config["noise_level"]) == (noise, level)
    model = load_model(next((run.path / "checkpoints").glob("*.pt")))
    assert (model.spec["noise"], model.spec["noise_level"]) == (noise, level)
    x = torch.rand(32, 1, 8, 8)
    torch.manual_seed(0)
    assert not torch.equal(model.corrupt(x), x)
    model.eval()
    torch.testing.assert_close(model.loss((x, None))["mse"], torch.nn.functional.mse_loss(model(x), x))


# ---- noise -------------------------------------------------------------------------------------
def test_gaussian_noise_has_the_asked_std_and_is_reproducible():
    x = torch.rand(4000, 1, 28, 28)
    for sigma in (0.3, 0.9):
        added = gaussian_noise(x, sigma, torch.Generator().manual_seed(0)) - x
        assert added.std().item() == pytest.approx(sigma, rel=2e-3)
        assert abs(added.mean().item()) < 2e-3
    torch.testing.assert_close(
        gaussian_noise(x, 0.5, torch.Generator().manual_seed(3)),
        gaussian_noise(x, 0.5, torch.Generator().manual_seed(3)),
    )
    clipped = gaussian_noise(x, 0.9, torch.Generator().manual_seed(0), clip=True)
    assert clipped.min() == 0 and clipped.max() == 1
    with pytest.raises(ValueError):
        gaussian_noise(x, -0.1)


@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.37, 0.5, 1.0])
def test_salt_and_pepper_sets_exactly_the_fraction_to_0_or_1(fraction):
    x = torch.full((3000, 1, 28, 28), 0.5)  # every hit pixel visibly changes
    out = salt_and_pepper(x, fraction, torch.Generator().manual_seed(0))
    hit = (out != 0.5).reshape(len(x), -1)
    assert (hit.sum(1) == round(fraction * 784)).all()  # exactly the fraction, in every image
    assert set(out[out != 0.5].unique().tolist()) <= {0.0, 1.0}
    if 0 < fraction < 1:
        assert (out == 1).double().sum() / hit.sum() == pytest.approx(0.5, abs=0.01)  # salt as often as pepper
        per_pixel = hit.double().mean(0)  # every position equally likely
        assert per_pixel.mean() == pytest.approx(round(fraction * 784) / 784)
        assert (per_pixel - per_pixel.mean()).abs().max() < 6 * (fraction * (1 - fraction) / len(x)) ** 0.5
    with pytest.raises(ValueError):
        salt_and_pepper(x, 1.5)


# ---- experiments on the embedded digits ----------------------------------------------------------
def test_more_l1_switches_off_more_hidden_units(cli, tmp_path):
    code, _, err = cli(
        "run", "ae-sparse", "image_size=0", "hidden=128", "penalties=[0.03,0.3]", "epochs=40", "--out", "s"
    )
    assert code == 0, err
    m = metrics(tmp_path / "s")
    for key in ("active_fraction", "mean_activation"):
        assert m[f"{key}_standard"] > m[f"{key}_l1_0.03"] > m[f"{key}_l1_0.3"]
    assert m["active_fraction_l1_0.3"] < 0.5 * m["active_fraction_standard"]
    assert m["sse_per_image_l1_0.3"] > m["sse_per_image_standard"]  # sparsity costs reconstruction
    rows = [json.loads(line) for line in (tmp_path / "s" / "metrics.jsonl").read_text().splitlines()]
    assert [r["model"] for r in rows if r["epoch"] == 1] == ["standard", "l1_0.03", "l1_0.3"]
    act = np.load(tmp_path / "s" / "arrays" / "activations.npz")
    assert act["codes"].shape == (3, 10, 128) and int(act["side"]) == 12
    assert (tmp_path / "s" / "figures" / "activation_maps.png").is_file()


def test_undercomplete_sweep_has_a_model_and_filters_per_h(cli, tmp_path):
    code, _, err = cli("run", "ae-undercomplete", "image_size=0", "hs=[8,32]", "epochs=3", "--out", "u")
    assert code == 0, err
    m = metrics(tmp_path / "u")
    assert m["sse_per_image_h32"] < m["sse_per_image_h8"]
    assert 0 <= m["dead_units_h32"] < 32
    assert np.load(tmp_path / "u" / "arrays" / "filters_h32.npz")["filters"].shape == (32, 1, 8, 8)
    for name in ("filters_h8", "filters_h32", "reconstructions", "train_loss_curves"):
        assert (tmp_path / "u" / "figures" / f"{name}.png").is_file()


def test_same_seed_same_numbers(cli, tmp_path):
    for out in ("a", "b"):
        assert (
            cli(
                "run",
                "--no-report",
                "ae-denoising",
                "sigmas=[0.5]",
                "fractions=[0.2]",
                "epochs=2",
                "code=32",
                "--out",
                out,
            )[0]
            == 0
        )
    assert metrics(tmp_path / "a") == metrics(tmp_path / "b")


def test_ae_pca_augments_the_training_images_only(cli, tmp_path):
    keys = ("ks=[4]", "encoder=[16]", "decoder=[16]", "epochs=2", "image_size=0")
    for name, extra in (("plain", ()), ("aug", ("augment=[affine]",))):
        code, _, err = cli("run", "--no-report", "ae-pca", *keys, *extra, "--out", name)
        assert code == 0, err
    plain, aug = Run.open(tmp_path / "plain"), Run.open(tmp_path / "aug")
    assert aug.config["augment"] == ["affine"] and plain.config["augment"] == []
    # the same seed and batches: only the augmentation of the training images tells the two runs apart
    assert aug.history[0]["train_loss"] != plain.history[0]["train_loss"]
    assert aug.metrics["pca_sse_per_image_k4"] == plain.metrics["pca_sse_per_image_k4"]  # PCA: unaugmented images
    assert aug.metrics["test_images"] == plain.metrics["test_images"]


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["ae-pca", "ks=[0,30]"], "'ks': 0 in [0, 30] is out of range"),
        (["ae-pca", "image_size=0", "ks=[65]"], "'ks': 65 is out of range; sizes must be in 1..64"),
        (["ae-undercomplete", "hs=[-3]"], "'hs'"),
        (["ae-undercomplete", "image_size=0", "hs=[8,100]"], "'hs': 100 is out of range; sizes must be in 1..64"),
        (["ae-denoising", "sigmas=[-0.5]"], "'sigmas'"),
        (["ae-denoising", "fractions=[1.5]"], "'fractions': 1.5 is out of range"),
        (["ae-denoising", "fractions=[-0.1]"], "'fractions'"),
        (["ae-sparse", "penalties=[-0.01]"], "'penalties'"),
        (["ae-undercomplete", "hs=[785]"], "'hs': 785 is out of range; sizes must be in 1..784"),
        (["ae-denoising", "code=800"], "'code': 800 is out of range"),
        (["ae-pca", "normalization=standard"], "'normalization'"),
        (["ae-pca", "augment=[bogus]"], "unknown augmentation 'bogus'"),
        (["ae-pca", "dropout=0.95"], "'dropout': 0.95 is out of range"),
        (["ae-pca", "noise=gaussian"], "'noise=gaussian' and 'noise_level=0.0' disagree"),
        (["ae-pca", "noise_level=0.2"], "'noise=none' and 'noise_level=0.2' disagree"),
        (["ae-pca", "noise=salt_pepper", "noise_level=1.5"], "'noise_level': 1.5 is out of range"),
        (["ae-pca", "noise=blur", "noise_level=0.1"], "'noise'"),
        (["ae-pca", "noise=gaussian", "noise_level=-0.1"], "'noise_level'"),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, tmp_path, args, fragment):
    code, _, err = cli("run", *args, "--out", "bad")
    assert code == 2
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


# ---- real MNIST ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_pca_matches_reference_and_a_short_trained_ae_beats_it_on_mnist(cli, tmp_path, mnist_dir):
    code, _, err = cli("run", "ae-pca", "dataset=mnist", f"data_dir={mnist_dir}", "ks=[30]", "epochs=3", "--out", "p")
    assert code == 0, err
    m = metrics(tmp_path / "p")
    assert m["pca_mse_k30"] == pytest.approx(0.01769, abs=1e-4)  # mean-centred PCA, fitted on all 60k
    assert m["pca_sse_per_image_k30"] == pytest.approx(13.87, abs=0.005)
    assert m["ae_sse_per_image_k30"] < m["pca_sse_per_image_k30"]
    errors = np.load(tmp_path / "p" / "arrays" / "errors.npz")
    assert errors["ae_sse"].shape == errors["pca_sse"].shape == (1, 10000)
    assert errors["ae_sse"][0].mean() == pytest.approx(m["ae_sse_per_image_k30"])
    assert m["ae_mse_k30"] == pytest.approx(m["ae_sse_per_image_k30"] / 784)
    rec = np.load(tmp_path / "p" / "arrays" / "reconstructions.npz")
    assert sorted(rec["labels"].tolist()) == list(range(10))
    assert (tmp_path / "p" / "figures" / "error_vs_k.png").is_file()


@pytest.mark.slow
def test_denoising_ae_halves_the_error_at_sigma_half_on_mnist(cli, tmp_path, mnist_dir):
    code, _, err = cli(
        "run",
        "ae-denoising",
        "dataset=mnist",
        f"data_dir={mnist_dir}",
        "sigmas=[0.5]",
        "fractions=[]",
        "epochs=2",
        "--out",
        "d",
    )
    assert code == 0, err
    m = metrics(tmp_path / "d")
    assert m["improvement_sigma0.5"] >= 0.3
    assert m["denoising_sse_per_image_sigma0.5"] < m["noisy_sse_per_image_sigma0.5"]


def test_per_image_sse_is_the_summed_square():
    a, b = torch.rand(7, 1, 4, 4), torch.rand(7, 1, 4, 4)
    torch.testing.assert_close(per_image_sse(a, b), ((a - b) ** 2).sum((1, 2, 3)).double())
    model = MLPAutoencoder(16, [], 4, [])
    torch.testing.assert_close(model.reconstruct(a, batch_size=3), model.eval()(a))
