"""Models: MLPs (and, later, autoencoders and GAN parts); each model owns its loss."""
from mlplab.nn.mlp import ACTIVATIONS, MODEL_CLASSES, MLPClassifier, build_model, mlp_layers, register_model

__all__ = ["ACTIVATIONS", "MODEL_CLASSES", "MLPClassifier", "build_model", "mlp_layers", "register_model"]
