"""A model with two optimizers trains through the one Trainer: its own step, every optimizer's state in the
checkpoint, and a resumed run that reaches the uninterrupted run's numbers."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlplab.data import load_dataset
from mlplab.runs import Run
from mlplab.train import TrainConfig, Trainer
from mlplab.train.checkpoint import read_checkpoint


class TinyGAN(nn.Module):
    """D: 64 -> 1 logit; G: 8 -> 64. Even steps update D only, odd steps G only."""

    def __init__(self):
        super().__init__()
        self.spec = {"class": "TinyGAN"}
        self.d = nn.Sequential(nn.Linear(64, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
        self.g = nn.Sequential(nn.Linear(8, 64), nn.Tanh())

    def configure_optimizers(self, cfg):
        return {
            "d": torch.optim.Adam(self.d.parameters(), lr=cfg.lr, betas=(0.5, 0.999)),
            "g": torch.optim.Adam(self.g.parameters(), lr=cfg.lr, betas=(0.5, 0.999)),
        }

    def training_step(self, batch, optimizers, step, generator):
        x, _ = batch
        real = x.flatten(1)  # (B, 64)
        z = torch.randn(len(real), 8, generator=generator)
        fake = self.g(z)  # (B, 64)
        if step % 2 == 0:
            d_real, d_fake = self.d(real), self.d(fake.detach())
            loss = F.binary_cross_entropy_with_logits(
                d_real, torch.ones_like(d_real)
            ) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            opt = optimizers["d"]
        else:
            d_fake = self.d(fake)
            loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
            opt = optimizers["g"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"d_loss" if step % 2 == 0 else "g_loss": loss.detach()}


CFG = TrainConfig(epochs=4, batch_size=64, lr=2e-3)


def _weights(module):
    return [p.detach().clone() for p in module.parameters()]


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_d_step_changes_only_d_and_a_g_step_only_g():
    torch.manual_seed(0)
    model = TinyGAN()
    trainer = Trainer.from_config(model, CFG, progress=False)
    assert set(trainer.optimizers) == {"d", "g"}
    batch = (load_dataset("digits").train.x[:32], torch.zeros(32, dtype=torch.long))
    d0, g0 = _weights(model.d), _weights(model.g)
    trainer._step(batch, epoch=1, step=0)  # trainer.step 0: a D step
    d1, g1 = _weights(model.d), _weights(model.g)
    assert not any(torch.equal(a, b) for a, b in zip(d0, d1, strict=True)) and _same(g0, g1)
    trainer._step(batch, epoch=1, step=1)  # trainer.step 1: a G step
    d2, g2 = _weights(model.d), _weights(model.g)
    assert _same(d1, d2) and not any(torch.equal(a, b) for a, b in zip(g1, g2, strict=True))


def _fit(run_dir, *, stop_after=None, resume=False):
    torch.manual_seed(0)
    ds = load_dataset("digits")
    run = Run.open(run_dir) if resume else Run.create("tiny-gan", CFG.to_dict(), out=run_dir)
    model = TinyGAN()

    def interrupt(trainer, row):
        if row["epoch"] == stop_after:
            raise KeyboardInterrupt

    trainer = Trainer.from_config(
        model,
        CFG,
        run=run,
        generator=torch.Generator().manual_seed(0),
        callbacks=[interrupt] if stop_after else [],
        progress=False,
    )
    result = trainer.fit(ds.train, None, resume=resume)
    return model, result, run


def _numbers(rows):
    return [{k: v for k, v in r.items() if "seconds" not in k} for r in rows]


def test_checkpoint_holds_every_optimizer_and_resume_matches_the_uninterrupted_run(tmp_path):
    whole, result, run = _fit(tmp_path / "whole")
    state = read_checkpoint(run.checkpoint("last"))
    assert set(state["optimizers"]) == {"d", "g"} and state["optimizers"]["d"]["state"]
    steps_per_epoch = -(-len(load_dataset("digits").train) // CFG.batch_size)
    assert state["step"] == 4 * steps_per_epoch
    assert [r["epoch"] for r in result.history] == [1, 2, 3, 4]
    assert all("train_d_loss" in r and "train_g_loss" in r and "lr_d" in r for r in result.history)

    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "cut", stop_after=2)
    assert [r["epoch"] for r in Run.open(tmp_path / "cut").history] == [1, 2]
    resumed, result2, run2 = _fit(tmp_path / "cut", resume=True)
    assert _numbers(result2.history) == _numbers(result.history)
    assert _numbers(run2.history) == _numbers(run.history)
    assert _same(_weights(resumed), _weights(whole))
    assert read_checkpoint(run2.checkpoint("last"))["step"] == state["step"]
