"""The GAN model: the generator mirrors the discriminator, each step moves only its own network, both schedules."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from mlplab.errors import UserError
from mlplab.nn import build_model
from mlplab.nn.gan import GAN


def linear_shapes(module: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in module.modules() if isinstance(m, nn.Linear)]


def snapshot(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def changed(module: nn.Module, before: list[torch.Tensor]) -> list[bool]:
    return [not torch.equal(p, b) for p, b in zip(module.parameters(), before, strict=True)]


def test_generator_mirrors_the_discriminator():
    gan = GAN([1, 28, 28], [512, 256], latent=100)
    assert linear_shapes(gan.discriminator) == [(784, 512), (512, 256), (256, 1)]
    assert linear_shapes(gan.generator) == [(100, 256), (256, 512), (512, 784)]
    assert gan.generator.sizes == [100] + list(reversed(gan.discriminator.sizes[1:-1])) + [784]
    acts = [m for m in gan.modules() if isinstance(m, nn.LeakyReLU)]
    assert len(acts) == 4 and all(a.negative_slope == 0.2 for a in acts)
    z = gan.noise(5, torch.Generator().manual_seed(0))
    assert gan.generator(z).shape == (5, 1, 28, 28) and gan.discriminator(gan.generator(z)).shape == (5,)


@pytest.mark.parametrize("output, lo, hi, act", [("minus_one_one", -1, 1, nn.Tanh), ("unit", 0, 1, nn.Sigmoid)])
def test_generator_output_matches_the_normalisation(output, lo, hi, act):
    gan = GAN([1, 8, 8], [16], latent=4, output=output)
    assert isinstance(gan.generator.net[-1], act)
    x = gan.sample(100 * torch.randn(50, 4))  # saturating inputs reach the ends of the range, never past them
    assert x.min() >= lo and x.max() <= hi and x.min() < lo + 0.2 and x.max() > hi - 0.2


def test_dropout_only_in_the_generator_and_only_in_training():
    gan = GAN([1, 8, 8], [32, 16], latent=4, g_dropout=0.5)
    assert sum(isinstance(m, nn.Dropout) for m in gan.generator.modules()) == 2
    assert not any(isinstance(m, nn.Dropout) for m in gan.discriminator.modules())
    z = torch.randn(3, 4)
    torch.testing.assert_close(gan.sample(z), gan.sample(z))  # eval mode: no dropout


def test_spec_rebuilds_the_same_model():
    gan = GAN([1, 8, 8], [16, 8], latent=3, output="unit", g_dropout=0.1, schedule="lab", n_d=2, n_g=3)
    twin = build_model(gan.spec)
    twin.load_state_dict(gan.state_dict())
    z = torch.randn(4, 3)
    torch.testing.assert_close(twin.sample(z), gan.sample(z))
    assert twin.spec == gan.spec and (twin.n_d, twin.n_g, twin.schedule) == (2, 3, "lab")


def test_bad_shapes_are_user_errors():
    with pytest.raises(UserError, match="d_hidden"):
        GAN([1, 8, 8], [])
    with pytest.raises(UserError, match="schedule"):
        GAN([1, 8, 8], [8], schedule="sometimes")


def test_optimizers_per_schedule():
    cfg = SimpleNamespace(lr=3e-4)
    for schedule, betas in (("alternating", (0.5, 0.999)), ("lab", (0.9, 0.999))):
        gan = GAN([1, 8, 8], [8], schedule=schedule)
        opts = gan.configure_optimizers(cfg)
        assert set(opts) == {"d", "g"}
        assert opts["d"].param_groups[0]["betas"] == betas and opts["g"].param_groups[0]["lr"] == 3e-4
        assert {id(p) for p in opts["d"].param_groups[0]["params"]} == {id(p) for p in gan.discriminator.parameters()}
        assert {id(p) for p in opts["g"].param_groups[0]["params"]} == {id(p) for p in gan.generator.parameters()}


def test_a_d_step_changes_only_d_and_a_g_step_only_g():
    torch.manual_seed(0)
    gan = GAN([1, 8, 8], [16, 8], latent=4)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-2))
    real, gen = torch.rand(10, 1, 8, 8) * 2 - 1, torch.Generator().manual_seed(1)
    d0, g0 = snapshot(gan.discriminator), snapshot(gan.generator)
    gan.d_step(real, opts["d"], gen)
    assert all(changed(gan.discriminator, d0)) and not any(changed(gan.generator, g0))
    d1 = snapshot(gan.discriminator)
    gan.g_step(10, opts["g"], gen)
    assert all(changed(gan.generator, g0)) and not any(changed(gan.discriminator, d1))
    assert all(p.requires_grad for p in gan.discriminator.parameters())


@pytest.mark.parametrize("schedule, scale", [("alternating", 1.0), ("lab", 0.5)])
def test_losses_are_the_textbook_bce_and_the_non_saturating_generator_loss(schedule, scale):
    """alternating: mean BCE of the real half plus that of the fake half; lab: one BCE over the mixed batch."""
    torch.manual_seed(0)
    gan = GAN([1, 4, 4], [8], latent=3, schedule=schedule)
    opts = gan.configure_optimizers(SimpleNamespace(lr=0.0 + 1e-12))  # a step too small to matter
    real = torch.rand(6, 1, 4, 4) * 2 - 1
    gen = torch.Generator().manual_seed(5)
    z = gan.noise(6, torch.Generator().manual_seed(5))
    with torch.no_grad():
        d_real, d_fake = gan.discriminator(real).sigmoid(), gan.discriminator(gan.generator(z)).sigmoid()
    out = gan.d_step(real, opts["d"], gen)
    expected = -scale * (d_real.log().mean() + (1 - d_fake).log().mean())
    torch.testing.assert_close(out["loss_d"], expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out["d_real"], d_real.mean())
    z = gan.noise(6, torch.Generator().manual_seed(9))
    with torch.no_grad():
        d_g = gan.discriminator(gan.generator(z)).sigmoid()
    out = gan.g_step(6, opts["g"], torch.Generator().manual_seed(9))
    torch.testing.assert_close(out["loss_g"], -d_g.log().mean(), rtol=1e-5, atol=1e-6)


def test_lab_schedule_takes_n_d_d_steps_on_fresh_slices_then_n_g_g_steps():
    torch.manual_seed(0)
    gan = GAN([1, 4, 4], [8], latent=3, schedule="lab", n_d=3, n_g=2)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-3))
    seen = []
    original = gan.d_step
    gan.d_step = lambda real, opt, g: seen.append(real.clone()) or original(real, opt, g)
    batch = torch.rand(300, 1, 4, 4)
    out = gan.training_step((batch, None), opts, 0, torch.Generator().manual_seed(0))
    assert [len(s) for s in seen] == [100, 100, 100]
    torch.testing.assert_close(torch.cat(seen), batch)  # every real image used once, none twice
    first = next(iter(opts["d"].state.values()))["step"], next(iter(opts["g"].state.values()))["step"]
    assert [int(s) for s in first] == [3, 2]
    assert {"loss", "loss_d", "loss_g", "d_real", "d_fake"} <= set(out)


def test_alternating_ignores_n_d_and_n_g():
    gan = GAN([1, 4, 4], [8], latent=3, schedule="alternating", n_d=4, n_g=4)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-3))
    gan.training_step((torch.rand(8, 1, 4, 4), None), opts, 0, torch.Generator().manual_seed(0))
    assert int(next(iter(opts["d"].state.values()))["step"]) == 1
    assert int(next(iter(opts["g"].state.values()))["step"]) == 1
