"""CI runs exactly the README's test command (lint, format, the import-linter contracts, the tests)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readmes_test_command_then_the_slow_tests():
    commands = re.findall(r"^python3 -m venv .*$", (REPO / "README.md").read_text(), flags=re.M)
    test_command = commands[1]
    for check in ("ruff check .", "ruff format --check .", "lint-imports", "-m pytest"):
        assert check in test_command, check
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert test_command in ci
    assert ci[ci.index(test_command) + 1] in (
        ".venv/bin/python -m pytest -m slow",
        ".venv/bin/python -m pytest -m slow -n 0",
    )
