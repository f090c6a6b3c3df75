"""mlplab: reproducible experiments with multilayer perceptrons on small image datasets."""

__version__ = "0.1.0"
