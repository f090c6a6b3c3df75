"""The table of bad inputs tried (issue 11): each gives one clear line, its exit code, no traceback, and
leaves no run folder behind. Add a row for every bad input found; the row count is quoted in the notes.

`{name}` in an argument is replaced by a prepared path: `hostile` (CIFAR-10 batches that would run code),
`badlabels` (KMNIST label files with values 0..255), `file` (an ordinary file), `nowhere` (a missing path),
`damaged` (a run folder whose config.yaml is torn),
`other` (a run folder of another experiment), `resumable` (a classify run of KMNIST with a checkpoint),
`unstarted` (a gradcheck run without one), `badsweep` / `listsweep` (sweep folders whose sweep.yaml is torn / a list).
"""

import os
import pickle
import struct

import numpy as np
import pytest

from mlplab.data.vision import CIFAR_TEST, CIFAR_TRAIN

BAD_INPUTS = [
    # commands and experiments
    (["frobnicate"], 2, "invalid choice"),
    (["run", "nosuch"], 2, "unknown experiment 'nosuch'"),
    (["report", "."], 2, "not a run folder"),
    (["report", "{nowhere}"], 2, "is not a folder"),
    (["run", "classify", "--resume", "{nowhere}"], 2, "not a run folder"),
    (["run", "classify", "--resume", "{nowhere}", "--out", "{nowhere}2"], 2, "--out"),
    (["run", "classify", "--out", "{file}"], 2, "is a file"),
    (["run", "classify", "--resume", "{damaged}"], 2, "config.yaml is damaged (not valid YAML, line 3)"),
    (["run", "classify", "--resume", "{other}"], 2, "is a run of 'explore', not 'classify'"),
    # a resume may raise epochs or change device, tensorboard, data_dir (checksummed data): nothing else
    (["run", "classify", "--resume", "{resumable}", "optimizer=sgd"], 2, "cannot change optimizer ('adam' -> 'sgd')"),
    (["run", "classify", "--resume", "{resumable}", "epochs=20", "lr=0.5"], 2, "cannot change lr (0.001 -> 0.5)"),
    (["run", "classify", "--resume", "{resumable}", "hidden=[8]", "seed=1"], 2, "cannot change seed (0 -> 1), hidden"),
    (["run", "classify", "--resume", "{resumable}", "epochs=2"], 2, "can raise epochs but not lower it (20 -> 2)"),
    (["run", "classify", "--resume", "{resumable}", "data_dir={nowhere}"], 2, "cannot change data_dir (''"),
    (["run", "gradcheck", "--resume", "{unstarted}"], 2, "has no checkpoint to resume from"),
    # keys, types, ranges
    (["run", "classify", "dataset=imagenet"], 2, "unknown dataset 'imagenet'"),
    (["run", "classify", "colour=red"], 2, "unknown config key 'colour'"),
    (["run", "classify", "epoch=3"], 2, "did you mean 'epochs'"),
    (["run", "classify", "epochs=many"], 2, "'epochs': 'many' is not an integer"),
    (["run", "classify", "epochs=2.5"], 2, "'epochs': 2.5 is not an integer"),
    (["run", "classify", "epochs=0"], 2, "'epochs': 0 is out of range"),
    (["run", "classify", "lr=0"], 2, "'lr': 0.0 is out of range; it must be > 0"),
    (["run", "classify", "lr=-0.1"], 2, "'lr'"),
    (["run", "classify", "lr=nan"], 2, "'lr': nan is not a finite number"),
    (["run", "classify", "lr=.inf"], 2, "'lr': inf is not a finite number"),
    (["run", "classify", "batch_size=0"], 2, "'batch_size'"),
    (["run", "classify", "val_size=-2"], 2, "'val_size'"),
    (["run", "classify", "dropout=1.5"], 2, "'dropout'"),
    (["run", "classify", "optimizer=rmsprop"], 2, "'optimizer'"),
    (["run", "classify", "device=tpu"], 2, "'device'"),
    (["run", "classify", "preset=turbo"], 2, "'preset': unknown preset 'turbo'; choose none, fast"),
    (["run", "classify", "precision=fp16"], 2, "'precision': 'fp16' is not one of fp32, bf16, auto"),
    (["run", "classify", "hidden=[]"], 2, "the list is empty"),
    (["run", "classify", "hidden=[0]"], 2, "'hidden': 0 in [0] is out of range"),
    (["run", "classify", "hidden=[-5,3]"], 2, "'hidden': -5"),
    (["run", "classify", "hidden=[32,.nan]"], 2, "'hidden'"),
    (["run", "classify", "hidden=[1000000000000]"], 2, "'hidden': 1000000000000 in [1000000000000] is out of range"),
    (["run", "classify", "image_size=100000"], 2, "'image_size': 100000 is out of range"),
    (["run", "classify", "image_size=1", "epochs=1"], 2, "image_size=1 leaves a single pixel"),
    (
        ["run", "classify", "seed=4294967296"],
        2,
        "'seed': 4294967296 is out of range; it must be >= 0 and <= 4294967295",
    ),
    (["run", "classify", "seed=-1"], 2, "'seed'"),
    (["run", "one-vs-rest", "digit=10"], 2, "'digit': 10 is not a class of 'digits'"),
    (["run", "one-vs-rest", "digit=two"], 2, "'digit'"),
    (["run", "one-vs-rest", "hidden=[100000000]"], 2, "'hidden'"),
    (["run", "explore", "classes=[3]"], 2, "at least two classes"),
    (["run", "explore", "dataset=moons"], 2, "image dataset"),
    (["run", "explore", "image_size=100000"], 2, "'image_size'"),
    (["run", "moons", "hidden=[30,0]"], 2, "'hidden': 0 in [30, 0] is out of range"),
    (["run", "moons", "hidden=[100000]"], 2, "'hidden'"),
    (["run", "moons", "momentum=1.5"], 2, "'momentum'"),
    (["run", "moons", "init=uniform"], 2, "'init'"),
    (["run", "moons", "dataset=digits"], 2, "dataset 'digits' has 64 features"),
    (["run", "scratch-mnist", "dtype=float16"], 2, "'dtype'"),
    (["run", "gradcheck", "out_features=1"], 2, "'out_features'"),
    (["run", "gradcheck", "step=0"], 2, "'step'"),
    (["run", "gradcheck", "step=1e300"], 2, "'step': 1e+300 is out of range"),
    (["run", "gradcheck", "in_features=100000"], 2, "'in_features': 100000 is out of range"),
    (["run", "gradcheck", "check_hidden=[1000]"], 2, "'check_hidden'"),
    (["run", "gradcheck", "batch=0"], 2, "'batch'"),
    (["run", "ae-pca", "ks=[0,30]"], 2, "'ks': 0 in [0, 30] is out of range"),
    (["run", "ae-pca", "normalization=standard"], 2, "'normalization'"),
    (["run", "ae-pca", "encoder=[1000000000000]"], 2, "not enough memory for this configuration"),
    (["run", "ae-undercomplete", "hs=[-3]"], 2, "'hs'"),
    (["run", "ae-denoising", "sigmas=[-0.5]"], 2, "'sigmas'"),
    (["run", "ae-denoising", "sigmas=[.nan]"], 2, "'sigmas': nan in [nan] is not a finite number"),
    (["run", "ae-denoising", "sigmas=[0.3,.inf]"], 2, "'sigmas': inf in [0.3, inf] is not a finite number"),
    (["run", "ae-denoising", "fractions=[1.5]"], 2, "'fractions': 1.5 is out of range"),
    (["run", "ae-sparse", "penalties=[.nan]"], 2, "'penalties': nan in [nan] is not a finite number"),
    (["run", "ae-sparse", "penalties=[-0.01]"], 2, "'penalties'"),
    (["run", "ae-manifold", "code=0"], 2, "'code': 0 is out of range"),
    (["run", "ae-manifold", "classifier={nowhere}"], 2, "is not a run folder"),
    (["run", "ae-conv", "decoders=[unpool,deconv]"], 2, "'deconv' is not a decoder"),
    (["run", "ae-ood", "ood=[pictures]"], 2, "'pictures' is neither noise nor a dataset"),
    (["run", "dreams", "lambda_l2=-1"], 2, "'lambda_l2': -1.0 is out of range"),
    (["run", "dreams", "hybrid=three"], 2, "is not class:weight"),
    (["run", "dreams", "model={nowhere}"], 2, "is not a run folder"),
    (["run", "dreams", "image_size=100000"], 2, "'image_size'"),
    # sweeps (issue 23): values compared after parsing, damaged sweep folders named
    (["sweep", "classify", "seed=0,00"], 2, "key 'seed' lists one value twice: '0' and '00' both read as 0"),
    (["sweep", "classify", "hidden=[16],16"], 2, "'[16]' and '16' both read as [16]"),
    (["sweep", "classify", "lr=1e-3,0.001", "seed=0,1"], 2, "'1e-3' and '0.001' both read as 0.001"),
    (["sweep", "classify", "epochs=2001-02-30"], 2, "cannot read the sweep value epochs=2001-02-30"),
    (["sweep", "classify", "seed=0,1", "--out", "{badsweep}"], 2, "sweep.yaml is damaged (not valid YAML)"),
    (["sweep", "classify", "seed=0,1", "--out", "{listsweep}"], 2, "sweep.yaml is damaged (not an experiment name"),
    # data files that are not what they claim
    (["run", "classify", "dataset=cifar10", "data_dir={hostile}"], 2, "MD5 does not match"),
    (["run", "classify", "dataset=kmnist", "data_dir={badlabels}", "epochs=1"], 2, "labels outside 0..9"),
]


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    hostile = root / "hostile" / "cifar-10-batches-py"
    hostile.mkdir(parents=True)
    for name in CIFAR_TRAIN + CIFAR_TEST:
        (hostile / name).write_bytes(pickle.dumps({"data": _Exploit(), "labels": [0]}, protocol=2))
    raw = root / "badlabels" / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    for part, n in (("train", 60000), ("t10k", 10000)):
        (raw / f"{part}-images-idx3-ubyte").write_bytes(struct.pack(">4i", 2051, n, 28, 28) + bytes(n * 784))
        labels = np.arange(n, dtype=np.uint8)  # 0..255 repeated
        (raw / f"{part}-labels-idx1-ubyte").write_bytes(struct.pack(">2i", 2049, n) + labels.tobytes())
    (root / "file").write_text("precious")
    (root / "damaged").mkdir()
    (root / "damaged" / "config.yaml").write_text("experiment: classify\nhidden: [32,\n")
    (root / "resumable" / "checkpoints").mkdir(parents=True)  # refused before its checkpoint is read
    (root / "resumable" / "config.yaml").write_text("experiment: classify\ndataset: kmnist\n")
    (root / "resumable" / "checkpoints" / "last.pt").write_bytes(b"never read")
    (root / "unstarted" / "checkpoints").mkdir(parents=True)
    (root / "unstarted" / "config.yaml").write_text("experiment: gradcheck\n")
    (root / "badsweep").mkdir()
    (root / "badsweep" / "sweep.yaml").write_text("experiment: classify\naxes: {seed: ['0', '1'\n")
    (root / "listsweep").mkdir()
    (root / "listsweep" / "sweep.yaml").write_text("- classify\n- seed\n")
    (root / "other").mkdir()
    (root / "other" / "config.yaml").write_text("experiment: explore\n")
    return {
        "damaged": root / "damaged",
        "other": root / "other",
        "hostile": root / "hostile",
        "badlabels": root / "badlabels",
        "file": root / "file",
        "resumable": root / "resumable",
        "unstarted": root / "unstarted",
        "nowhere": root / "nowhere",
        "badsweep": root / "badsweep",
        "listsweep": root / "listsweep",
    }


def _files(folder):
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


@pytest.mark.parametrize("argv, exit_code, fragment", BAD_INPUTS, ids=[" ".join(r[0]) for r in BAD_INPUTS])
def test_bad_input(cli, tmp_path, places, argv, exit_code, fragment):
    argv = [a.format(**places) for a in argv]
    before = _files(places["file"].parent)
    code, out, err = cli(*argv)
    assert "Traceback" not in err and "internal error" not in err
    assert code == exit_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mlplab: error: "), err
    assert fragment in lines[0], (fragment, lines[0])
    assert not (tmp_path / "runs").exists()  # no run folder left, not even an empty one
    assert not (tmp_path / "PWNED").exists()
    assert _files(places["file"].parent) == before  # nothing prepared was changed or added
