"""MNIST, Fashion-MNIST, KMNIST and CIFAR-10 in torchvision's folder layout, checked and read by us.

Online, a missing dataset is downloaded into the data folder from torchvision's mirrors (archive MD5
checked). The files are then checked (size, header, MD5 where known, label range) and read here:
never through a torchvision dataset object, which would load an unchecked processed/*.pt cache or
unpickle a CIFAR batch with no restriction.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import socket
from pathlib import Path

import numpy as np
import torch

from mlplab.data.core import Dataset, Normalization, RawData, register_dataset
from mlplab.data.idx import IMAGES_MAGIC, LABELS_MAGIC, md5, read_idx
from mlplab.errors import UserError

# MD5 of the uncompressed files (torchvision only knows the MD5 of the .gz archives).
KNOWN_MD5 = {
    "MNIST": {
        "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
        "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "FashionMNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
    "KMNIST": {},
}
IDX_FILES = {  # name -> (magic, count, item shape)
    "train-images-idx3-ubyte": (IMAGES_MAGIC, 60000, (28, 28)),
    "train-labels-idx1-ubyte": (LABELS_MAGIC, 60000, ()),
    "t10k-images-idx3-ubyte": (IMAGES_MAGIC, 10000, (28, 28)),
    "t10k-labels-idx1-ubyte": (LABELS_MAGIC, 10000, ()),
}
DOWNLOAD_TIMEOUT_S = 30


def torchvision_dataset(name: str) -> type:
    """torchvision's dataset class NAME (its mirrors, archive MD5s and class names), imported when first needed:
    torchvision takes a second or more to import, and most runs (the embedded datasets, a user's own) never need it."""
    import torchvision.datasets

    return getattr(torchvision.datasets, name)


def _download(fetch, what: str, expected: str, folders: list[Path]) -> None:
    """Run a download; any network failure becomes one clear line, and the `folders` it made (if still
    empty) are removed again, deepest first, so a failed attempt leaves no debris in the data folder."""
    made = [f for f in folders if not f.exists()]
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        fetch()
    except Exception as exc:  # urllib, SSL, HTTP and checksum errors all mean: not available
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise UserError(
            f"{what} is not in the data folder and could not be downloaded ({reason}); "
            f"expected {expected}; copy the files there or set data_dir / $MLPLAB_DATA"
        ) from None
    finally:
        socket.setdefaulttimeout(old)


def _fetch_mnist_family(cls: type, folder: Path) -> None:
    """Download and unpack the .gz archives of an MNIST-format dataset into `folder` (torchvision's mirrors
    and archive MD5s), without constructing the torchvision dataset (which would read an unchecked cache)."""
    from torchvision.datasets.utils import download_and_extract_archive

    folder.mkdir(parents=True, exist_ok=True)
    for filename, digest in cls.resources:
        if (folder / filename.removesuffix(".gz")).is_file():
            continue
        errors = []
        for mirror in cls.mirrors:
            try:
                download_and_extract_archive(
                    f"{mirror}{filename}",
                    download_root=str(folder),
                    filename=filename,
                    md5=digest,
                    remove_finished=True,
                )
                break
            except Exception as exc:
                errors.append(exc)
        else:
            raise errors[-1]


def load_mnist_family(name: str, root: Path, download: bool) -> RawData:
    """Check, (download,) and read one of torchvision's MNIST-format datasets from its raw IDX files only."""
    folder = root / name / "raw"
    names = list(IDX_FILES)
    expected = f"{', '.join(names)} in {folder}"
    fix = (
        f"delete it and run again online to re-download, or copy a good file from another machine "
        f"(expected: {expected})"
    )
    missing = [n for n in names if not (folder / n).is_file()]
    if missing and download:
        _download(
            lambda: _fetch_mnist_family(torchvision_dataset(name), folder),
            f"dataset {name} ({', '.join(missing)})",
            expected,
            [root, folder.parent, folder],
        )
        missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise UserError(
            f"dataset {name} is missing {', '.join(missing)}; expected {expected} "
            f"(torchvision layout); run once online, or set data_dir / $MLPLAB_DATA to a folder "
            f"holding {name}/raw/"
        )
    known = KNOWN_MD5.get(name, {})
    classes = [str(c).split(" - ")[-1] for c in torchvision_dataset(name).classes]
    arrays = {
        name: read_idx(
            folder / name,
            magic=magic,
            count=count,
            item_shape=shape,
            expected_md5=known.get(name),
            fix=fix,
            num_classes=len(classes) if magic == LABELS_MAGIC else None,
        )
        for name, (magic, count, shape) in IDX_FILES.items()
    }

    def images(name: str) -> torch.Tensor:  # (N, 1, 28, 28) in [0, 1]
        return torch.from_numpy(arrays[name]).unsqueeze(1).float().div_(255)

    def labels(name: str) -> torch.Tensor:
        return torch.from_numpy(arrays[name].astype(np.int64))

    return RawData(
        x_train=images("train-images-idx3-ubyte"),
        y_train=labels("train-labels-idx1-ubyte"),
        x_test=images("t10k-images-idx3-ubyte"),
        y_test=labels("t10k-labels-idx1-ubyte"),
        classes=classes,
        default_val=5000,
    )


@register_dataset("mnist")
def load_mnist(root: Path, download: bool) -> RawData:
    return load_mnist_family("MNIST", root, download)


@register_dataset("fashion-mnist")
def load_fashion_mnist(root: Path, download: bool) -> RawData:
    return load_mnist_family("FashionMNIST", root, download)


@register_dataset("kmnist")
def load_kmnist(root: Path, download: bool) -> RawData:
    return load_mnist_family("KMNIST", root, download)


# ---- CIFAR-10 -------------------------------------------------------------------------------
CIFAR_FOLDER = "cifar-10-batches-py"
CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST = ["test_batch"]
CIFAR_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
# The MLP practical's per-channel statistics of the CIFAR-10 training pixels (R, G, B).
CIFAR_PRACTICAL_NORM = Normalization("standard", (0.491, 0.482, 0.447), (0.247, 0.243, 0.262))
MIRRORED_MEANING = ("digits", "mnist", "kmnist")  # a left-right flip turns these glyphs into other shapes


def with_practical_stats(ds: Dataset) -> Dataset:
    """CIFAR-10 under the practical's published per-channel mean and std when it was standardised; else ds."""
    if ds.name == "cifar10" and ds.normalization.kind == "standard":
        return ds.renormalized(CIFAR_PRACTICAL_NORM)
    return ds


def cifar_known_md5() -> dict[str, str]:
    """The MD5 of each real batch file, as torchvision publishes it."""
    ds = torchvision_dataset("CIFAR10")
    return dict(ds.train_list + ds.test_list)


class _BatchUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 batch holds: dicts, lists, bytes, numbers and plain numpy arrays.

    Any other global (os.system, builtins.eval, ...) is refused before it is looked up, so a hostile
    file cannot run code however it was made.
    """

    ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),  # how Python 2 pickles (the real batches) carry byte strings
        ("builtins", "bytes"),
        ("builtins", "bytearray"),
        ("builtins", "list"),
        ("builtins", "dict"),
        ("builtins", "tuple"),
        ("builtins", "int"),
        ("builtins", "float"),
        ("builtins", "str"),
        ("__builtin__", "bytes"),
        ("__builtin__", "list"),
        ("__builtin__", "dict"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"it refers to {module}.{name}, which a CIFAR-10 batch never holds")
        return super().find_class(module, name)


def read_cifar_batch(path: Path, fix: str, expected_md5: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: dict with `data` uint8 (N, 3072) and `labels` (N,) in 0..9.

    The MD5 (when known) is compared before a single byte is unpickled; the unpickler itself admits
    only the types a batch holds.
    """
    if not path.is_file():
        raise UserError(f"missing file {path}; {fix}")
    if expected_md5 is not None and md5(path) != expected_md5:
        raise UserError(f"{path} is corrupted or not the real CIFAR-10 file (MD5 does not match {expected_md5}); {fix}")
    try:
        entry = _BatchUnpickler(io.BytesIO(path.read_bytes()), encoding="latin1").load()
    except pickle.UnpicklingError as exc:
        raise UserError(f"{path} is not a CIFAR-10 batch and was refused unread ({exc}); {fix}") from None
    except Exception:
        raise UserError(f"{path} is truncated or not a CIFAR-10 batch (cannot unpickle it); {fix}") from None
    if not isinstance(entry, dict) or "data" not in entry or not ("labels" in entry or "fine_labels" in entry):
        raise UserError(f"{path} is not a CIFAR-10 batch (no 'data' and 'labels'); {fix}")
    data = np.asarray(entry["data"])
    labels = np.asarray(entry.get("labels", entry.get("fine_labels")))
    if (
        data.dtype != np.uint8
        or data.ndim != 2
        or data.shape[1] != 3072
        or labels.shape != (data.shape[0],)
        or not np.issubdtype(labels.dtype, np.integer)
    ):
        raise UserError(
            f"{path} holds data {data.dtype} {data.shape} and {labels.dtype} {labels.shape} labels; "
            f"expected uint8 (N, 3072) and N integer labels; {fix}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise UserError(f"{path} has labels outside 0..9; {fix}")
    return data, labels


def read_cifar10(folder: Path, *, known_md5: dict[str, str] | None) -> RawData:
    """Read CIFAR-10's python batches from `folder`.

    `known_md5` maps file name to MD5; the registered loader always passes torchvision's published
    sums, so real data is verified (before it is unpickled) on every load. Tests pass None to read
    small files they write in the same format (which by construction cannot match the real sums);
    the restricted unpickler guards those too.
    """
    fix = f"delete {folder} and run again online to re-download it, or copy good files there"
    parts = {
        name: read_cifar_batch(folder / name, fix, None if known_md5 is None else known_md5[name])
        for name in CIFAR_TRAIN + CIFAR_TEST
    }

    def stack(names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        x = np.concatenate([parts[n][0] for n in names]).reshape(-1, 3, 32, 32)
        y = np.concatenate([parts[n][1] for n in names])
        return torch.from_numpy(x).float().div_(255), torch.from_numpy(y.astype(np.int64))

    x_train, y_train = stack(CIFAR_TRAIN)
    x_test, y_test = stack(CIFAR_TEST)
    return RawData(x_train, y_train, x_test, y_test, list(CIFAR_CLASSES), default_val=min(5000, len(x_train) // 10))


def _fetch_cifar10(root: Path) -> None:
    """Download and unpack torchvision's CIFAR-10 archive (its MD5 checked) without reading the batches."""
    from torchvision.datasets.utils import download_and_extract_archive

    ds = torchvision_dataset("CIFAR10")
    download_and_extract_archive(
        ds.url, download_root=str(root), filename=ds.filename, md5=ds.tgz_md5, remove_finished=True
    )


@register_dataset("cifar10")
def load_cifar10(root: Path, download: bool) -> RawData:
    folder = root / CIFAR_FOLDER
    expected = f"{', '.join(CIFAR_TRAIN + CIFAR_TEST)} in {folder}"
    if not folder.is_dir() and download:
        _download(lambda: _fetch_cifar10(root), "dataset CIFAR-10", expected, [root])
    if not folder.is_dir():
        raise UserError(
            f"dataset CIFAR-10 is missing; expected {expected} (torchvision layout); run once "
            "online, or set data_dir / $MLPLAB_DATA to a folder holding cifar-10-batches-py/"
        )
    return read_cifar10(folder, known_md5=cifar_known_md5())
