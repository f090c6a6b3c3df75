"""One module per experiment: a config dataclass and `run(cfg, ctx) -> metrics`."""

from mlplab.experiments.base import EXPERIMENTS, Context, Experiment, discover, execute, register_experiment

discover()

__all__ = ["EXPERIMENTS", "Context", "Experiment", "execute", "register_experiment"]
