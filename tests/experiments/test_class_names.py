"""Classes by name: `digit=` of gan and one-vs-rest takes an index or a class name, and the pages of datasets
whose classes are no digits say "class" and show the class names (the digit datasets keep their words)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mlplab.data import load_dataset
from mlplab.errors import UserError
from mlplab.runs import Run

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
SHAPES = ["circle", "square", "triangle"]  # tests/conftest.py's shapes_folder


def fashion_named(tmp_path):
    """An npz source with Fashion-MNIST's class names (images of no importance here)."""
    rng = np.random.default_rng(0)
    y = np.arange(40) % 10
    x = rng.integers(0, 256, size=(40, 4, 4), dtype=np.uint8)
    np.savez(tmp_path / "f.npz", x_train=x, y_train=y, x_test=x, y_test=y, classes=FASHION)
    return load_dataset(f"npz:{tmp_path / 'f.npz'}", val_size=0)


def test_class_index_by_index_by_name_and_ignoring_case(tmp_path, shapes_folder):
    ds = load_dataset(shapes_folder, val_size=0)
    assert ds.classes == SHAPES
    assert [ds.class_index("digit", v) for v in (0, 2, "square", "Triangle", " CIRCLE ")] == [0, 2, 1, 2, 0]
    fashion = fashion_named(tmp_path)
    assert fashion.class_index("digit", "Trouser") == 1 == fashion.class_index("digit", 1)
    assert fashion.class_index("digit", "Ankle boot") == 9 and fashion.class_index("digit", "t-shirt/top") == 0


@pytest.mark.parametrize(
    "value, words",
    [
        ("Trousers", ["'digit'", "'Trousers' is not a class of", "0..9", "T-shirt/top, Trouser,", "Ankle boot"]),
        (10, ["'digit'", "10 is not a class of", "0..9", "Trouser"]),
    ],
)
def test_a_value_that_names_no_class_is_refused_naming_key_value_and_classes(tmp_path, value, words):
    with pytest.raises(UserError) as exc:
        fashion_named(tmp_path).class_index("digit", value)
    assert all(w in str(exc.value) for w in words), str(exc.value)


def test_an_ambiguous_case_insensitive_name_is_refused(tmp_path):
    np.savez(
        tmp_path / "a.npz",
        x_train=np.zeros((4, 2, 2), np.uint8),
        y_train=np.array([0, 1, 0, 1]),
        x_test=np.zeros((2, 2, 2), np.uint8),
        y_test=np.array([0, 1]),
        classes=["Cat", "cat"],
    )
    ds = load_dataset(f"npz:{tmp_path / 'a.npz'}", val_size=0)
    assert ds.class_index("digit", "cat") == 1 and ds.class_index("digit", "Cat") == 0  # exact names first
    with pytest.raises(UserError, match="'CAT' is not a class"):
        ds.class_index("digit", "CAT")
    with pytest.raises(UserError) as exc:  # a huge name is cut, so that the one line stays one short line
        ds.class_index("digit", "[" * 20000)
    assert len(str(exc.value)) < 300 and "[...]" in str(exc.value)


def test_one_vs_rest_by_class_name_on_a_folder(cli, tmp_path, shapes_folder):
    code, _, err = cli("run", "one-vs-rest", f"dataset={shapes_folder}", "digit=Square", "epochs=2", "--out", "o")
    assert code == 0, err
    run = Run.open(tmp_path / "o")
    assert run.config["digit"] == "Square"  # as given: the command reproduces the run
    assert run.metrics["digit"] == 1 and run.metrics["class_name"] == "square"  # what it resolved to
    assert int(run.load_arrays("predictions")["digit"]) == 1
    assert set(run.metrics["false_positives_by_class"]) == {"circle", "triangle"}
    page = (tmp_path / "o" / "report.html").read_text()
    assert "What square is confused with" in page
    # the same run by index: the same numbers
    code, _, err = cli("run", "one-vs-rest", f"dataset={shapes_folder}", "digit=1", "epochs=2", "--out", "i")
    assert code == 0, err
    timing = ("train_seconds",)
    by_index = {k: v for k, v in Run.open(tmp_path / "i").metrics.items() if k not in timing}
    assert by_index == {k: v for k, v in run.metrics.items() if k not in timing}


def test_gan_by_class_name_on_a_folder(cli, tmp_path, shapes_folder, model_cache):
    tiny = ("n=20", "eval_every=10", "samples=30", "judge_epochs=1", "d_hidden=[16]", f"cache_dir={model_cache}")
    code, _, err = cli("run", "--no-report", "gan", f"dataset={shapes_folder}", "digit=triangle", *tiny, "--out", "g")
    assert code == 0, err
    m = json.loads((tmp_path / "g" / "metrics.json").read_text())
    assert m["digit"] == 2 and m["class_name"] == "triangle" and m["test_images"] == 25
    assert 30 <= m["train_images"] <= 40  # the triangles of train/, less those the validation split took


@pytest.mark.parametrize("experiment", ["gan", "one-vs-rest"])
def test_digit_naming_no_class_is_one_line_bad_input(cli, tmp_path, shapes_folder, experiment):
    code, out, err = cli("run", experiment, f"dataset={shapes_folder}", "digit=hexagon", "--out", "bad")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "config key 'digit': 'hexagon' is not a class of" in err and "circle, square, triangle" in err
    assert not (tmp_path / "bad").exists()


def spy_titles(monkeypatch, module) -> list[str]:
    """The titles (figure and image titles) `module`'s image_grid is called with; the real grid is still drawn."""
    seen, real = [], module.image_grid

    def image_grid(images, path, *args, **kwargs):
        seen.extend([kwargs.get("title") or "", *(kwargs.get("titles") or [])])
        return real(images, path, *args, **kwargs)

    monkeypatch.setattr(module, "image_grid", image_grid)
    return seen


def test_ae_manifold_on_named_classes_says_class_and_the_digit_datasets_keep_their_words(
    cli, tmp_path, shapes_folder, monkeypatch
):
    from mlplab.report import findings_for
    from mlplab.report.autoencoders import manifold

    titles = spy_titles(monkeypatch, manifold)
    small = (
        "batch_size=8",
        "lr=0.01",
        "image_size=0",
        "epochs=5",
        "classifier_epochs=10",
        "images=12",
        "samples=2",
        "pairs=2",
        "scales=[0.5]",
        "encoder=[16]",
    )
    code, _, err = cli("run", "ae-manifold", f"dataset={shapes_folder}", *small, "--out", "m")
    assert code == 0, err
    run = Run.open(tmp_path / "m")
    starts = [t for t in titles if t.endswith(": start, then random steps")]
    assert starts and all(t.split(":")[0] in [f"class {c}" for c in SHAPES] for t in starts), starts
    found = findings_for(run)
    text = " ".join(f"{f.title} {f.text}" for f in found)
    assert "digit" not in text and "decode to the same class (" in text and "pairs of different classes" in text
    assert "'Same class' = the label of a stepped image is the start image's true class" in text
    # the same run folder said to be of the digit datasets: the words the tour's findings have always had
    for digits in ("digits", "mnist"):
        run.write_yaml("config.yaml", run.config | {"dataset": digits})
        said = " ".join(f.text for f in findings_for(Run.open(tmp_path / "m")))
        assert "decode to the same digit (" in said and "pairs of different digits, the inner points" in said
        assert (
            "'Same digit' = the label of a stepped image is the start image's true digit; 'confident digit' = the "
            "classifier's largest probability is at least 0.9, whatever the digit." in said
        )
        assert "same class" not in said and "confident class" not in said and "different classes" not in said


def test_dreams_show_class_names_where_they_showed_indices(cli, tmp_path, shapes_folder, model_cache, monkeypatch):
    from mlplab.report.dreams import dreams

    titles = spy_titles(monkeypatch, dreams)
    small = ("hidden=[32]", "epochs=3", "steps=40", f"cache_dir={model_cache}")
    code, _, err = cli("run", "dreams", f"dataset={shapes_folder}", "task=dreams", *small, "--out", "d")
    assert code == 0, err
    assert [t.split(":")[0] for t in titles if ": p=" in t] == SHAPES
    code, _, err = cli(
        "run", "dreams", f"dataset={shapes_folder}", "task=hybrids", "hybrid=0:0.5,2:0.5", *small, "--out", "h"
    )
    assert code == 0, err
    run = Run.open(tmp_path / "h")
    assert str(run.load_arrays("hybrids")["labels"][-1]) == "circle:0.5,triangle:0.5"  # the custom hybrid's title
    assert run.load_table("hybrids")[-1]["mixture"] == "circle:0.5,triangle:0.5"
    assert run.metrics["hybrid_custom"]["target"] == {"circle": 0.5, "triangle": 0.5}
    assert (tmp_path / "h" / "figures" / "hybrid_custom.png").is_file()
