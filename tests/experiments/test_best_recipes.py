"""preset=best (issue 27): the whole recipe is what config.yaml shows, per dataset where it is tuned per
dataset, keys given beside it win; the model family stays the experiment's (fully connected layers only)."""

import json

import pytest
import torch

from mlplab.config import parse_overrides
from mlplab.experiments.autoencoders.pca import AEPCAConfig
from mlplab.experiments.classify import BEST, ClassifyConfig, best_preset
from mlplab.experiments.gan.gan import GanConfig
from mlplab.safe_yaml import load as load_yaml


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_best_sets_the_datasets_own_recipe(dataset):
    cfg = parse_overrides(ClassifyConfig, ["preset=best", f"dataset={dataset}"])
    assert {k: getattr(cfg, k) for k in BEST[dataset]} == BEST[dataset]


def test_best_on_other_data_takes_the_closer_recipe():
    assert best_preset("kmnist") == BEST["mnist"]  # characters: no mirrors
    assert best_preset("folder:/data/leaves") == BEST["fashion-mnist"]


def test_best_config_is_written_whole(cli, tmp_path):
    code, _, err = cli("run", "classify", "preset=best", "epochs=1", "hidden=[32]", "--out", str(tmp_path / "r"))
    assert code == 0, err
    config = load_yaml((tmp_path / "r" / "config.yaml").read_text())
    recipe = best_preset("digits")
    assert config["preset"] == "best" and config["hidden"] == [32] and config["epochs"] == 1
    assert {k: config[k] for k in recipe if k not in ("hidden", "epochs")} == {
        k: v for k, v in recipe.items() if k not in ("hidden", "epochs")
    }
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert 0 <= metrics["test_accuracy"] <= 1


def test_ae_and_gan_presets_keep_their_families():
    ae = parse_overrides(AEPCAConfig, ["preset=best", "dataset=mnist"])
    assert ae.ks == [30] and ae.encoder == list(reversed(ae.decoder))  # a symmetric fully connected AE
    gan = parse_overrides(GanConfig, ["preset=best", "dataset=mnist", "digit=4"])
    assert gan.digit == 4 and gan.g_ema > 0  # the generator still mirrors d_hidden (nn.gan builds it so)
    from mlplab.nn.gan import GAN

    model = GAN([1, 28, 28], gan.d_hidden, gan.latent, g_ema=gan.g_ema)
    assert all(
        isinstance(m, (torch.nn.Linear, torch.nn.LeakyReLU, torch.nn.Flatten, torch.nn.Tanh))
        for m in model.discriminator.net
    )
