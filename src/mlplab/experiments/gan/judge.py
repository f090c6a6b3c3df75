"""The GAN's judge: a classifier of the whole dataset, trained once and cached (never the discriminator).

The one place that knows where the cached judge comes from; after the redesign it points at the library.
"""
from __future__ import annotations

import torch

from mlplab.analysis.dreaming import freeze
from mlplab.data import Dataset
from mlplab.experiments import dream_models as dm
from mlplab.experiments.classify import ClassifyConfig


def judge_data_config(dataset: str, data_dir: str, seed: int, normalization: str, image_size: int) -> ClassifyConfig:
    """The data keys of the judge (and of the GAN's real images): same split, same normalisation."""
    return ClassifyConfig(dataset=dataset, data_dir=data_dir, seed=seed, normalization=normalization,
                          image_size=image_size)


def load_data(cc: ClassifyConfig, device: torch.device) -> Dataset:
    return dm.load_classifier_data(cc, device)


def trained_judge(cc: ClassifyConfig, ds: Dataset, epochs: int, device: torch.device, cache_dir: str) -> dm.Frozen:
    """The small CNN judge of the dreams, trained on the whole training split and cached; frozen."""
    frozen = dm.judge(cc, ds, epochs, device, cache_dir)
    freeze(frozen.model)
    return frozen
