"""Shared fixtures. Real MNIST / Fashion-MNIST come from $MLPLAB_TEST_DATA (CI: ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

REPO = Path(__file__).resolve().parents[1]

# One torch / BLAS thread per pytest-xdist worker and for the processes its tests start (set before torch is first
# imported): the workers already fill the cores, and two threads each on two shared cores wait on each other (on a
# loaded machine a 64x64 eigh took 80 ms with 2 threads, 0.3 ms with 1). Without xdist (`-n 0`, as CI runs the
# slow tier: real-data training) torch keeps its own default. A value set outside is kept.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

# ---- test tiers ---------------------------------------------------------------------------------------------
#   pytest -m unit   the quick tier (under a minute on 2 cores): the library's logic on small inputs made in the
#                    test (config parsing, data checks, models, optimizers, statistics, findings, pages built
#                    from a run folder written by hand) and bad inputs refused before anything trains
#   pytest           everything but `slow` (pyproject's addopts): the unit tier and end-to-end runs
#   pytest -m slow   real-data targets, notebooks, the tour, the browser, a Ray cluster
# The rule, applied below: a test is `unit` unless it is `slow`, or it uses (itself or through another fixture) a
# fixture that runs the program or reads real data (RUNS), or it runs an experiment, a sweep, a process or a
# training of hundreds of steps itself (END_TO_END). Tests named `test_*bad_input*` are refused before any
# training and stay `unit` even through `cli`.
RUNS = {"cli", "healthy", "trained", "mnist_dir", "fashion_dir", "local_sweep", "api_run", "cluster", "tour", "browser"}
END_TO_END = (
    "tests/experiments/practical/test_improve.py::test_ablation_table_is_the_seed_statistics_of_the_per_seed_runs",
    "tests/experiments/practical/test_optimizers.py::test_practical_targets_on_both_surfaces",
    "tests/experiments/practical/test_optimizers.py::test_user_surface_and_the_network_comparison_on_digits",
    "tests/experiments/practical/test_pixel_shuffle.py::test_modes_on_digits_fixed_keeps_accuracy_new_permutations_destroy_it",
    "tests/experiments/practical/test_protocol.py::test_best_checkpoint_is_the_best_validated_epoch_and_is_what_was_tested",
    "tests/nn/test_registry.py::test_every_registered_model_rebuilds_in_a_fresh_interpreter",
    "tests/scratch/test_gradients_and_twin_run.py::test_the_engine_imports_no_autograd",
    "tests/scratch/test_gradients_and_twin_run.py::test_twin_run_matches_torch_nn_for_200_steps",
    "tests/test_api.py::test_import_mlplab_is_cheap_and_exports_lazily",
    "tests/test_run_folder_hardening.py::test_the_lock_is_held_while_a_run_is_written",
    "tests/train/test_trainer.py::test_same_seed_same_metrics",
    "tests/train/test_trainer.py::test_nan_guard_stops_and_keeps_the_last_good_checkpoint",
    "tests/data/test_sources.py::test_api_run_and_a_resume_rebuild_the_same_source",
    "tests/report/test_tensorboard.py::test_each_model_of_a_multi_model_run_has_its_own_tags",
    "tests/test_config_trust.py::test_a_closed_pipe_is_a_quiet_success",
    "tests/test_config_trust.py::test_a_run_piped_into_a_closed_pipe_finishes",
    "tests/test_imports.py::test_importing_the_library_runs_nothing",
    "tests/test_run_folder_fuzz.py::test_the_report_and_the_gallery_of_a_hostile_run_folder_are_built",
    "tests/test_sigterm.py::test_sigterm_stops_a_run_as_ctrl_c_does",
    "tests/sweeps/test_sigterm.py::test_sigterm_stops_a_sweep_as_ctrl_c_does",
    "tests/tune/test_api.py::test_tune_from_python_returns_the_study",
)
# whole files whose tests share a module-wide study or sweep run (their setup trains)
END_TO_END_FILES = ("tests/tune/test_study.py", "tests/tune/test_gallery.py")


def pytest_collection_modifyitems(config, items):
    for entry in END_TO_END:  # a renamed or moved test must not drop silently into the unit tier
        path, name = entry.split("::")
        if not (REPO / path).is_file() or f"def {name}(" not in (REPO / path).read_text():
            raise pytest.UsageError(f"tests/conftest.py END_TO_END names {entry}, which does not exist: update it")
    for item in items:
        node = item.nodeid.split("[")[0]
        if item.get_closest_marker("slow") or node in END_TO_END or node.split("::")[0] in END_TO_END_FILES:
            continue
        if RUNS & set(item.fixturenames) and "bad_input" not in getattr(item, "originalname", item.name):
            continue
        item.add_marker(pytest.mark.unit)


# ---- pytest-xdist: files that share a session fixture run on one worker ----------------------------------------
# `--dist loadfile` (pyproject) sends each file to one worker, so module fixtures are made once; a session fixture
# used by several files is made once per worker that runs one of them. These files share `local_sweep` (a sweep of
# six trials): one scope keeps it to one sweep per test run.
SHARED_SCOPES = {
    f"tests/sweeps/{name}.py": "tests/sweeps (local_sweep)"
    for name in ("test_local", "test_api_sweep", "test_bad_input", "test_ray")
}


def pytest_xdist_make_scheduler(config, log):
    """loadfile with the SHARED_SCOPES grouping; other --dist modes are xdist's own."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return SHARED_SCOPES.get(path, path)

    return SharedFixtureScheduling(config, log)


def real_data_dir() -> Path | None:
    """The folder with real datasets in torchvision's layout, or None when absent."""
    setting = os.environ.get("MLPLAB_TEST_DATA")
    path = Path(setting) if setting else REPO.parent / "shared" / "data"
    return path if (path / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file() else None


@pytest.fixture
def mnist_dir() -> Path:
    """Skip (with the reason) where real MNIST is not available."""
    path = real_data_dir()
    if path is None:
        pytest.skip("real MNIST not found: set MLPLAB_TEST_DATA to a folder holding MNIST/raw (CI uses ../shared/data)")
    return path


@pytest.fixture
def fashion_dir(mnist_dir: Path) -> Path:
    if not (mnist_dir / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.skip("real Fashion-MNIST not found under $MLPLAB_TEST_DATA/FashionMNIST/raw")
    return mnist_dir


@pytest.fixture
def cli(tmp_path, capsys):
    """Run `mlplab ARGS...` in-process; return (exit code, stdout, stderr)."""
    from mlplab.cli import main

    def call(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Runs land under the test's own temporary folder, never in the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLPLAB_DATA", raising=False)


@pytest.fixture
def interrupt_after(monkeypatch):
    """interrupt_after(model, epoch): every Trainer made from now on raises KeyboardInterrupt (as Ctrl-C would)
    right after the named model's epoch was checkpointed; calling the returned function undoes it."""
    from mlplab.train import Trainer

    original = Trainer.__init__

    def install(model: str, epoch: int):
        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)

            def interrupt(trainer, row):
                if trainer.name == model and row["epoch"] == epoch:
                    raise KeyboardInterrupt

            self.callbacks.append(interrupt)

        monkeypatch.setattr(Trainer, "__init__", init)
        return lambda: monkeypatch.setattr(Trainer, "__init__", original)

    return install


@pytest.fixture(scope="session")
def scratch_kinds() -> list[str]:
    """The components the from-scratch engine's gradient check covers (its tests and gradcheck's table name them)."""
    return [
        "Linear",
        "ReLU",
        "LeakyReLU",
        "Sigmoid",
        "Tanh",
        "Softmax",
        "CrossEntropy",
        "SoftmaxCrossEntropy",
        "MSE",
        "MLP",
    ]


SHAPES = ["circle", "square", "triangle"]  # class names that are no digits


@pytest.fixture(scope="session")
def shapes_folder(tmp_path_factory) -> str:
    """A `folder:` source whose classes are named by words (SHAPES): 8x8 grey PNGs told apart by brightness,
    train/ 40 and test/ 25 per class (enough for the GAN's quality metrics on one class)."""
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("test", 25)):
        for c, name in enumerate(SHAPES):
            (root / split / name).mkdir(parents=True)
            for i, a in enumerate(rng.integers(0, 80, size=(n, 8, 8)) + 85 * c):
                Image.fromarray(a.astype(np.uint8)).save(root / split / name / f"{i:02d}.png")
    return f"folder:{root}"


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One model cache (cache_dir=) for the whole session: a helper model (the GAN's judge, the dreams'
    classifier) is trained by the first test that needs it and reused by the others with the same settings."""
    return tmp_path_factory.mktemp("model-cache")


class Command(NamedTuple):
    """What `mlplab run ...` returned and printed, and the run folder it made."""

    code: int
    out: str
    err: str
    path: Path


class Trained:
    """Run folders made once a session and shared by the tests that only read them: a reference run's numbers, a
    run to look at. A test that changes a run (resumes, extends or damages it) takes its own copy (`copy`,
    `copy_command`; a run folder holds no path of its own, so a copy resumes as the original would).

    trained(EXPERIMENT, *OVERRIDES)  a finished run, report=False (for tests that read numbers and checkpoints)
    trained.command(EXPERIMENT, *OVERRIDES)  `mlplab run ... --out DIR` in this process, its page included
    trained.smoke(EXPERIMENT)  the command with the experiment's smoke settings
    Runs are keyed by the resolved config, so the same settings written in another order are the same run."""

    def __init__(self, root: Path):
        self.root, self.made, self.commands = root, {}, {}

    @staticmethod
    def _key(experiment: str, overrides: tuple[str, ...]) -> str:
        import json

        from mlplab.config import parse_overrides
        from mlplab.experiments import EXPERIMENTS

        config = parse_overrides(EXPERIMENTS.get(experiment).config, list(overrides)).to_dict()
        return experiment + json.dumps(config, sort_keys=True, default=str)

    def __call__(self, experiment: str, *overrides: str) -> Path:
        key = self._key(experiment, overrides)
        if key not in self.made:
            import contextlib
            import io

            from mlplab.experiments import execute

            out = self.root / f"{experiment}-{len(self.made)}"
            # its epoch lines must not land in the output the test under way captures and checks
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                self.made[key] = execute(experiment, list(overrides), out=str(out), report=False).path
        return self.made[key]

    def command(self, experiment: str, *overrides: str) -> Command:
        key = self._key(experiment, overrides)
        if key not in self.commands:
            import contextlib
            import io

            from mlplab.cli import main

            out, err = io.StringIO(), io.StringIO()
            path = self.root / f"command-{experiment}-{len(self.commands)}"
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(["run", experiment, *overrides, "--out", str(path)])
            self.commands[key] = Command(code, out.getvalue(), err.getvalue(), path)
        return self.commands[key]

    def smoke(self, experiment: str) -> Command:
        from mlplab.experiments import EXPERIMENTS

        return self.command(experiment, *EXPERIMENTS.get(experiment).smoke)

    def copy(self, to: Path, experiment: str, *overrides: str) -> Path:
        import shutil

        shutil.copytree(self(experiment, *overrides), to)
        return to

    def copy_command(self, to: Path, experiment: str, *overrides: str) -> Path:
        """A copy of `trained.command(...)`'s run (report.html and figures included) for a test to change."""
        import shutil

        done = self.command(experiment, *overrides)
        assert done.code == 0, done.err
        shutil.copytree(done.path, to)
        return to


@pytest.fixture
def tiny_run(trained, tmp_path) -> Path:
    """A finished classify run (hidden=[32], epochs=2, report included) of the test's own: a copy of one made once
    a session (the TINY run of the run-folder trust and hardening tests)."""
    return trained.copy_command(tmp_path / "r", "classify", "hidden=[32]", "epochs=2")


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    return Trained(tmp_path_factory.mktemp("trained"))
