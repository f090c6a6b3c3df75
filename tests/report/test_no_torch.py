"""Rebuilding a page reads run files only: `mlplab report RUN` must not import torch (report/ imports no
analysis function that pulls it in; the numbers it shares with the analysis live in analysis/constants.py)."""

import subprocess
import sys

CHECK = """
import sys
from mlplab.cli import main
from mlplab.report import discover

discover()  # every experiment's report module, not only the one rebuilt
code = main(["report", sys.argv[1]])
loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert code in (0, None), code
assert not loaded, f"rebuilding the page imported {loaded[:5]}"
print("no torch")
"""


def test_rebuilding_a_stored_runs_page_imports_no_torch(cli, tmp_path):
    for name in ("explore", "gradcheck"):
        out = tmp_path / name
        assert cli("run", name, "twin_steps=5" if name == "gradcheck" else "per_class=2", "--out", str(out))[0] == 0
        before = (out / "report.html").read_text()
        (out / "report.html").unlink()
        result = subprocess.run([sys.executable, "-c", CHECK, str(out)], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "no torch" in result.stdout
        assert (out / "report.html").read_text() == before
