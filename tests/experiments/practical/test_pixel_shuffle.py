"""`pixel-shuffle` and the pixel permutations of mlplab.data.augment."""

import pytest
import torch

from mlplab.analysis.spread import spread
from mlplab.data import augment as aug
from mlplab.experiments import execute


def test_permutations_move_pixels_not_values_and_the_same_way_in_every_channel():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 4, 4)
    perm = torch.randperm(16, generator=gen)
    y = aug.permute_pixels(x, perm)
    assert torch.equal(y.view(6, 3, 16), x.view(6, 3, 16)[:, :, perm])
    batch = aug.shuffle_pixels_per_batch()(x, gen)
    image = aug.shuffle_pixels_per_image()(x, gen)
    for out in (y, batch, image):
        assert torch.equal(out.view(6, 3, 16).sort(-1).values, x.view(6, 3, 16).sort(-1).values)
    # per batch: one order for all images; per image: a different order for (almost surely) each
    orders = [(x.view(6, 3, 16)[i, 0][:, None] == image.view(6, 3, 16)[i, 0][None]).float().argmax(0) for i in range(6)]
    assert len({tuple(o.tolist()) for o in orders}) == 6
    for i in range(6):  # the channels of one image move together
        o = orders[i]
        assert torch.equal(image.view(6, 3, 16)[i], x.view(6, 3, 16)[i][:, o])
    b_orders = {
        tuple((x.view(6, 3, 16)[i, 0][:, None] == batch.view(6, 3, 16)[i, 0][None]).float().argmax(0).tolist())
        for i in range(6)
    }
    assert len(b_orders) == 1
    assert torch.equal(aug.sort_pixels(y), aug.sort_pixels(x))  # the histogram is blind to any permutation


def test_modes_on_digits_fixed_keeps_accuracy_new_permutations_destroy_it(tmp_path):
    run = execute(
        "pixel-shuffle",
        ["epochs=6", "seeds=2", "hidden=[64]", "modes=[none,fixed,per-batch,sorted]"],
        out=str(tmp_path / "run"),
    )
    rows = run.load_table("per_seed")
    acc = {m: [float(r["test_accuracy"]) for r in rows if r["mode"] == m] for m in ("none", "fixed", "per-batch")}
    assert [r["mode"] for r in rows] == ["none"] * 2 + ["fixed"] * 2 + ["per-batch"] * 2 + ["sorted"] * 2
    assert min(acc["none"] + acc["fixed"]) > 0.85 and max(acc["per-batch"]) < 0.5
    assert run.metrics["fixed/test_accuracy"]["mean"] == pytest.approx(spread(acc["fixed"]).mean)
    assert (run.path / "figures" / "curves.png").is_file() and (run.path / "figures" / "examples.png").is_file()


@pytest.mark.parametrize(
    "args,message",
    [
        (["seeds=0"], "'seeds': 0 is out of range"),
        (["modes=[none,rotate]"], "unknown mode 'rotate'"),
        (["hidden=[]"], "'hidden': the list is empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    code, out, err = cli("run", "pixel-shuffle", *args, "--out", str(tmp_path / "run"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.slow
def test_fashion_mnist_fixed_within_a_point_of_none_per_batch_far_below(fashion_dir, tmp_path):
    run = execute(
        "pixel-shuffle",
        ["dataset=fashion-mnist", f"data_dir={fashion_dir}", "epochs=3", "seeds=1", "modes=[none,fixed,per-batch]"],
        out=str(tmp_path / "run"),
    )
    acc = {r["mode"]: float(r["test_accuracy"]) for r in run.load_table("per_seed")}
    assert abs(acc["fixed"] - acc["none"]) < 0.01, acc
    assert acc["per-batch"] < min(acc["none"], acc["fixed"]) - 0.2, acc
