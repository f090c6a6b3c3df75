"""The one trainer: typed training config, optimizer/scheduler factories, the Trainer and the checkpoint format."""

from mlplab.train.checkpoint import load_model, model_from_run, read_checkpoint, save_model
from mlplab.train.config import TrainConfig
from mlplab.train.factories import make_optimizer, make_scheduler
from mlplab.train.several_models import Pieces, fit_named
from mlplab.train.trainer import FitResult, Trainer, evaluate

__all__ = [
    "FitResult",
    "Pieces",
    "TrainConfig",
    "Trainer",
    "evaluate",
    "fit_named",
    "load_model",
    "make_optimizer",
    "make_scheduler",
    "model_from_run",
    "read_checkpoint",
    "save_model",
]
