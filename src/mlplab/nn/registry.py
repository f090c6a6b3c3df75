"""The model-class registry: checkpoints store a `spec` (class name + constructor arguments) and
`build_model(spec)` rebuilds the model. `import mlplab.nn` registers every class."""

from __future__ import annotations

from typing import Any

from torch import nn

from mlplab.registry import Registry

MODEL_CLASSES: Registry[type[nn.Module]] = Registry("model class")


def register_model(name: str):
    """Decorator for model classes that set `self.spec = {"class": name, **constructor kwargs}`."""
    return MODEL_CLASSES.register(name)


def build_model(spec: dict[str, Any]) -> nn.Module:
    """Rebuild a model from the `spec` stored in its checkpoint."""
    kwargs = {k: v for k, v in spec.items() if k != "class"}
    return MODEL_CLASSES.get(str(spec.get("class", "")))(**kwargs)
