"""Users' own data: folder:, csv:, npz: and hf: sources decode to the pixels written, keep class names and
channels, draw the test split with the seed, hit the decoded cache, and run classify and explore end to end."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image

from mlplab.data import load_dataset
from mlplab.data.sources import decode, decode_source, load_source

CLASSES = ["cat", "dog", "fox"]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """The decoded cache of each test in its own data folder."""
    monkeypatch.setenv("MLPLAB_DATA", str(tmp_path / "mlplab-data"))


def pixels(n: int, side: int = 6, channels: int = 1, seed: int = 0) -> np.ndarray:
    """(n, side, side) or (n, side, side, channels) uint8 images whose mean tells the class apart."""
    rng = np.random.default_rng(seed)
    shape = (n, side, side) if channels == 1 else (n, side, side, channels)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def write_folder(root, per_class: int = 6, side: int = 6, channels: int = 1, fmt: str = "png", seed: int = 0):
    """root/CLASS/i.FMT; returns {relative path: array written}."""
    written = {}
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i, a in enumerate(pixels(per_class, side, channels, seed + c)):
            rel = f"{name}/{i:02d}.{fmt}"
            Image.fromarray(a).save(root / rel, **({"lossless": True} if fmt == "webp" else {}))
            written[rel] = a
    return written


def test_folder_of_every_lossless_format_decodes_to_the_pixels_written(tmp_path):
    root = tmp_path / "imgs"
    written = {}
    for fmt in ("png", "bmp", "tiff", "webp", "gif"):
        written |= write_folder(root, per_class=2, fmt=fmt, seed=len(written))
    d, _, hit = decode_source(f"folder:{root}")
    assert not hit and d.classes == CLASSES and d.x_test is None
    assert d.x_train.shape == (len(written), 1, 6, 6) and d.x_train.dtype == np.uint8
    for i, name in enumerate(d.names_train):
        np.testing.assert_array_equal(d.x_train[i, 0], written[name], err_msg=name)
        assert d.y_train[i] == CLASSES.index(name.split("/")[0])


def test_palette_gif_first_frame_and_16_bit_grey_and_rgba(tmp_path):
    root = tmp_path / "modes"
    for name in CLASSES[:2]:
        (root / name).mkdir(parents=True)
    grey = pixels(2)
    frames = [Image.fromarray(grey[0]).convert("P"), Image.fromarray(grey[1]).convert("P")]
    frames[0].save(root / "cat" / "anim.gif", save_all=True, append_images=frames[1:])
    deep = grey[1].astype(np.uint16) * 257  # 16-bit grey, the same picture
    Image.fromarray(deep).save(root / "dog" / "deep.png")
    d, _, _ = decode_source(f"folder:{root}")
    assert d.x_train.shape == (2, 1, 6, 6)  # a grey palette stays one channel
    np.testing.assert_array_equal(d.x_train[0, 0], grey[0])  # the first frame
    np.testing.assert_array_equal(d.x_train[1, 0], grey[1])
    rgba = np.dstack([pixels(1, channels=3)[0], np.full((6, 6), 9, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(root / "dog" / "alpha.png")
    d, _, _ = decode_source(f"folder:{root}")
    assert d.x_train.shape == (3, 3, 6, 6)  # one colour image makes the set RGB; alpha dropped
    np.testing.assert_array_equal(d.x_train[1].transpose(1, 2, 0), rgba[..., :3])
    np.testing.assert_array_equal(d.x_train[0], np.stack([grey[0]] * 3))  # grey fills every channel


def test_rgb_jpeg_folder_keeps_three_channels_as_pillow_decodes_them(tmp_path):
    root = tmp_path / "rgb"
    write_folder(root, side=8, channels=3, fmt="jpg")
    ds = load_dataset(f"folder:{root}", normalization="unit", val_size=0)
    assert ds.input_shape == (3, 8, 8) and ds.classes == CLASSES
    d, _, _ = decode_source(f"folder:{root}")
    for i, name in enumerate(d.names_train):  # JPEG is lossy: the reference is Pillow's own reading of the file
        np.testing.assert_array_equal(d.x_train[i].transpose(1, 2, 0), np.asarray(Image.open(root / name)))


def test_train_and_test_subfolders_and_the_drawn_split(tmp_path):
    split = tmp_path / "split"
    write_folder(split / "train", per_class=5)
    write_folder(split / "test", per_class=2, seed=50)
    raw = load_source(f"folder:{split}")
    assert (len(raw.y_train), len(raw.y_test)) == (15, 6) and raw.classes == CLASSES
    assert raw.x_train.shape == (15, 1, 6, 6) and 0 <= float(raw.x_train.min()) and float(raw.x_train.max()) <= 1
    one = tmp_path / "one"
    write_folder(one, per_class=10)
    a = load_source(f"folder:{one}", seed=0, test_size=0.2)
    b = load_source(f"folder:{one}", seed=0, test_size=0.2)
    c = load_source(f"folder:{one}", seed=1, test_size=0.2)
    assert (len(a.y_train), len(a.y_test)) == (24, 6)
    assert torch.equal(a.x_test, b.x_test) and not torch.equal(a.x_test, c.x_test)
    assert len(load_source(f"folder:{one}", test_size=7).y_test) == 7  # a count
    train, test = {bytes(x.numpy()) for x in a.x_train}, {bytes(x.numpy()) for x in a.x_test}
    assert not train & test and len(train | test) == 30  # a partition


def test_decoded_cache_hits_and_sees_changed_files(tmp_path):
    root = tmp_path / "imgs"
    write_folder(root)
    first, _, hit1 = decode_source(f"folder:{root}")
    again, _, hit2 = decode_source(f"folder:{root}")
    assert (hit1, hit2) == (False, True)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    assert first.names_train == again.names_train and again.classes == CLASSES
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(root / "cat" / "00.png")  # new content, new size and mtime
    changed, _, hit3 = decode_source(f"folder:{root}")
    assert not hit3 and (changed.x_train[0, 0] == 0).all()
    assert len(list((tmp_path / "mlplab-data" / "decoded").glob("folder-*.npz"))) == 1  # the old entry replaced
    cache = next((tmp_path / "mlplab-data" / "decoded").glob("folder-*.npz"))
    cache.write_bytes(cache.read_bytes()[:100])  # a torn entry is decoded again
    torn, _, hit4 = decode_source(f"folder:{root}")
    assert not hit4 and (torn.x_train[0, 0] == 0).all()


def test_parallel_decoding_gives_the_serial_result(tmp_path, monkeypatch):
    root = tmp_path / "imgs"
    write_folder(root, per_class=8, channels=3)
    files = sorted(str(p) for p in root.rglob("*.png")) + [str(root / "missing.png")]
    serial = decode.decode_all(files)
    monkeypatch.setattr(decode, "PARALLEL_FROM", 2)
    monkeypatch.setattr(decode, "CHUNK", 5)
    monkeypatch.setattr(decode, "workers", lambda: 2)
    parallel = decode.decode_all(files)
    assert isinstance(parallel[-1], str) and isinstance(serial[-1], str)
    for a, b in zip(serial[:-1], parallel[:-1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_mixed_sizes_resized_by_image_size_and_bad_files_skipped_on_request(tmp_path):
    root = tmp_path / "mixed"
    write_folder(root, side=6)
    Image.fromarray(pixels(1, side=9)[0]).save(root / "dog" / "big.png")
    (root / "fox" / "torn.png").write_bytes((root / "fox" / "00.png").read_bytes()[:40])
    (root / "fox" / "readme.txt").write_text("not an image")
    d, _, _ = decode_source(f"folder:{root}", image_size=5, skip_bad=True)
    assert d.x_train.shape == (19, 1, 5, 5)
    assert any("1 image that could not be decoded was skipped: fox/torn.png" in n for n in d.notes), d.notes
    assert any("1 file that is not an image was ignored: fox/readme.txt" in n for n in d.notes), d.notes
    small = np.asarray(Image.fromarray(pixels(1, side=9)[0]).resize((5, 5), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(d.x_train[d.names_train.index("dog/big.png"), 0], small)


def write_csv(path, x, y, header=True, label_first=True):
    rows = (
        np.concatenate([y[:, None], x.reshape(len(x), -1)], 1)
        if label_first
        else np.concatenate([x.reshape(len(x), -1), y[:, None]], 1)
    )
    names = [f"pixel{i}" for i in range(x[0].size)]
    names = ["label", *names] if label_first else [*names, "label"]
    with open(path, "w") as fh:
        if header:
            fh.write(",".join(names) + "\n")
        np.savetxt(fh, rows, fmt="%d", delimiter=",")


def test_csv_file_and_folder_give_the_pixels_and_labels_written(tmp_path):
    x, y = pixels(30, side=5), np.arange(30) % 3
    write_csv(tmp_path / "one.csv", x, y, header=True, label_first=False)
    d, _, _ = decode_source(f"csv:{tmp_path / 'one.csv'}")
    assert d.x_train.shape == (30, 1, 5, 5) and d.classes == ["0", "1", "2"] and d.x_test is None
    np.testing.assert_array_equal(d.x_train[:, 0], x)
    np.testing.assert_array_equal(d.y_train, y)
    kaggle = tmp_path / "kaggle"
    kaggle.mkdir()
    write_csv(kaggle / "fashion-mnist_train.csv", x, y, header=False)
    write_csv(kaggle / "fashion-mnist_test.csv", x[:9], y[:9], header=False)
    raw = load_source(f"csv:{kaggle}")
    assert (len(raw.y_train), len(raw.y_test)) == (30, 9)
    assert torch.equal(raw.x_test[:, 0], torch.from_numpy(x[:9]).float() / 255)
    rgb = pixels(6, side=4, channels=3).transpose(0, 3, 1, 2)  # 48 columns: three 4x4 planes
    write_csv(tmp_path / "rgb.csv", rgb, np.arange(6) % 2)
    assert decode_source(f"csv:{tmp_path / 'rgb.csv'}")[0].x_train.shape == (6, 3, 4, 4)
    write_csv(tmp_path / "features.csv", pixels(6, side=1, channels=7).reshape(6, 7), np.arange(6) % 2)
    assert decode_source(f"csv:{tmp_path / 'features.csv'}")[0].x_train.shape == (6, 7)


def test_csv_of_fractions_is_read_as_values_in_0_1(tmp_path):
    (tmp_path / "f.csv").write_text("label,a,b,c,d\n0,0.5,0.25,0,1\n1,1,0,0.75,0.125\n")
    d, _, _ = decode_source(f"csv:{tmp_path / 'f.csv'}")
    assert d.x_train.dtype == np.float32 and d.x_train.shape == (2, 1, 2, 2)
    np.testing.assert_array_equal(d.x_train[0].ravel(), [0.5, 0.25, 0, 1])


@pytest.mark.parametrize("layout", ["nhw", "nhwc", "nchw", "nd"])
def test_npz_shapes_and_dtypes(tmp_path, layout):
    x = pixels(12, side=4, channels=3)  # (N, H, W, C)
    arrays = {
        "nhw": x[..., 0],
        "nhwc": x.astype(np.float32) / 255,
        "nchw": x.transpose(0, 3, 1, 2),
        "nd": x.reshape(12, -1).astype(np.float64) / 255,
    }[layout]
    y = np.arange(12) % 3
    np.savez(tmp_path / "a.npz", x_train=arrays[:8], y_train=y[:8], x_test=arrays[8:], y_test=y[8:], classes=CLASSES)
    raw = load_source(f"npz:{tmp_path / 'a.npz'}")
    want = {"nhw": (8, 1, 4, 4), "nhwc": (8, 3, 4, 4), "nchw": (8, 3, 4, 4), "nd": (8, 48)}[layout]
    assert tuple(raw.x_train.shape) == want and raw.classes == CLASSES
    expect = torch.from_numpy(x[:8].transpose(0, 3, 1, 2).copy()).float() / 255
    got = raw.x_train if layout != "nd" else raw.x_train.view(8, 4, 4, 3).permute(0, 3, 1, 2)
    got = got if layout != "nhw" else got.expand(8, 3, 4, 4)
    expect = expect if layout != "nhw" else expect[:, :1].expand(8, 3, 4, 4)
    assert torch.allclose(got, expect, atol=1e-6)


def hf_dataset(n: int = 12):
    datasets = pytest.importorskip("datasets")
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=CLASSES)})
    x = pixels(n, side=5)
    return x, datasets.Dataset.from_dict(
        {"image": [Image.fromarray(a) for a in x], "label": [i % 3 for i in range(n)]}, features=features
    )


def test_hf_save_to_disk_and_parquet(tmp_path):
    datasets = pytest.importorskip("datasets")
    x, ds = hf_dataset()
    datasets.DatasetDict({"train": ds.select(range(9)), "test": ds.select(range(9, 12))}).save_to_disk(
        str(tmp_path / "disk")
    )
    raw = load_source(f"hf:{tmp_path / 'disk'}")
    assert raw.classes == CLASSES and (len(raw.y_train), len(raw.y_test)) == (9, 3)
    assert torch.equal(raw.x_test[:, 0], torch.from_numpy(x[9:]).float() / 255)
    (tmp_path / "hub" / "data").mkdir(parents=True)
    ds.to_parquet(str(tmp_path / "hub" / "data" / "train-00000-of-00001.parquet"))
    ds.select(range(3)).to_parquet(str(tmp_path / "hub" / "data" / "validation-00000-of-00001.parquet"))
    d, _, _ = decode_source(f"hf:{tmp_path / 'hub'}")
    assert d.classes == CLASSES and d.x_test is None and len(d.y_train) == 12
    np.testing.assert_array_equal(d.x_train[:, 0], x)
    assert any("'validation' (3 rows) was ignored" in n for n in d.notes)
    ds.to_parquet(str(tmp_path / "pets.parquet"))  # one file named after no split: the training split
    lone, _, _ = decode_source(f"hf:{tmp_path / 'pets.parquet'}")
    assert lone.x_test is None and len(lone.y_train) == 12 and lone.classes == CLASSES


def make_sources(tmp_path) -> dict[str, str]:
    """One small source of each kind, with a test split, on which an MLP can learn something."""
    rng = np.random.default_rng(1)
    y = np.arange(60) % 3
    x = (rng.integers(0, 80, size=(60, 6, 6)) + y[:, None, None] * 80).astype(np.uint8)
    root = tmp_path / "srcs"
    for split, part in (("train", slice(0, 45)), ("test", slice(45, 60))):
        for i, (a, label) in enumerate(zip(x[part], y[part], strict=True)):
            (root / "folder" / split / CLASSES[label]).mkdir(parents=True, exist_ok=True)
            Image.fromarray(a).save(root / "folder" / split / CLASSES[label] / f"{i}.png")
    (root / "csv").mkdir()
    write_csv(root / "csv" / "train.csv", x[:45], y[:45])
    write_csv(root / "csv" / "test.csv", x[45:], y[45:])
    np.savez(root / "a.npz", x_train=x[:45], y_train=y[:45], x_test=x[45:], y_test=y[45:], classes=CLASSES)
    out = {"folder": f"folder:{root / 'folder'}", "csv": f"csv:{root / 'csv'}", "npz": f"npz:{root / 'a.npz'}"}
    try:
        import datasets
    except ImportError:
        return out
    features = datasets.Features({"image": datasets.Image(), "label": datasets.ClassLabel(names=CLASSES)})
    parts = {
        s: datasets.Dataset.from_dict(
            {"image": [Image.fromarray(a) for a in x[p]], "label": y[p].tolist()}, features=features
        )
        for s, p in (("train", slice(0, 45)), ("test", slice(45, 60)))
    }
    datasets.DatasetDict(parts).save_to_disk(str(root / "hf"))
    return out | {"hf": f"hf:{root / 'hf'}"}


@pytest.mark.parametrize("kind", ["folder", "csv", "npz", "hf"])
def test_classify_and_explore_run_on_every_source(tmp_path, cli, kind):
    sources = make_sources(tmp_path)
    if kind not in sources:
        pytest.skip("hf: sources need the datasets package (pip install 'mlplab[data]')")
    source = sources[kind]
    code, out, err = cli("run", "classify", f"dataset={source}", "epochs=8", "lr=0.03", "hidden=[8]", "--out", "c")
    assert code == 0, err
    metrics = json.loads((tmp_path / "c" / "metrics.json").read_text())
    assert list(metrics["precision_per_class"]) == (["0", "1", "2"] if kind == "csv" else CLASSES)
    assert metrics["dataset"] == source and metrics["test_accuracy"] > 0.5  # three classes told apart by brightness
    assert (tmp_path / "c" / "report.html").is_file()
    code, out, err = cli("run", "explore", f"dataset={source}", "per_class=2", "--out", "e")
    assert code == 0, err
    assert (tmp_path / "e" / "report.html").is_file()


def test_api_run_and_a_resume_rebuild_the_same_source(tmp_path):
    import mlplab

    source = make_sources(tmp_path)["folder"]
    run = mlplab.run(
        "classify", dataset=source, epochs=1, hidden=[8], out=str(tmp_path / "api"), progress=False, report=False
    )
    assert run.config["dataset"] == source and run.config["test_size"] == 0.2
    again = mlplab.run("classify", resume=str(run.path), epochs=2, progress=False, report=False)
    assert len(again.history) == 2


def test_inspect_prints_classes_counts_shape_range_duplicates_and_skipped(tmp_path, cli):
    root = tmp_path / "split"
    write_folder(root / "train", per_class=4)
    write_folder(root / "test", per_class=1, seed=80)
    (root / "test" / "dog" / "copy.png").write_bytes((root / "train" / "dog" / "02.png").read_bytes())
    (root / "train" / "notes.md").write_text("x")
    code, out, err = cli("data", "inspect", f"folder:{root}")
    assert code == 0, err
    assert "train 12, test 4 (test split: the source's own)" in out
    assert re.search(r"\n +dog +4 +2\n", out), out
    assert "1 x 6 x 6 (grey)" in out and "uint8 " in out
    assert "1 test examples are identical to a training example (by hash): test test/dog/copy.png = train " in out
    assert "train/dog/02.png" in out
    assert "1 file that is not an image was ignored: train/notes.md" in out
    assert "decoded     now" in out
    assert "decoded     from the decoded cache" in cli("data", "inspect", f"folder:{root}")[1]
    code, out, err = cli("data", "inspect", "digits", "seed=3")
    assert code == 0 and "train 1,437, test 360" in out and "classes     10" in out


def test_list_shows_the_sources(cli):
    code, out, _ = cli("list")
    assert code == 0
    for kind in ("folder:PATH", "csv:PATH", "npz:PATH", "hf:PATH"):
        assert kind in out


def test_non_image_files_are_ignored_and_counted_in_a_run(tmp_path, cli):
    source = make_sources(tmp_path)["folder"]
    folder = source.split(":", 1)[1]
    (tmp_path / "srcs" / "folder" / "train" / "cat" / "Thumbs.db").write_bytes(b"\0")
    (tmp_path / "srcs" / "folder" / "train" / "LICENSE").write_text("CC-BY")
    assert os.path.isdir(folder)
    code, _, err = cli("run", "--no-report", "classify", f"dataset={source}", "epochs=1", "hidden=[8]", "--out", "r")
    assert code == 0, err
    assert "2 files that are not images were ignored: train/LICENSE, train/cat/Thumbs.db" in err


@pytest.mark.slow  # three dreams runs with their reports: about a minute
def test_dreams_caches_its_classifier_by_the_data_content_not_the_path(tmp_path, cli):
    source = make_sources(tmp_path)["folder"]
    folder = source.split(":", 1)[1]
    keys = ("task=dreams", "hidden=[16]", "epochs=1", "steps=5", "frame_every=5", f"cache_dir={tmp_path / 'models'}")

    def dream(name: str, where: str) -> str:
        code, _, err = cli("run", "dreams", f"dataset=folder:{where}", *keys, "--out", name)
        assert code == 0, err
        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        return metrics["model_source"]

    assert dream("d1", folder) == "trained"
    os.rename(folder, tmp_path / "moved")  # same files, same times, another path
    assert dream("d2", str(tmp_path / "moved")) == "cached"
    Image.fromarray(np.zeros((6, 6), np.uint8)).save(tmp_path / "moved" / "train" / "cat" / "0.png")
    assert dream("d3", str(tmp_path / "moved")) == "trained"  # changed content: not the old model


def test_test_size_that_leaves_no_training_examples_is_refused(tmp_path):
    from mlplab.errors import UserError

    write_folder(tmp_path / "one", per_class=2)
    with pytest.raises(UserError, match="test_size=6 of 6 examples leaves no training examples"):
        load_source(f"folder:{tmp_path / 'one'}", test_size=6)
    with pytest.raises(UserError, match="test_size=2.5: give a fraction below 1 or a whole number"):
        load_source(f"folder:{tmp_path / 'one'}", test_size=2.5)
