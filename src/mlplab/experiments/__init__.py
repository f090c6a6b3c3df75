"""One module per experiment: a config dataclass and `run(cfg, ctx) -> metrics`.

The modules are imported on the first lookup in EXPERIMENTS, not when this package is imported."""

from mlplab.experiments.base import EXPERIMENTS, Context, Experiment, execute, register_experiment

__all__ = ["EXPERIMENTS", "Context", "Experiment", "execute", "register_experiment"]
