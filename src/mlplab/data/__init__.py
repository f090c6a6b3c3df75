"""Datasets as tensors: registry, file checks, normalisation, batch iterator, augmentation."""

from mlplab.data import embedded, vision  # noqa: F401  (fill the registry)
from mlplab.data.batches import iterate_batches, num_batches
from mlplab.data.core import (
    DATASETS,
    Dataset,
    Normalization,
    RawData,
    Split,
    dataset_for,
    default_data_dir,
    load_dataset,
    one_per_class,
    register_dataset,
)

__all__ = [
    "DATASETS",
    "Dataset",
    "Normalization",
    "RawData",
    "Split",
    "dataset_for",
    "default_data_dir",
    "iterate_batches",
    "load_dataset",
    "num_batches",
    "one_per_class",
    "register_dataset",
]
