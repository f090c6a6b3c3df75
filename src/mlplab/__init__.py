"""mlplab: reproducible experiments with multilayer perceptrons on small image datasets.

From Python: `mlplab.run(NAME, key=value, ...)`, `mlplab.open(RUN_DIR)`, `mlplab.list_experiments()`,
`mlplab.config_of(NAME)`, `mlplab.sweep(NAME, grid={...}, seeds=3)`,
`mlplab.tune(NAME, "lr=loguniform(1e-4,1e-2)")`; bad input raises `mlplab.ConfigError`.
These load on first use, so `import mlplab` stays cheap (no torch until something runs).
"""

__version__ = "0.1.0"

_API = (
    "run",
    "open",
    "list_experiments",
    "config_of",
    "sweep",
    "tune",
    "ConfigError",
    "RunFailed",
    "Run",
    "SweepSummary",
    "Study",
)
# `open` is left out of `import *`: it would shadow the builtin
__all__ = [name for name in _API if name != "open"]


def __getattr__(name: str):
    if name in _API:
        from mlplab import api

        return getattr(api, name)
    raise AttributeError(f"module 'mlplab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_API))
