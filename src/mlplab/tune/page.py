"""The study page (study.html): placeholder until the figures land."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_page(folder: Path, result: dict[str, Any], study=None) -> Path:
    path = Path(folder) / "study.html"
    path.write_text("<html><body>study</body></html>")
    return path
