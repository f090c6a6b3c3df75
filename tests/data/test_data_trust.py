"""Untrusted data files never run code, and only files mlplab checked are ever read (issue 11, items 1, 2, 9, 14)."""

import os
import pickle
import shutil
import struct

import numpy as np
import pytest
import torch

from mlplab.data import load_dataset, vision
from mlplab.data.vision import CIFAR_TEST, CIFAR_TRAIN, read_cifar10
from mlplab.errors import UserError


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _write_hostile_cifar(folder):
    folder.mkdir(parents=True)
    for name in CIFAR_TRAIN + CIFAR_TEST:
        with open(folder / name, "wb") as fh:
            pickle.dump({"data": _Exploit(), "labels": [0]}, fh, protocol=2)


@pytest.mark.parametrize("md5_check", [True, False])
def test_hostile_cifar_batch_never_runs_code(cli, tmp_path, monkeypatch, md5_check):
    _write_hostile_cifar(tmp_path / "data" / "cifar-10-batches-py")
    if not md5_check:
        monkeypatch.setattr(vision, "cifar_known_md5", lambda: None)
    code, out, err = cli("run", "classify", "dataset=cifar10", f"data_dir={tmp_path / 'data'}", "epochs=1")
    assert not (tmp_path / "PWNED").exists()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "data_batch_1" in err
    assert ("MD5 does not match" if md5_check else "system, which a CIFAR-10 batch never holds") in err
    assert not (tmp_path / "runs").exists()


def test_restricted_unpickler_still_reads_python2_style_batches(tmp_path):
    """Protocol 2 with latin1 byte strings, as the real batches were written, loads and matches."""
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    written = {}
    for name in CIFAR_TRAIN + CIFAR_TEST:
        data = rng.integers(0, 256, size=(3, 3072), dtype=np.uint8)
        labels = rng.integers(0, 10, size=3).tolist()
        entry = {"batch_label": b"training batch", "data": data, "labels": labels, "filenames": [b"a.png"] * 3}
        (folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        written[name] = (data, labels)
    raw = read_cifar10(folder, known_md5=None)
    np.testing.assert_array_equal(
        raw.x_test.mul(255).round().to(torch.uint8).reshape(3, -1).numpy(), written["test_batch"][0]
    )
    assert raw.y_train.tolist() == sum((written[n][1] for n in CIFAR_TRAIN), [])


def test_cifar_md5_is_checked_before_unpickling(tmp_path, monkeypatch):
    _write_hostile_cifar(tmp_path / "cifar-10-batches-py")
    calls = []
    monkeypatch.setattr(vision._BatchUnpickler, "load", lambda self: calls.append(1))
    with pytest.raises(UserError, match="MD5 does not match"):
        load_dataset("cifar10", data_dir=tmp_path, download=False)
    assert calls == []


def test_mnist_reads_the_checked_raw_files_never_processed_pt(tmp_path, mnist_dir):
    shutil.copytree(mnist_dir / "MNIST" / "raw", tmp_path / "MNIST" / "raw")
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir()
    for name in ("training.pt", "test.pt"):
        torch.save(
            (
                torch.zeros(60000 if name == "training.pt" else 10000, 28, 28, dtype=torch.uint8),
                torch.zeros(60000 if name == "training.pt" else 10000, dtype=torch.int64),
            ),
            processed / name,
        )
    ds = load_dataset("mnist", data_dir=tmp_path, val_size=0, normalization="unit", download=False)
    raw = (tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte").read_bytes()[16 : 16 + 784]
    np.testing.assert_allclose(ds.test.x[0, 0].numpy().ravel() * 255, np.frombuffer(raw, np.uint8), atol=1e-3)
    labels = (tmp_path / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").read_bytes()[8:]
    assert ds.test.y.tolist() == list(labels)
    assert len(set(ds.train.y.tolist())) == 10


def _write_idx(path, array, magic):
    with open(path, "wb") as fh:
        fh.write(struct.pack(f">{1 + array.ndim}i", magic, *array.shape))
        fh.write(array.astype(np.uint8).tobytes())


def _write_small_kmnist(root, labels_hi=10):
    raw = root / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part, n in (("train", 60000), ("t10k", 10000)):
        _write_idx(raw / f"{part}-images-idx3-ubyte", np.zeros((n, 28, 28), np.uint8), 2051)
        _write_idx(raw / f"{part}-labels-idx1-ubyte", rng.integers(0, labels_hi, size=n), 2049)
    return raw


def test_processed_cache_beside_written_idx_files_is_ignored(tmp_path):
    raw = _write_small_kmnist(tmp_path)
    (raw.parent / "processed").mkdir()
    for name in ("training.pt", "test.pt"):
        (raw.parent / "processed" / name).write_bytes(b"\0" * 4096)
    ds = load_dataset("kmnist", data_dir=tmp_path, val_size=0, normalization="unit", download=False)
    assert ds.test.y.tolist() == list((raw / "t10k-labels-idx1-ubyte").read_bytes()[8:])


def test_kmnist_labels_outside_the_classes_name_the_file(cli, tmp_path):
    _write_small_kmnist(tmp_path / "data", labels_hi=256)
    code, _, err = cli("run", "classify", "dataset=kmnist", f"data_dir={tmp_path / 'data'}", "epochs=1")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "train-labels-idx1-ubyte" in err and "outside 0..9" in err
    assert not (tmp_path / "runs").exists()


def test_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tvu

    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(tvu, "download_and_extract_archive", offline)
    root = tmp_path / "data"
    with pytest.raises(UserError, match="could not be downloaded"):
        load_dataset("fashion-mnist", data_dir=root, download=True)
    with pytest.raises(UserError, match="could not be downloaded"):
        load_dataset("cifar10", data_dir=root, download=True)
    assert not root.exists()
    root.mkdir()  # a data folder the user made stays, only what the attempt made goes
    with pytest.raises(UserError):
        load_dataset("mnist", data_dir=root, download=True)
    assert root.is_dir() and list(root.iterdir()) == []
