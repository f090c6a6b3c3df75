"""The checkpoint format: what a Trainer writes each epoch, what `save_model` writes, and how to read both.

A checkpoint is a dict saved with torch.save and read with `weights_only=True` (no code runs on load):
`format`, `spec` (the model's class and constructor arguments, for `nn.build_model`) and `model` (its
state dict); a Trainer's also holds the optimizer state(s), scheduler(s), epoch, history and RNG states.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mlplab.errors import UserError
from mlplab.runs import Run, atomic_write_bytes

CHECKPOINT_FORMAT = 1


def write_checkpoint(path, state: dict) -> None:
    """torch.save to a temporary file, renamed over `path`. In a run's checkpoints/ folder the state also
    names the run (`run_id`) and its config (`run_config`, without the keys a resume may change), which a
    resume checks (`check_belongs`)."""
    path = Path(path)
    if path.parent.name == "checkpoints" and (path.parent.parent / "config.yaml").is_file():
        run = Run(path.parent.parent)
        state = {**state, "run_id": run.run_id, "run_config": run.fixed_config()}
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write_bytes(path, buf.getvalue())


def check_belongs(run: Run) -> None:
    """UserError unless every checkpoint of `run` was written by this run under its present config: a
    checkpoint of another run (or one from before config.yaml was edited) would continue another history."""
    run_id, config = run.run_id, run.fixed_config()
    for path in sorted((run.path / "checkpoints").glob("*.pt")):
        try:
            state = read_checkpoint(path)
        except UserError:
            continue  # unreadable: whatever reads it says so, as it did before checkpoints named their run
        written = state.get("run_config")
        if not isinstance(written, dict):  # written by an mlplab from before checkpoints named their run
            if run_id is None:
                continue  # an older run's own checkpoints: nothing to compare them with
            problem = "names no run (an older mlplab, or another run, wrote it)"
        elif state.get("run_id") != run_id:
            problem = "belongs to another run"
        elif written != config:
            key = next(k for k in sorted(set(written) | set(config)) if written.get(k) != config.get(k))
            problem = f"was written with another {key} ({written.get(key)!r}; config.yaml now says {config.get(key)!r})"
        else:
            continue
        raise UserError(
            f"checkpoint {path} {problem}; a resume continues only the run's own checkpoints: "
            "restore the run's own files, or start a new run"
        )


def read_checkpoint(path) -> dict:
    """torch.load with weights_only=True; a missing or broken file is a UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"no checkpoint at {path}; resume needs a run folder with checkpoints/last.pt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(
            f"cannot read checkpoint {path} ({type(exc).__name__}); it is damaged or not an mlplab checkpoint"
        ) from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise UserError(f"{path} is not an mlplab checkpoint (format {CHECKPOINT_FORMAT})")
    return state


def model_spec(model: nn.Module) -> dict[str, Any]:
    return getattr(model, "spec", {"class": type(model).__name__})


def spec_text(spec: Any) -> str:
    if not isinstance(spec, dict):
        return str(spec)
    return ", ".join(f"{k}={v}" for k, v in spec.items())


def evaluated_weights(state: dict) -> dict:
    """The weights a Trainer's checkpoint was validated with: its moving average's (`ema`) when it holds one,
    else the model's."""
    if "ema" not in state:
        return state["model"]
    prefix = "module."
    return {k[len(prefix) :]: v for k, v in state["ema"].items() if k.startswith(prefix)}


def save_model(model: nn.Module, path) -> None:
    """The model's spec and weights (no optimizer state), atomically, in the checkpoint format."""
    write_checkpoint(path, {"format": CHECKPOINT_FORMAT, "spec": model.spec, "model": model.state_dict()})


def load_model(path, device: torch.device | str = "cpu") -> nn.Module:
    """The model of a checkpoint (a Trainer's or `save_model`'s), rebuilt from its spec, in eval mode."""
    import mlplab.nn as mnn  # every model class registers on import

    state = read_checkpoint(path)
    try:
        model = mnn.build_model(state["spec"])
        model.load_state_dict(evaluated_weights(state))
    except (KeyError, TypeError, RuntimeError) as exc:
        raise UserError(
            f"{path} does not hold a model mlplab can rebuild ({type(exc).__name__}); "
            "give a checkpoint made by this version"
        ) from None
    return model.to(device).eval()


def model_from_run(
    run_dir,
    which: str = "best",
    *,
    data_dir: str | None = None,
    device: torch.device | str = "cpu",
    download: bool = True,
):
    """(model, dataset) of a run folder: checkpoints/WHICH.pt and the dataset rebuilt from its config.yaml
    (same split seed, validation size, normalisation and image size). `data_dir`, when given, is where the
    data lives now (it wins over the run's own data_dir)."""
    from mlplab.data import load_dataset

    run = Run.open(run_dir)
    model = load_model(run.checkpoint(which), device)
    ds = load_dataset(**dataset_args(run.config, data_dir), device=device, download=download)
    return model, ds


def dataset_args(conf: dict[str, Any], data_dir: str | None = None) -> dict[str, Any]:
    """The load_dataset arguments that reproduce a run's dataset from its config."""
    val = int(conf.get("val_size", -1))
    return {
        "name": conf["dataset"],
        "data_dir": data_dir or conf.get("data_dir") or None,
        "seed": int(conf.get("seed", 0)),
        "val_size": None if val < 0 else val,
        "normalization": conf.get("normalization", "standard"),
        "image_size": int(conf.get("image_size", 0)),
        "test_size": float(conf.get("test_size", 0.2)),
        "skip_bad": bool(conf.get("skip_bad", False)),
    }


def open_run_model(path_text: str, key: str, classes: tuple[str, ...], what: str) -> tuple[nn.Module, dict]:
    """The model behind config key `key`: a run folder (its checkpoints/best.pt) or a .pt file in a run's
    checkpoints/, of one of `classes`; returns (model, that run's config). UserError naming the key otherwise."""
    from mlplab.nn import build_model

    path = Path(path_text).expanduser()
    if path.is_file() and path.suffix == ".pt":
        ckpt, folder = path, path.parent.parent
    else:
        ckpt, folder = path / "checkpoints" / "best.pt", path
    if not (folder / "config.yaml").is_file():
        raise UserError(
            f"config key {key!r}: {path_text!r} is not a run folder (no config.yaml); give the folder of {what}"
        )
    if not ckpt.is_file():
        raise UserError(
            f"config key {key!r}: {path_text!r} has no {ckpt.relative_to(folder)}; give the folder "
            f"of a finished run of {what}"
        )
    state = read_checkpoint(ckpt)
    spec = state.get("spec") or {}
    if spec.get("class") not in classes:
        raise UserError(
            f"config key {key!r}: {path_text!r} holds a {spec.get('class')!r} model, not "
            f"{' or '.join(classes)}; give the folder of {what}"
        )
    model = build_model(spec)
    model.load_state_dict(evaluated_weights(state))
    return model, Run(folder).config
