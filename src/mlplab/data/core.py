"""Datasets as resident tensors: splits, class names, shape and the normalisation with its inverse."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import torch

from mlplab.errors import UserError, shown
from mlplab.registry import Registry

NormKind = Literal["standard", "minus_one_one", "unit"]
MAX_NAMES_SHOWN = 20  # class names an error lists (a folder may hold hundreds)


@dataclass(frozen=True)
class Normalization:
    """x_model = (x_pixels - mean) / std, per channel; pixels live in [0, 1]."""

    kind: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def _stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (-1,) + (1,) * (x.dim() - 2) if x.dim() > 2 else (-1,)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(shape)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(shape)
        return mean, std

    def apply(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels -> model input."""
        mean, std = self._stats(pixels)
        return (pixels - mean) / std

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """Model input -> pixels."""
        mean, std = self._stats(x)
        return x * std + mean

    @staticmethod
    def fit(kind: str, pixels: torch.Tensor) -> Normalization:
        """Statistics from the training pixels (N, C, H, W) or features (N, D)."""
        channels = pixels.shape[1]
        if kind == "unit":
            return Normalization(kind, (0.0,) * channels, (1.0,) * channels)
        if kind == "minus_one_one":  # [0, 1] -> [-1, 1]
            return Normalization(kind, (0.5,) * channels, (0.5,) * channels)
        if kind == "standard":
            dims = [0] + list(range(2, pixels.dim()))
            mean = pixels.double().mean(dim=dims)
            std = pixels.double().std(dim=dims).clamp_min(1e-8)
            return Normalization(kind, tuple(mean.tolist()), tuple(std.tolist()))
        raise UserError(f"unknown normalisation {kind!r}; choose standard, minus_one_one or unit")


@dataclass
class Split:
    x: torch.Tensor  # (N, C, H, W) images or (N, D) features, normalised
    y: torch.Tensor  # (N,) int64 labels

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.x.to(device), self.y.to(device))

    def subset(self, n: int) -> Split:
        return Split(self.x[:n], self.y[:n])


@dataclass
class Dataset:
    """Train / validation / test splits held in memory, normalised, on one device."""

    name: str
    train: Split
    val: Split
    test: Split
    classes: list[str]
    input_shape: tuple[int, ...]  # per example, e.g. (1, 28, 28) or (2,)
    normalization: Normalization
    fingerprint: str = ""  # a users' source: names its content (not its path); "" for a registered dataset

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def class_index(self, key: str, value: int | str) -> int:
        """The index of the class that config key `key` names: an integer is an index, text a class name
        (exact, else ignoring case when that is unambiguous). UserError naming the key, the value and the classes."""
        if isinstance(value, int):
            if 0 <= value < self.num_classes:
                return value
            wanted = f"{value} is not a class of {self.name!r}"
        else:
            if value in self.classes:
                return self.classes.index(value)
            folded = [i for i, c in enumerate(self.classes) if c.casefold() == value.strip().casefold()]
            if len(folded) == 1:
                return folded[0]
            wanted = f"{shown(value)} is not a class of {self.name!r}"
        names = ", ".join(shown(c, 40, quote=False) for c in self.classes[:MAX_NAMES_SHOWN]) + (
            ", ..." if self.num_classes > MAX_NAMES_SHOWN else ""
        )
        raise UserError(f"config key {key!r}: {wanted}; choose 0..{self.num_classes - 1} or a class name ({names})")

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    @property
    def num_features(self) -> int:
        n = 1
        for s in self.input_shape:
            n *= s
        return n

    def to_pixels(self, x: torch.Tensor) -> torch.Tensor:
        return self.normalization.invert(x)

    def from_pixels(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.normalization.apply(pixels)

    def to(self, device: torch.device | str) -> Dataset:
        return replace(self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device))

    def map_inputs(self, fn: Callable[[torch.Tensor], torch.Tensor], **changes) -> Dataset:
        """The dataset with `fn` applied to the inputs of every split (labels kept)."""
        return replace(
            self,
            train=Split(fn(self.train.x), self.train.y),
            val=Split(fn(self.val.x), self.val.y),
            test=Split(fn(self.test.x), self.test.y),
            **changes,
        )

    def renormalized(self, norm: Normalization) -> Dataset:
        """The same pixels under another normalisation (e.g. published per-channel statistics)."""
        return self.map_inputs(lambda x: norm.apply(self.to_pixels(x)), normalization=norm)


@dataclass
class RawData:
    """What a loader returns: pixels in [0, 1] (float32) and labels, before splitting."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    classes: list[str]
    default_val: int  # validation examples taken from the training set
    fingerprint: str = ""


Loader = Callable[[Path, bool], RawData]
DATASETS: Registry[Loader] = Registry("dataset")


def register_dataset(name: str):
    """Decorator: `@register_dataset("mnist") def load(root: Path, download: bool) -> RawData`."""
    return DATASETS.register(name)


def default_data_dir() -> Path:
    """$MLPLAB_DATA, else the per-user cache folder."""
    env = os.environ.get("MLPLAB_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mlplab" / "data"


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike | None = None,
    device: str | torch.device = "cpu",
    seed: int = 0,
    val_size: int | None = None,
    normalization: NormKind = "standard",
    image_size: int = 0,
    download: bool = True,
    test_size: float = 0.2,
    skip_bad: bool = False,
) -> Dataset:
    """Load a registered dataset, or a users' source `folder:PATH`, `csv:PATH`, `npz:PATH`, `hf:PATH`, as
    resident tensors.

    The validation split is drawn from the training set with `seed` (reproducible); normalisation
    statistics come from the remaining training examples only. `image_size` > 0 resizes images
    (bilinear) to that side, e.g. 28 for the 8x8 digits. A source without a test split of its own holds
    out `test_size` of its examples (drawn with `seed`); `skip_bad` skips images that cannot be decoded.
    """
    from mlplab.data.sources import is_source, load_source

    if is_source(name):
        raw = load_source(name, seed=seed, test_size=test_size, image_size=image_size, skip_bad=skip_bad)
    else:
        root = Path(data_dir).expanduser() if data_dir else default_data_dir()
        raw = DATASETS.get(name)(root, download)
    x_train, x_test = raw.x_train, raw.x_test
    if image_size:
        if x_train.dim() != 4:
            raise UserError(
                f"dataset {name!r} has no images, so image_size={image_size} cannot apply; leave image_size=0"
            )
        x_train, x_test = _resize(x_train, image_size), _resize(x_test, image_size)
    n_val = raw.default_val if val_size is None else val_size
    if not 0 <= n_val < len(x_train):
        raise UserError(f"val_size={n_val} must be in 0..{len(x_train) - 1} for dataset {name!r}")
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(x_train), generator=gen)
    val_idx, train_idx = perm[:n_val].sort().values, perm[n_val:].sort().values
    norm = Normalization.fit(normalization, x_train[train_idx])
    ds = Dataset(
        name=name,
        train=Split(norm.apply(x_train[train_idx]), raw.y_train[train_idx]),
        val=Split(norm.apply(x_train[val_idx]), raw.y_train[val_idx]),
        test=Split(norm.apply(x_test), raw.y_test),
        classes=list(raw.classes),
        input_shape=tuple(x_train.shape[1:]),
        normalization=norm,
        fingerprint=raw.fingerprint,
    )
    return ds.to(device)


def _resize(x: torch.Tensor, side: int) -> torch.Tensor:
    if side < 2:  # a 1x1 image is one number: no picture, and too few features for a 2-D projection
        raise UserError(f"image_size={side} leaves a single pixel; give 0 (native size) or a side of at least 2")
    if tuple(x.shape[-2:]) == (side, side):
        return x  # already that size (a folder source resizes each image as it decodes it)
    return torch.nn.functional.interpolate(x, size=(side, side), mode="bilinear", align_corners=False).clamp(0, 1)


def dataset_for(cfg, device: str | torch.device = "cpu", normalization: NormKind | None = None) -> Dataset:
    """The dataset a training config names (dataset, data_dir, seed, val_size, normalization, image_size,
    test_size, skip_bad)."""
    return load_dataset(
        cfg.dataset,
        data_dir=cfg.data_dir or None,
        device=device,
        seed=cfg.seed,
        val_size=None if cfg.val_size < 0 else cfg.val_size,
        normalization=normalization or cfg.normalization,
        image_size=cfg.image_size,
        test_size=getattr(cfg, "test_size", 0.2),
        skip_bad=getattr(cfg, "skip_bad", False),
    )


def one_per_class(y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """The index of the first example of each class that occurs, (<= num_classes,)."""
    return torch.tensor([int((y == c).nonzero()[0]) for c in range(num_classes) if bool((y == c).any())])
