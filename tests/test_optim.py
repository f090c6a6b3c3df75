"""The hand-written optimizers of mlplab.optim against torch.optim, 100 steps on an MLP over digits batches."""

import pytest
import torch

from mlplab.data import iterate_batches, load_dataset
from mlplab.errors import UserError
from mlplab.nn import MLPClassifier
from mlplab.optim import SGD, Adam, SGDMomentum
from mlplab.runs import Run
from mlplab.train import Trainer, make_optimizer, make_scheduler

STEPS = 100


@pytest.fixture(scope="module")
def batches():
    ds = load_dataset("digits", seed=0)
    gen = torch.Generator().manual_seed(0)
    out = []
    while len(out) < STEPS:
        out += list(iterate_batches(ds.train.x.double(), ds.train.y, 64, shuffle=True, generator=gen))
    return out[:STEPS]


def trained(make, batches):
    """An MLP (float64, same init every call) after STEPS updates by `make(params)`."""
    torch.manual_seed(3)
    model = MLPClassifier(64, [32, 16], 10).double()
    opt = make(model.parameters())
    for xb, yb in batches:
        loss = model.loss((xb, yb))["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in model.parameters()])


CASES = {
    "sgd": (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd+wd": (lambda p: SGD(p, lr=0.1, weight_decay=1e-3), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=1e-3)),
    # the practical's momentum at lr is torch's at lr * (1 - beta): the docstring's claim
    "sgdm": (
        lambda p: SGDMomentum(p, lr=0.5, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.5 * (1 - 0.9), momentum=0.9),
    ),
    "sgdm-0.5+wd": (
        lambda p: SGDMomentum(p, lr=0.2, momentum=0.5, weight_decay=1e-2),
        lambda p: torch.optim.SGD(p, lr=0.2 * 0.5, momentum=0.5, weight_decay=1e-2),
    ),
    "adam": (lambda p: Adam(p, lr=1e-3), lambda p: torch.optim.Adam(p, lr=1e-3, foreach=False)),
    "adam-betas+wd": (
        lambda p: Adam(p, lr=3e-3, beta1=0.8, beta2=0.99, weight_decay=1e-3),
        lambda p: torch.optim.Adam(p, lr=3e-3, betas=(0.8, 0.99), weight_decay=1e-3, foreach=False),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_torch_optim_over_100_steps(case, batches):
    mine, ref = CASES[case]
    start = trained(lambda p: SGD(p, lr=1e-12), batches[:1])
    a, b = trained(mine, batches), trained(ref, batches)
    assert (a - start).abs().max() > 1e-2, "the weights must have moved for the comparison to mean anything"
    torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


def test_practical_momentum_differs_from_torch_momentum_at_the_same_lr(batches):
    """The mapping is lr * (1 - beta), not lr: at the same lr the two trajectories part."""
    a = trained(lambda p: SGDMomentum(p, lr=0.05, momentum=0.9), batches)
    b = trained(lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), batches)
    assert (a - b).abs().max() > 1e-2


def test_parameters_without_gradient_are_skipped():
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    for opt in (SGD([used, unused], lr=0.1), SGDMomentum([used, unused], lr=0.1), Adam([used, unused], lr=0.1)):
        (used * 2).sum().backward()
        opt.step()
        assert torch.equal(unused.detach(), torch.ones(3)) and unused not in opt.state
        assert (used.detach() < 1).all()
        opt.zero_grad()
        assert used.grad is None


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0),
        lambda p: SGD(p, lr=-1),
        lambda p: SGDMomentum(p, lr=0.1, momentum=1.0),
        lambda p: SGDMomentum(p, lr=0.1, momentum=-0.1),
        lambda p: Adam(p, lr=0.1, beta1=1.0),
        lambda p: Adam(p, lr=0.1, beta2=1.5),
        lambda p: SGD(p, lr=0.1, weight_decay=-1),
    ],
)
def test_bad_hyper_parameters_are_user_errors(make):
    with pytest.raises(UserError, match="must be"):
        make([torch.nn.Parameter(torch.ones(2))])


def test_trainer_takes_them_by_name_and_resumes_them_exactly(tmp_path):
    """optimizer=scratch-*: schedulers drive their lr and checkpoints carry their state (resume == straight)."""
    ds = load_dataset("digits", seed=0)
    for name in ("scratch-sgd", "scratch-sgdm", "scratch-adam"):
        finals = []
        for split in ([4], [2, 4]):
            run = Run.create("t", {}, out=tmp_path / f"{name}-{len(split)}")
            torch.manual_seed(0)
            model = MLPClassifier(64, [16], 10)
            for i, epochs in enumerate(split):
                opt = make_optimizer(model.parameters(), name, 0.05)
                trainer = Trainer(
                    model,
                    opt,
                    run=run,
                    generator=torch.Generator().manual_seed(1),
                    scheduler=make_scheduler(opt, "cosine", 4),
                    restore_best=False,
                )
                trainer.fit(ds.train, ds.val, epochs=epochs, batch_size=128, resume=i > 0)
            finals.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
            assert run.history[-1]["lr"] < 0.05
        assert type(opt).__name__ == {"scratch-sgd": "SGD", "scratch-sgdm": "SGDMomentum", "scratch-adam": "Adam"}[name]
        torch.testing.assert_close(finals[0], finals[1], atol=0, rtol=0)


def test_unknown_scratch_name_is_a_user_error():
    with pytest.raises(UserError, match="unknown optimizer 'scratch-rmsprop'"):
        make_optimizer([torch.nn.Parameter(torch.ones(1))], "scratch-rmsprop", 0.1)


def test_onecycle_schedule_warms_up_then_anneals_below_the_start_over_the_run():
    opt = make_optimizer([torch.nn.Parameter(torch.ones(1))], "scratch-adam", 0.01)
    sched = make_scheduler(opt, "onecycle", 10)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(10):  # the Trainer steps it once per epoch
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    peak = max(range(len(lrs)), key=lrs.__getitem__)
    assert 0.95 * 0.01 <= lrs[peak] <= 0.01 and 0 < peak < 10
    assert lrs[0] == pytest.approx(0.01 / 25) and lrs[-1] < lrs[0]
