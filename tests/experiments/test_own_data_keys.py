"""The data keys of a users' source (test_size, skip_bad) reach the helper configs that experiments build from
their own (gan's judge and real images, optimizers' network comparison, dreams' classifier): the same split and
the same files skipped as `classify` would use."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mlplab.data import load_dataset


@pytest.fixture
def one_split_folder(tmp_path) -> str:
    """folder: of three classes (60 8x8 PNGs each, no train/test split) with one truncated file."""
    rng = np.random.default_rng(1)
    root = tmp_path / "one"
    for c, name in enumerate(("ant", "bee", "cow")):
        (root / name).mkdir(parents=True)
        for i, a in enumerate(rng.integers(0, 80, size=(60, 8, 8)) + 85 * c):
            Image.fromarray(a.astype(np.uint8)).save(root / name / f"{i:02d}.png")
    (root / "bee" / "59.png").write_bytes((root / "bee" / "59.png").read_bytes()[:40])
    return f"folder:{root}"


def test_gan_splits_and_skips_as_its_keys_say(cli, tmp_path, one_split_folder, model_cache):
    tiny = ("n=20", "eval_every=10", "samples=30", "judge_epochs=1", "d_hidden=[16]", f"cache_dir={model_cache}")
    keys = (f"dataset={one_split_folder}", "digit=bee", "test_size=0.5", "skip_bad=true")
    code, _, err = cli("run", "--no-report", "gan", *keys, *tiny, "--out", "g")
    assert code == 0, err
    m = json.loads((tmp_path / "g" / "metrics.json").read_text())
    ds = load_dataset(one_split_folder, test_size=0.5, skip_bad=True, seed=0)
    assert m["test_images"] == int((ds.test.y == 1).sum()) and m["test_images"] > 20  # half of the 59 bees


def test_optimizers_network_comparison_skips_as_its_keys_say(cli, tmp_path, one_split_folder):
    keys = (f"dataset={one_split_folder}", "skip_bad=true", "updates=20", "epochs=1", "hidden=[16]")
    code, _, err = cli("run", "optimizers", *keys, "--out", "o")
    assert code == 0, err
