"""Datasets: splits, normalisation, file checks, and the KMNIST / CIFAR-10 readers on files in the real format."""

import pickle
import shutil
import struct

import numpy as np
import pytest
import torch

from mlplab.data import augment as aug
from mlplab.data import iterate_batches, load_dataset
from mlplab.data.vision import CIFAR_TEST, CIFAR_TRAIN, read_cifar10
from mlplab.errors import UserError


def test_digits_splits_are_disjoint_seeded_and_invertible():
    a = load_dataset("digits", seed=1)
    b = load_dataset("digits", seed=1)
    c = load_dataset("digits", seed=2)
    assert a.input_shape == (1, 8, 8) and a.num_classes == 10
    assert len(a.train) + len(a.val) + len(a.test) == 1797
    assert torch.equal(a.val.x, b.val.x) and not torch.equal(a.val.x, c.val.x)
    assert torch.equal(a.test.y, c.test.y)  # the test set never depends on the seed
    pixels = a.to_pixels(a.train.x)
    assert pixels.min() >= -1e-6 and pixels.max() <= 1 + 1e-6
    torch.testing.assert_close(a.from_pixels(pixels), a.train.x)
    mean = a.train.x.mean().item()
    assert abs(mean) < 1e-4 and abs(a.train.x.std().item() - 1) < 1e-2


def test_digits_read_from_the_file_are_scikit_learns_digits(monkeypatch):
    from sklearn.datasets import load_digits

    from mlplab.data import embedded

    reference = load_digits()
    images, target = embedded.digits_arrays()
    np.testing.assert_array_equal(images, reference.images)
    np.testing.assert_array_equal(target, reference.target)
    # without the file where it is looked for, scikit-learn's own loader gives the same arrays
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    images2, target2 = embedded.digits_arrays()
    np.testing.assert_array_equal(images2, reference.images)
    np.testing.assert_array_equal(target2, reference.target)


def test_digits_upsampled_to_28():
    ds = load_dataset("digits", image_size=28, normalization="unit")
    assert ds.input_shape == (1, 28, 28) and ds.num_features == 784
    assert ds.train.x.min() >= 0 and ds.train.x.max() <= 1


def test_minus_one_one_bounds():
    ds = load_dataset("digits", normalization="minus_one_one")
    assert ds.train.x.min().item() == pytest.approx(-1) and ds.train.x.max().item() == pytest.approx(1)


def test_moons_sizes_states_and_train_only_scaling():
    ds = load_dataset("moons", normalization="minus_one_one")
    assert (len(ds.train), len(ds.val), len(ds.test)) == (8000, 0, 2000)
    assert ds.input_shape == (2,)
    lo, hi = ds.train.x.min(0).values, ds.train.x.max(0).values
    torch.testing.assert_close(lo, torch.tensor([-1.0, -1.0]))
    torch.testing.assert_close(hi, torch.tensor([1.0, 1.0]))
    assert not torch.equal(ds.train.x[:2000], ds.test.x)  # a different random state for the test points


def test_real_mnist_facts(mnist_dir):
    ds = load_dataset("mnist", data_dir=mnist_dir, val_size=0, normalization="unit", download=False)
    assert ds.train.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert ds.train.x.mean().item() * 255 == pytest.approx(33.318421, abs=1e-3)
    assert (len(ds.train), len(ds.test)) == (60000, 10000)


def _copy_mnist(src, dst):
    shutil.copytree(src / "MNIST", dst / "MNIST")
    return dst / "MNIST" / "raw"


def test_truncated_file_is_caught(mnist_dir, tmp_path):
    raw = _copy_mnist(mnist_dir, tmp_path)
    f = raw / "train-images-idx3-ubyte"
    with open(f, "r+b") as fh:
        fh.truncate(f.stat().st_size - 1000)
    with pytest.raises(UserError, match="truncated") as err:
        load_dataset("mnist", data_dir=tmp_path, download=False)
    assert "train-images-idx3-ubyte" in str(err.value) and "\n" not in str(err.value)


def test_corrupted_file_is_caught(mnist_dir, tmp_path):
    raw = _copy_mnist(mnist_dir, tmp_path)
    f = raw / "t10k-labels-idx1-ubyte"
    data = bytearray(f.read_bytes())
    data[100] ^= 0xFF  # one flipped byte: size and header still look right
    f.write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupted"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def test_missing_dataset_offline_says_what_and_where(tmp_path):
    with pytest.raises(UserError) as err:
        load_dataset("fashion-mnist", data_dir=tmp_path, download=False)
    message = str(err.value)
    assert "train-images-idx3-ubyte" in message and str(tmp_path / "FashionMNIST" / "raw") in message


def _write_idx(path, array, magic):
    with open(path, "wb") as fh:
        fh.write(struct.pack(f">{2 + array.ndim - 1}i", magic, *array.shape))
        fh.write(array.astype(np.uint8).tobytes())


def test_kmnist_loader_on_files_in_the_real_format(tmp_path):
    rng = np.random.default_rng(0)
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    written = {}
    for part, n in (("train", 60000), ("t10k", 10000)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        _write_idx(raw / f"{part}-images-idx3-ubyte", images, 2051)
        _write_idx(raw / f"{part}-labels-idx1-ubyte", labels, 2049)
        written[part] = (images, labels)
    ds = load_dataset("kmnist", data_dir=tmp_path, val_size=0, normalization="unit", download=False)
    assert ds.classes[:3] == ["o", "ki", "su"] and ds.num_classes == 10
    images, labels = written["t10k"]
    np.testing.assert_array_equal(ds.test.y.numpy(), labels)
    np.testing.assert_allclose(ds.test.x[:5, 0].numpy() * 255, images[:5], atol=1e-3)
    # our check still guards KMNIST: a wrong count is refused
    _write_idx(raw / "t10k-labels-idx1-ubyte", labels[:9999], 2049)
    with pytest.raises(UserError, match="9999"):
        load_dataset("kmnist", data_dir=tmp_path, download=False)


def _write_cifar(folder, n_per_batch, rng):
    folder.mkdir(parents=True)
    batches = {}
    for name in CIFAR_TRAIN + CIFAR_TEST:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n_per_batch).tolist()
        with open(folder / name, "wb") as fh:
            pickle.dump({"batch_label": name, "data": data, "labels": labels}, fh)
        batches[name] = (data, labels)
    return batches


def test_cifar10_reader_on_files_in_the_real_format(tmp_path):
    batches = _write_cifar(tmp_path / "cifar-10-batches-py", 20, np.random.default_rng(1))
    raw = read_cifar10(tmp_path / "cifar-10-batches-py", known_md5=None)
    assert raw.x_train.shape == (100, 3, 32, 32) and raw.x_test.shape == (20, 3, 32, 32)
    data, labels = batches["test_batch"]
    # CIFAR rows are channel-major: 1024 red, then 1024 green, then 1024 blue values
    np.testing.assert_allclose(raw.x_test[3, 1].numpy().ravel() * 255, data[3, 1024:2048], atol=1e-3)
    assert raw.y_test.tolist() == labels
    assert (
        raw.x_train[20:40].mul(255).round().to(torch.uint8).reshape(20, -1).numpy().tolist()
        == batches["data_batch_2"][0].tolist()
    )


def test_cifar10_registered_loader_verifies_checksums(tmp_path):
    _write_cifar(tmp_path / "cifar-10-batches-py", 4, np.random.default_rng(2))
    with pytest.raises(UserError, match="MD5 does not match"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)


def test_cifar10_truncated_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar(folder, 4, np.random.default_rng(3))
    blob = (folder / "data_batch_3").read_bytes()
    (folder / "data_batch_3").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(UserError, match="data_batch_3"):
        read_cifar10(folder, known_md5=None)


def test_batches_cover_each_example_once_and_are_seeded():
    x = torch.arange(10).float().view(10, 1)
    y = torch.arange(10)
    got = [b for _, b in iterate_batches(x, y, 3, generator=torch.Generator().manual_seed(0))]
    again = [b for _, b in iterate_batches(x, y, 3, generator=torch.Generator().manual_seed(0))]
    assert [len(b) for b in got] == [3, 3, 3, 1]
    assert sorted(torch.cat(got).tolist()) == list(range(10))
    assert all(torch.equal(a, b) for a, b in zip(got, again, strict=True))


def test_augmentations_keep_shape_and_move_content():
    gen = torch.Generator().manual_seed(0)
    x = torch.zeros(64, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    cropped = aug.random_crop(2)(x, gen)
    assert cropped.shape == x.shape
    assert torch.all(cropped.sum((1, 2, 3)) == 1)  # the dot moved at most 2 pixels, never off the image
    assert len({tuple(c.nonzero()[0].tolist()) for c in cropped}) > 1
    flipped = aug.hflip(p=1.0)(x, gen)
    assert torch.equal(flipped, x.flip(-1))
    same = aug.small_affine(degrees=0, translate=0, scale=(1, 1))(x, gen)
    torch.testing.assert_close(same, x, atol=1e-5, rtol=0)
