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
    gan.d_step = lambda real, opt, g, step=0: seen.append(real.clone()) or original(real, opt, g, step)
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


# ---- the options of the best recipe: g_ema, two learning rates, R1, spectral norm, instance noise ---------------


def _real(n=16, seed=0):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_two_time_scale_learning_rates_reach_the_optimizers():
    gan = GAN([1, 8, 8], [16])
    opts = gan.configure_optimizers(SimpleNamespace(lr=2e-4, lr_d=4e-4, lr_g=None))
    assert opts["d"].param_groups[0]["lr"] == 4e-4 and opts["g"].param_groups[0]["lr"] == 2e-4


def test_the_sampling_generator_is_the_moving_average_of_the_generator():
    torch.manual_seed(0)
    gan = GAN([1, 8, 8], [16], latent=4, g_ema=0.8)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-2))
    gen = torch.Generator().manual_seed(0)
    average = None
    for step in range(5):
        gan.training_step((_real(seed=step), None), opts, step, gen)
        now = [p.detach().clone() for p in gan.generator.parameters()]
        average = now if average is None else [0.8 * a + 0.2 * p for a, p in zip(average, now, strict=True)]
    for a, p in zip(average, gan.sampler.parameters(), strict=True):
        torch.testing.assert_close(p, a, atol=1e-6, rtol=1e-5)
    z = gan.noise(3, torch.Generator().manual_seed(1))
    torch.testing.assert_close(gan.sample(z), gan.sampler.eval()(z))
    assert not torch.allclose(gan.sample(z), gan.generator.eval()(z))  # the average, not the last weights
    rebuilt = build_model(gan.spec)
    rebuilt.load_state_dict(gan.state_dict())  # the average travels in the checkpoint's model state
    torch.testing.assert_close(rebuilt.sample(z), gan.sample(z))


def test_r1_penalty_is_gamma_half_the_squared_gradient_norm_on_real_images():
    torch.manual_seed(0)
    gan = GAN([1, 8, 8], [16], latent=4, r1=10.0)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-12))
    real = _real()
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(gan.discriminator(x).sum(), x)
    expected = grad.flatten(1).pow(2).sum(1).mean()
    out = gan.d_step(real, opts["d"], torch.Generator().manual_seed(0))
    torch.testing.assert_close(out["r1_penalty"], expected, atol=1e-6, rtol=1e-4)
    plain = GAN([1, 8, 8], [16], latent=4)
    plain.load_state_dict(gan.state_dict())
    base = plain.d_step(
        real, plain.configure_optimizers(SimpleNamespace(lr=1e-12))["d"], torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(out["loss_d"], base["loss_d"] + 5.0 * expected, atol=1e-5, rtol=1e-4)


def test_spectral_norm_keeps_each_discriminator_layer_near_unit_spectral_norm():
    torch.manual_seed(0)
    gan = GAN([1, 8, 8], [32, 16], latent=4, spectral_norm=True)
    opts = gan.configure_optimizers(SimpleNamespace(lr=1e-2))
    gen = torch.Generator().manual_seed(0)
    for step in range(30):  # each training forward runs a power iteration
        gan.training_step((_real(seed=step), None), opts, step, gen)
    layers = [m for m in gan.discriminator.modules() if isinstance(m, nn.Linear)]
    sigmas = [float(torch.linalg.matrix_norm(m.weight.detach(), ord=2)) for m in layers]
    assert all(s == pytest.approx(1.0, abs=0.05) for s in sigmas), sigmas


def test_instance_noise_falls_linearly_to_zero():
    gan = GAN([1, 8, 8], [16], instance_noise=0.5, noise_steps=100)
    assert [gan.noise_sigma(s) for s in (0, 50, 100, 150)] == [0.5, 0.25, 0.0, 0.0]
    torch.manual_seed(0)
    noisy = GAN([1, 8, 8], [16], latent=4, instance_noise=0.5, noise_steps=100)
    quiet = GAN([1, 8, 8], [16], latent=4)
    quiet.load_state_dict(noisy.state_dict())
    lr = SimpleNamespace(lr=1e-12)
    a = noisy.d_step(_real(), noisy.configure_optimizers(lr)["d"], torch.Generator().manual_seed(0), step=0)
    b = quiet.d_step(_real(), quiet.configure_optimizers(lr)["d"], torch.Generator().manual_seed(0), step=0)
    c = noisy.d_step(_real(), noisy.configure_optimizers(lr)["d"], torch.Generator().manual_seed(0), step=100)
    assert not torch.allclose(a["loss_d"], b["loss_d"])  # noise on D's inputs while it lasts
    torch.testing.assert_close(c["loss_d"], b["loss_d"])  # and none once it has fallen to zero


def test_options_off_keep_the_spec_of_older_checkpoints():
    assert set(GAN([1, 8, 8], [16]).spec) == {
        "class",
        "image_shape",
        "d_hidden",
        "latent",
        "output",
        "g_dropout",
        "schedule",
        "n_d",
        "n_g",
    }
    on = GAN([1, 8, 8], [16], g_ema=0.99, r1=1.0, spectral_norm=True, instance_noise=0.1, noise_steps=10).spec
    assert {k: on[k] for k in ("g_ema", "r1", "spectral_norm", "instance_noise", "noise_steps")} == {
        "g_ema": 0.99,
        "r1": 1.0,
        "spectral_norm": True,
        "instance_noise": 0.1,
        "noise_steps": 10,
    }
