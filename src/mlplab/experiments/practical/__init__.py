"""The MLP practical: hand-written optimizers on loss surfaces, the train/validate/test protocol, an
improvement study over seeds, and pixel shuffling."""

from mlplab.experiments.practical import improve, optimizers, pixel_shuffle, protocol  # noqa: F401  (register)
