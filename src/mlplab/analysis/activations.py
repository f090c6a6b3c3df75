"""Forward hooks that record what named layers output; the handles are always removed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from mlplab.errors import UserError


def layer_names(model: nn.Module) -> list[str]:
    """Hookable names: the model's hidden layers when it names them, else every leaf module."""
    if hasattr(model, "hidden_layer_names"):
        return list(model.hidden_layer_names())
    return [name for name, m in model.named_modules() if name and not any(m.children())]


def find_layer(model: nn.Module, name: str) -> nn.Module:
    """The module called `name`, either its full dotted name or a unique last part (`act1` for `net.act1`)."""
    modules = dict(model.named_modules())
    if name and name in modules:
        return modules[name]
    matches = [m for full, m in modules.items() if full.rsplit(".", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise UserError(
        f"layer {name!r} does not exist in this model; choose from: {', '.join(layer_names(model))} "
        "(e.g. layers=[act1])"
    )


@contextlib.contextmanager
def recording(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, list[torch.Tensor]]]:
    """`with recording(model, ["act1"]) as out:` collects each forward's output of those layers in out[name]."""
    modules = {name: find_layer(model, name) for name in names}  # resolve all before hooking any
    out: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    handles = []
    try:
        for name, module in modules.items():
            handles.append(module.register_forward_hook(_keeper(out[name])))
        yield out
    finally:
        for handle in handles:
            handle.remove()


def _keeper(store: list[torch.Tensor]):
    def hook(module: nn.Module, inputs, output: torch.Tensor) -> None:
        store.append(output.detach().flatten(1))  # (B, features)

    return hook


@torch.no_grad()
def activations(
    model: nn.Module, x: torch.Tensor, names: Sequence[str], batch_size: int = 4096
) -> dict[str, torch.Tensor]:
    """Outputs (N, features) of the named layers for inputs x, in eval mode."""
    was_training = model.training
    model.eval()
    try:
        with recording(model, names) as out:
            for start in range(0, len(x), batch_size):
                model(x[start : start + batch_size])
    finally:
        model.train(was_training)
    return {name: torch.cat(chunks) for name, chunks in out.items()}
