"""Library code runs nothing on import (ARCHITECTURE.md); registries fill themselves on the first lookup.

The import-linter contracts in pyproject.toml check which module may import which; what an import *does*
is checked here, in a fresh interpreter, since that is the only place where nothing is imported yet.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlplab.registry import Registry

SRC = Path(__file__).resolve().parents[1] / "src"

PROBE = r"""
import importlib, io, json, pkgutil, sys, threading
import mlplab.experiments
before = sorted(m for m in sys.modules if m.startswith("mlplab.experiments."))
out, err = io.StringIO(), io.StringIO()
sys.stdout, sys.stderr = out, err
library = [i.name for i in pkgutil.walk_packages(mlplab.__path__, "mlplab.")
           if i.name not in ("mlplab.cli", "mlplab.__main__")]
for name in library:
    importlib.import_module(name)
sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
print(json.dumps({"experiment_modules_on_import": before, "modules": len(library), "printed": out.getvalue() +
                  err.getvalue(), "threads": threading.active_count()}))
"""


def test_importing_the_library_runs_nothing(tmp_path):
    """Importing mlplab.experiments imports no experiment, and importing every library module prints nothing,
    writes no file and starts no thread."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "HOME": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "MLPLAB_DATA": str(home / "data"),
        "MLPLAB_CACHE": str(home / "models"),
        "MPLCONFIGDIR": str(home / ".mpl"),  # matplotlib's own font cache is not ours to count
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["experiment_modules_on_import"] == ["mlplab.experiments.base"]
    assert seen["modules"] > 50
    assert seen["printed"] == ""
    assert seen["threads"] == 1
    written = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if ".mpl" not in p.parts and p != home]
    assert written == []


def test_a_registry_discovers_once_on_the_first_lookup():
    calls = []
    reg: Registry[int] = Registry("thing", discover=lambda: calls.append(reg.register("b")(2)))
    reg.register("a")(1)  # registering is not a lookup
    assert calls == []
    assert reg.names() == ["a", "b"]
    assert "b" in reg and reg.get("a") == 1
    assert len(calls) == 1


def test_a_failed_discovery_is_retried_on_the_next_lookup():
    tries = []

    def discover():
        tries.append(1)
        if len(tries) == 1:
            raise ImportError("a broken module")

    reg: Registry[int] = Registry("thing", discover=discover)
    with pytest.raises(ImportError):
        reg.names()
    assert reg.names() == []
    assert len(tries) == 2
