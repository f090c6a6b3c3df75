"""Hostile run folders (issue 23): random and hostile contents in each file a run folder holds never give an
internal error. Reading (`mlplab.open`) raises ConfigError naming the file or returns what is there; the report
and the gallery are built, with one warning per damaged file that names it."""

import io
import json
import logging
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlplab
from mlplab.errors import UserError

FILES = [
    "config.yaml",
    "metrics.json",
    "metrics.jsonl",
    "status.json",
    "env.json",
    "notes.json",
    ".mlplab-run",
    "figures/captions.json",
    "figures/loss_curves.png",
    "tables/per_class.csv",
    "tables/layer_separability.csv",
    "arrays/predictions.npz",
    "arrays/layers.npz",
    "arrays/confused_pairs.npz",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A real classify run (made once), copied for each example."""
    folder = tmp_path_factory.mktemp("fuzz") / "r"
    mlplab.run("classify", hidden=[16], epochs=1, out=folder, progress=False)
    return folder


def _npz(arrays: dict) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


@st.composite
def hostile(draw, base_files: dict[str, bytes]):
    """(file name, new bytes): random bytes, a truncation, or valid syntax with wrong contents."""
    name = draw(st.sampled_from(FILES))
    real = base_files.get(name, b"")
    kind = draw(st.sampled_from(["bytes", "truncated", "json", "swap", "lines", "csv", "yaml", "npz"]))
    if kind == "bytes":
        return name, draw(st.binary(max_size=300))
    if kind == "truncated":
        return name, real[: draw(st.integers(0, max(len(real) - 1, 0)))]
    if kind == "json":
        return name, json.dumps(draw(json_values)).encode()
    if kind == "swap" and real[:1] == b"{":  # one value of the real JSON file replaced by something else
        data = json.loads(real)
        if data:
            data[draw(st.sampled_from(sorted(data)))] = draw(json_values)
        return name, json.dumps(data).encode()
    if kind == "lines":
        rows = draw(st.lists(json_values, max_size=5))
        return name, "".join(json.dumps(r) + "\n" for r in rows).encode()
    if kind == "csv":
        head = real.decode(errors="replace").splitlines()[:1] or ["a,b"]
        cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8) | st.just("9" * 140000)
        rows = draw(st.lists(st.lists(cells, max_size=6), max_size=4))
        return name, ("\n".join(head + [",".join(r) for r in rows]) + "\n").encode()
    if kind == "yaml":
        config = yaml.safe_load(base_files["config.yaml"])
        config[draw(st.sampled_from(sorted(config)))] = draw(json_values)
        return name, yaml.safe_dump(config).encode()
    keys = draw(st.lists(st.sampled_from(["y_true", "probs", "classes", "names", "y", "z_input", "pairs", "x"])))
    shapes = st.lists(st.integers(0, 3), max_size=3).map(tuple)
    dtypes = st.sampled_from(["float32", "int64", "bool", "U3"])
    return name, _npz({k: np.zeros(draw(shapes), dtype=draw(dtypes)) for k in keys})


def _damaged_copy(base: Path, name: str, content: bytes) -> Path:
    root = Path(tempfile.mkdtemp(prefix="mlplab-fuzz-"))
    run = root / "r"
    shutil.copytree(base, run)
    (run / name).write_bytes(content)
    return run


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_reading_a_hostile_run_folder_raises_only_config_errors(base, data):
    files = {n: (base / n).read_bytes() for n in FILES if (base / n).is_file()}
    name, content = data.draw(hostile(files))
    run_dir = _damaged_copy(base, name, content)
    try:
        try:
            run = mlplab.open(run_dir)
        except UserError:
            return
        for read in (
            lambda: run.config,
            lambda: run.metrics,
            lambda: run.history,
            lambda: run.main_numbers(),
            lambda: run._folder.status,
            lambda: run._folder.load_table("per_class"),
            lambda: run._folder.is_mlplab(),
            lambda: [run.arrays(a) for a in run.array_names],
        ):
            try:
                read()
            except UserError as exc:
                assert "\n" not in str(exc)
    finally:
        shutil.rmtree(run_dir.parent)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_report_and_the_gallery_of_a_hostile_run_folder_are_built(base, data, caplog):
    from mlplab.report import build_report
    from mlplab.report.page.gallery import write_gallery
    from mlplab.runs import Run

    files = {n: (base / n).read_bytes() for n in FILES if (base / n).is_file()}
    name, content = data.draw(hostile(files))
    run_dir = _damaged_copy(base, name, content)
    caplog.clear()
    try:
        with caplog.at_level(logging.WARNING, logger="mlplab"):
            build_report(Run(run_dir))
            write_gallery(run_dir.parent)
        assert (run_dir / "report.html").is_file() and (run_dir.parent / "index.html").is_file()
        for record in caplog.records:
            assert str(run_dir) in record.getMessage() and "\n" not in record.getMessage()
    finally:
        shutil.rmtree(run_dir.parent)
