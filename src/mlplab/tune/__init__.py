"""Tuning: `mlplab tune` searches a space with Optuna (TPE and a pruner) on a study database, runs every trial
as an ordinary run folder, and ends with the best configuration against the defaults over fresh seeds.

`mlplab.tune(...)` (the Python entry point, `mlplab.tune.entry.tune`, also `mlplab.api.tune`) shares its name
with this package: once the package is imported, Python binds `mlplab.tune` to it, so the package itself is
callable and calls the entry point.
"""

import sys
import types


class _CallablePackage(types.ModuleType):
    def __call__(self, *args, **kwargs):
        """`mlplab.tune(EXPERIMENT, "key=SPACE", ..., trials=N, **fixed)`: see `mlplab.tune.entry.tune`."""
        from mlplab.tune.entry import tune

        return tune(*args, **kwargs)


sys.modules[__name__].__class__ = _CallablePackage
