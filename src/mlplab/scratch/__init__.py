"""The from-scratch engine: NumPy layers, losses, an MLP and SGD whose derivatives are written by hand."""

from mlplab.scratch.layers import ACTIVATIONS, Layer, LeakyReLU, Linear, ReLU, Sigmoid, Softmax, Tanh
from mlplab.scratch.losses import MSE, CrossEntropy, SoftmaxCrossEntropy
from mlplab.scratch.mlp import MLP, Diverged, LayerNorms
from mlplab.scratch.optim import SGD

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "MSE",
    "SGD",
    "CrossEntropy",
    "Diverged",
    "Layer",
    "LayerNorms",
    "LeakyReLU",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
]
