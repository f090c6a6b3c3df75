"""The training options of the best recipes, each against a hand-written reference loop: the moving average of
the weights (ema), max-norm, label smoothing; exact resume with the average; per-dataset presets."""

import copy

import pytest
import torch
import torch.nn.functional as F

from mlplab.config import parse_overrides
from mlplab.data import load_dataset
from mlplab.data.batches import iterate_batches
from mlplab.experiments.classify import ClassifyConfig
from mlplab.nn import MLPClassifier
from mlplab.runs import Run
from mlplab.train import Trainer, make_optimizer, read_checkpoint
from mlplab.train.checkpoint import load_model


def _setup(**trainer_kwargs):
    torch.manual_seed(0)
    ds = load_dataset("digits")
    model = MLPClassifier(64, [32], 10, norm="batch")
    reference = copy.deepcopy(model)
    trainer = Trainer(
        model,
        make_optimizer(model.parameters(), "sgd", 0.05),
        generator=torch.Generator().manual_seed(1),
        progress=False,
        print_rows=False,
        **trainer_kwargs,
    )
    return ds, model, reference, trainer


def _reference_loop(ds, model, epochs, *, decay=0.0, max_norm=0.0):
    """Plain SGD with momentum over the same batches, the average kept by hand: p_avg = d p_avg + (1 - d) p,
    starting from the weights after the first step; buffers (BatchNorm's statistics) averaged the same way."""
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(1)
    avg = None
    for _ in range(epochs):
        model.train()
        for xb, yb in iterate_batches(ds.train.x, ds.train.y, 64, shuffle=True, generator=gen):
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if max_norm:
                with torch.no_grad():
                    for m in model.modules():
                        if isinstance(m, torch.nn.Linear):
                            m.weight.copy_(torch.renorm(m.weight, 2, 0, max_norm))
            state = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
            if avg is None:
                avg = state
            else:
                avg = {k: (decay * avg[k] + (1 - decay) * v) if v.is_floating_point() else v for k, v in state.items()}
    return avg


def test_ema_weights_are_the_moving_average_of_a_reference_loop():
    ds, model, reference, trainer = _setup(ema=0.9)
    trainer.fit(ds.train, None, epochs=2, batch_size=64)
    avg = _reference_loop(ds, reference, 2, decay=0.9)
    got = model.state_dict()  # after fit the model holds the average
    for k, v in avg.items():
        if v.is_floating_point() and "num_batches" not in k:
            torch.testing.assert_close(got[k].float(), v, atol=2e-5, rtol=1e-4, msg=k)
    # and the average is not the raw weights: the option does something
    raw = reference.state_dict()["net.fc1.weight"]
    assert (got["net.fc1.weight"] - raw).abs().max() > 1e-3


def test_validation_during_training_uses_the_average(tmp_path):
    ds, model, _, trainer = _setup(ema=0.95)
    trainer.fit(ds.train, ds.val, epochs=1, batch_size=64)
    with torch.no_grad():
        acc = (trainer.ema.module.eval()(ds.val.x).argmax(1) == ds.val.y).float().mean().item()
    assert trainer.evaluate(ds.val)["accuracy"] == pytest.approx(acc, abs=1e-6)


def test_max_norm_cuts_every_units_weights_as_a_reference_loop_does():
    ds, model, reference, trainer = _setup(max_norm=0.5)
    trainer.fit(ds.train, None, epochs=1, batch_size=64)
    norms = [m.weight.detach().norm(dim=1) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert all(float(n.max()) <= 0.5 + 1e-5 for n in norms)
    assert any(float(n.max()) > 0.49 for n in norms)  # the bound was reached, so it acted
    _reference_loop(ds, reference, 1, max_norm=0.5)
    for (k, a), b in zip(model.state_dict().items(), reference.state_dict().values(), strict=True):
        if a.is_floating_point():
            torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4, msg=k)


def test_label_smoothing_reaches_the_loss():
    cfg = parse_overrides(ClassifyConfig, ["label_smoothing=0.1", "hidden=[16]"])
    from mlplab.train.classifier import build_classifier

    model = build_classifier(cfg, 64, 10).eval()  # no dropout: both sides see the same logits
    x, y = torch.randn(20, 64), torch.randint(0, 10, (20,))
    got = model.loss((x, y))["loss"]
    torch.testing.assert_close(got, F.cross_entropy(model(x), y, label_smoothing=0.1))


def test_a_run_with_ema_resumes_to_the_same_weights(tmp_path):
    """Two epochs straight, and one epoch then a resume for the second, give the same averaged model."""

    def trained(folder, epochs, resume=False):
        run = Run.create("t", {}, out=folder) if not resume else Run.open(folder)
        ds, model, _, _ = _setup()
        trainer = Trainer(
            model,
            make_optimizer(model.parameters(), "adam", 1e-2),
            run=run,
            generator=torch.Generator().manual_seed(1),
            progress=False,
            print_rows=False,
            ema=0.9,
        )
        trainer.fit(ds.train, ds.val, epochs=epochs, batch_size=64, resume=resume)
        return model

    straight = trained(tmp_path / "a", 2)
    trained(tmp_path / "b", 1)
    resumed = trained(tmp_path / "b", 2, resume=True)
    for (k, a), b in zip(straight.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    best = read_checkpoint(tmp_path / "a" / "checkpoints" / "best.pt")
    assert "ema" in best
    reloaded = load_model(tmp_path / "a" / "checkpoints" / "best.pt")  # the averaged weights, as validated
    torch.testing.assert_close(
        reloaded.state_dict()["net.fc1.weight"], best["ema"]["module.net.fc1.weight"], atol=0, rtol=0
    )


def test_ema_refuses_a_checkpoint_written_without_it(tmp_path):
    run = Run.create("t", {}, out=tmp_path / "r")
    ds, model, _, trainer = _setup()
    trainer.run = run
    trainer.fit(ds.train, ds.val, epochs=1, batch_size=64)
    _, model2, _, with_ema = _setup(ema=0.9)
    with_ema.run = run
    with pytest.raises(Exception, match="without ema"):
        with_ema.fit(ds.train, ds.val, epochs=2, batch_size=64, resume=True)


def test_presets_can_depend_on_the_dataset():
    mnist = parse_overrides(ClassifyConfig, ["preset=best", "dataset=mnist"])
    fashion = parse_overrides(ClassifyConfig, ["preset=best", "dataset=fashion-mnist"])
    assert "elastic" in mnist.augment and "elastic" not in fashion.augment  # a mirror keeps a shirt a shirt
    assert "flip" in fashion.augment and "flip" not in mnist.augment  # ...not a 2
    mine = parse_overrides(ClassifyConfig, ["preset=best", "dataset=mnist", "epochs=3"])
    assert mine.epochs == 3 and mine.augment == mnist.augment  # keys given beside the preset win


def test_after_fit_evaluation_uses_the_kept_weights_not_the_last_average(tmp_path):
    """With a validation split the best epoch's averaged weights are kept; what `evaluate` tests afterwards is
    that model (the one best.pt holds), even when a later epoch's average differs."""
    run = Run.create("t", {}, out=tmp_path / "r")
    ds, model, _, trainer = _setup(ema=0.5)
    trainer.run = run
    result = trainer.fit(ds.train, ds.val, epochs=6, batch_size=64)
    kept = load_model(tmp_path / "r" / "checkpoints" / "best.pt")
    for (k, a), b in zip(model.state_dict().items(), kept.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    with torch.no_grad():
        acc = (kept(ds.test.x).argmax(1) == ds.test.y).float().mean().item()
    assert trainer.evaluate(ds.test)["accuracy"] == pytest.approx(acc, abs=1e-6)
    # the case that tells the two apart: the best epoch is not the last, so the last average is another model
    assert result.best_epoch < 6
    last_average = trainer.ema.module.state_dict()["net.fc1.weight"]
    assert not torch.equal(last_average, kept.state_dict()["net.fc1.weight"])
