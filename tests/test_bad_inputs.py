"""The table of bad inputs tried (issue 11): each gives one clear line, its exit code, no traceback, and
leaves no run folder behind. Add a row for every bad input found; the row count is quoted in the notes.

`{name}` in an argument is replaced by a prepared path: `hostile` (CIFAR-10 batches that would run code),
`badlabels` (KMNIST label files with values 0..255), `file` (an ordinary file), `nowhere` (a missing path),
`damaged` (a run folder whose config.yaml is torn),
`other` (a run folder of another experiment), `resumable` (a classify run of KMNIST with a checkpoint),
`unstarted` (a gradcheck run without one), `badsweep` / `listsweep` (sweep folders whose sweep.yaml is torn / a list),
`aliased`, `deep`, `octal`, `badvalue` (classify runs with a checkpoint whose config.yaml holds a YAML alias,
nesting 1000 deep, `epochs: 010`, `epochs: many`), `foreign` (a config.yaml and report.html mlplab did not
write), `userindex` (a user's index.html above a run), `configs` (a user's index.html above a foreign config.yaml),
and the users' sources with one fault each that `_own_data` writes (`empty`, `corrupt`, `csv_text`, `npz_nan`, ...;
`catdog` is a sound folder of two classes, cat and dog).
"""

import json
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
    # mlplab tune: spaces, options and the study database, all refused before any trial (issue 26)
    (["tune", "nosuch", "lr=uniform(0.1,1)"], 2, "unknown experiment 'nosuch'"),
    (["tune", "classify", "colour=uniform(0,1)"], 2, "unknown config key 'colour'"),
    (["tune", "classify", "epoch=int(1,3)"], 2, "did you mean 'epochs'"),
    (["tune", "classify", "hidden=loguniform(1e-4,1e-2)"], 2, "'hidden' is a list of an integer, so loguniform"),
    (["tune", "classify", "epochs=uniform(1,5)"], 2, "so uniform(...) cannot draw its values"),
    (["tune", "classify", "hidden=choice()"], 2, "hidden=choice() has no value"),
    (["tune", "classify", "hidden=choice([8],[0])"], 2, "'hidden': 0 in [0] is out of range"),
    (["tune", "classify", "optimizer=choice(adam,rmsprop)"], 2, "'rmsprop' is not one of adam"),
    (["tune", "classify", "lr=loguniform(0,1e-2)"], 2, "lr=loguniform(0,1e-2): both bounds must be > 0"),
    (["tune", "classify", "lr=loguniform(1e-2,1e-4)"], 2, "low must be below high"),
    (["tune", "classify", "lr=loguniform(1e-4)"], 2, "takes two bounds"),
    (["tune", "classify", "dropout=uniform(0,1.5)"], 2, "'dropout': 1.5 is out of range"),
    (["tune", "classify", "epochs=int(1.5,4)"], 2, "'epochs': 1.5 is not an integer"),
    (["tune", "classify", "seed=int(0,3)"], 2, "'seed' cannot be searched"),
    (["tune", "classify", "epochs=3"], 2, "no key to search"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "epochs=0"], 2, "'epochs': 0 is out of range"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "val_size=0"], 2, "val_size=0 leaves no validation split"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--trials", "0"], 2, "--trials 0 must be at least 1"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--confirm-seeds", "1"], 2, "--confirm-seeds 1 must be 0"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--pruner", "asha"], 2, "--pruner 'asha' is not one of"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--engine", "spark"], 2, "--engine 'spark' is not one of"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--metric", "test_accuracy"], 2, "is not a validation metric"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--out", "{file}"], 2, "is a file"),
    (["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--storage", "nonsense"], 2, "is not a database URL"),
    (
        ["tune", "classify", "lr=loguniform(1e-4,1e-2)", "--storage", "postgresql://tuner:secret@127.0.0.1:1/studies"],
        2,
        "cannot open the study database postgresql://tuner:***@127.0.0.1:1/studies",
    ),
    (
        ["tune", "classify", "lr=loguniform(1e-4,1e-2)", "hidden=[8]", "epochs=1", "knn_k=3", "--metric", "val_f1"],
        2,
        "--metric val_f1: the experiment does not report it (its epochs report",
    ),
    # sweeps (issue 23): values compared after parsing, damaged sweep folders named
    (["sweep", "classify", "seed=0,+0"], 2, "key 'seed' lists one value twice: '0' and '+0' both read as 0"),
    (["sweep", "classify", "seed=0,00"], 2, "'00' has a leading zero (octal in YAML 1.1); write 0"),
    (["sweep", "classify", "hidden=[16],16"], 2, "'[16]' and '16' both read as [16]"),
    (["sweep", "classify", "lr=1e-3,0.001", "seed=0,1"], 2, "'1e-3' and '0.001' both read as 0.001"),
    (
        ["sweep", "classify", "epochs=2001-02-30"],
        2,
        "'2001-02-30' is not an integer (in the sweep value epochs=2001-02-30)",
    ),
    (
        ["sweep", "classify", "seed=0,1", "--out", "{badsweep}"],
        2,
        "sweep.yaml is damaged (not valid YAML: expected ',' or ']'",
    ),
    (["sweep", "classify", "seed=0,1", "--out", "{listsweep}"], 2, "sweep.yaml is damaged (not an experiment name"),
    # issue 23: one rule for values (decimal numbers; YAML 1.1's surprises refused), untrusted YAML, messages
    (["run", "classify", "epochs=010"], 2, "'epochs': cannot read '010' as an integer: '010' has a leading zero"),
    (["run", "classify", "epochs=1:0"], 2, "'1:0' is 60 in YAML 1.1 (base 60); write 60"),
    (["run", "classify", "epochs=0x10"], 2, "'0x10' is not a decimal number; write 16"),
    (["run", "classify", "epochs=0o10"], 2, "'0o10' is not a decimal number; write 8"),
    (["run", "classify", "epochs=1_000"], 2, "'1_000' has digit separators; write 1000"),
    (["run", "classify", "tensorboard=yes"], 2, "'yes' is a boolean in YAML 1.1; write true or false"),
    (
        ["run", "classify", "hidden=[&a 16,*a]"],
        2,
        "'hidden': cannot read '[&a 16,*a]' as a list of an integer: uses an anchor",
    ),
    (["run", "classify", "hidden=" + "[" * 1000 + "]" * 1000], 2, "nests deeper than 20 levels"),
    (["run", "classify", "hidden=[1" + "0" * 5000 + "]"], 2, "a number with 5001 digits"),
    (["run", "classify", "epochs=1", "epochs=2"], 2, "config key 'epochs' is given twice"),
    (["run", ""], 2, "no experiment name given"),
    (["run", "classify", "--resume", "{aliased}"], 2, "config.yaml is damaged (uses an anchor or alias"),
    (["run", "classify", "--resume", "{deep}"], 2, "config.yaml is damaged (nests deeper than 20 levels"),
    (["run", "classify", "--resume", "{octal}"], 2, "config.yaml is damaged ('010' has a leading zero"),
    (["run", "classify", "--resume", "{badvalue}"], 2, "(the run's own config, not your command) holds a value"),
    (["run", "classify", "dataset=dig\nits"], 2, "unknown dataset 'dig\\nits'"),
    (["sweep", "classify", "epochs=010,2"], 2, "'010' has a leading zero (octal in YAML 1.1); write 10"),
    # issue 23: the operating system saying no
    (["run", "classify", "--out", "{nowhere}/" + "x" * 300], 2, "more than the 255 the file system allows"),
    (["run", "classify", "--out", "{file}/run"], 2, "Not a directory"),
    (["run", "classify", "--resume", "{nowhere}/" + "x" * 300], 2, "more than the 255"),
    (["run", "classify", "dataset=mnist", "data_dir={nowhere}/" + "x" * 300], 2, "config key 'data_dir':"),
    (["sweep", "classify", "epochs=1", "--out", "{file}/sweep"], 2, "Not a directory"),
    # checks that need only the config and the data: before the first epoch (issue 23)
    (["run", "classify", "hidden=[8]", "knn_k=100000"], 2, "config key 'knn_k': k=100000 neighbours need more"),
    (["run", "explore", "knn_k=100000"], 2, "config key 'knn_k': k=100000 neighbours need more"),
    # files mlplab did not write are never replaced (issue 23)
    (["report", "{foreign}"], 2, "report.html' is not in a run folder made by mlplab"),
    (["report", "{userindex}"], 2, "index.html' was not written by mlplab"),
    (["report", "{configs}"], 2, "is not a run folder (no config.yaml in it)"),
    # data files that are not what they claim
    (["run", "classify", "dataset=cifar10", "data_dir={hostile}"], 2, "MD5 does not match"),
    (["run", "classify", "dataset=kmnist", "data_dir={badlabels}", "epochs=1"], 2, "labels outside 0..9"),
    # users' own data (issue 25): folder:, csv:, npz: sources
    (["run", "classify", "dataset=pics:{nowhere}"], 2, "unknown data source 'pics:'"),
    (["run", "classify", "dataset=folder:{nowhere}"], 2, "does not exist; give an existing path"),
    (["run", "classify", "dataset=npz:{nowhere}.npz"], 2, "does not exist; give an existing path"),
    (["run", "classify", "dataset=folder:{selfloop}"], 2, "is a symlink loop (it leads back to itself)"),
    (["run", "classify", "dataset=folder:{innerloop}"], 2, "is a symlink loop (it leads back to"),
    (["run", "classify", "dataset=folder:{empty}"], 2, "is empty (no class subfolders)"),
    (["run", "classify", "dataset=folder:{file}"], 2, "is a file, not a folder"),
    (["run", "classify", "dataset=folder:{loose}"], 2, "holds 2 images but no class subfolders"),
    (["run", "classify", "dataset=folder:{single}"], 2, "has a single class folder (cat)"),
    (["run", "classify", "dataset=folder:{noimages}"], 2, "dog holds no images (PNG, JPEG, BMP, GIF, TIFF or WebP)"),
    (["run", "classify", "dataset=folder:{corrupt}"], 2, "dog/1.png cannot be decoded"),
    (["run", "classify", "dataset=folder:{corrupt}"], 2, "or give skip_bad=true to skip such files"),
    (["run", "classify", "dataset=folder:{mixed}"], 2, "the images have 2 sizes: 6x6 (1, e.g. cat/0.png), 8x8 (1"),
    (["run", "classify", "dataset=folder:{lacking}"], 2, "/test has class folders that"),
    (["run", "classify", "dataset=folder:{huge}"], 2, "of memory to load, and the machine has"),
    (["run", "classify", "dataset=npz:{hugenpz}"], 2, "of memory to load, and the machine has"),
    (["run", "classify", "dataset=csv:{csv_text}"], 2, "line 3, column 2: 'x' is not a number"),
    (["run", "classify", "dataset=csv:{csv_ragged}"], 2, "line 2 has 3 cells where the first row has 5"),
    (["run", "classify", "dataset=csv:{csv_label}"], 2, "line 2: label 1.5 is not a class index"),
    (["run", "classify", "dataset=csv:{csv_pixel}"], 2, "line 3: pixel value 300 (pixel 0) is outside 0-255"),
    (["run", "classify", "dataset=csv:{csv_lacking}"], 2, "the test split has classes the training split lacks (2)"),
    (["run", "classify", "dataset=csv:{empty}"], 2, "holds no file whose name ends in train.csv"),
    (["run", "classify", "dataset=npz:{npz_missing}"], 2, "lacks x_test; it needs arrays named"),
    (["run", "classify", "dataset=npz:{npz_lengths}"], 2, "x_train has shape (4, 2, 2) and y_train (3,)"),
    (["run", "classify", "dataset=npz:{npz_nan}"], 2, "x_train: holds nan at index (1, 0, 0)"),
    (["run", "classify", "dataset=npz:{npz_inf}"], 2, "x_test: holds inf at index (0, 0, 0)"),
    (["run", "classify", "dataset=npz:{npz_negative}"], 2, "y_train: label -1 (row 2) is negative"),
    (["run", "classify", "dataset=npz:{npz_range}"], 2, "float values span 0..255, outside [0, 1]; divide"),
    (["run", "classify", "dataset=npz:{npz_pickled}"], 2, "holds Python objects (pickled)"),
    (["run", "classify", "dataset=folder:{single}", "test_size=0"], 2, "'test_size': 0.0 is out of range"),
    # digit= of gan and one-vs-rest: a class index or a class name (the folder names of a folder: source)
    (["run", "gan", "digit=10"], 2, "'digit': 10 is not a class of 'digits'; choose 0..9 or a class name (0, 1, 2"),
    (["run", "gan", "dataset=folder:{catdog}", "digit=fox"], 2, "'fox' is not a class of 'folder:"),
    (["run", "gan", "dataset=folder:{catdog}", "digit=2"], 2, "2 is not a class of 'folder:"),
    (["run", "one-vs-rest", "dataset=folder:{catdog}", "digit=Fox"], 2, "choose 0..1 or a class name (cat, dog)"),
    (["run", "one-vs-rest", "dataset=folder:{catdog}", "digit=2.5"], 2, "'digit': '2.5' is not a class of"),
    (["data", "inspect", "folder:{noimages}"], 2, "dog holds no images"),
    (["data", "inspect", "npz:{npz_nan}", "seed=-1"], 2, "'seed'"),
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
    for name, text in {
        "aliased": "experiment: classify\nhidden: &a [16]\nlayers: *a\n",
        "deep": "experiment: classify\nhidden: " + "[" * 1000 + "]" * 1000 + "\n",
        "octal": "experiment: classify\nepochs: 010\n",
        "badvalue": "experiment: classify\nepochs: many\n",
    }.items():
        (root / name / "checkpoints").mkdir(parents=True)
        (root / name / "config.yaml").write_text(text)
        (root / name / "checkpoints" / "last.pt").write_bytes(b"never read")
    (root / "other").mkdir()
    (root / "other" / "config.yaml").write_text("experiment: explore\n")
    (root / "foreign").mkdir()  # a config.yaml and a report.html of someone else's tool
    (root / "foreign" / "config.yaml").write_text("experiment: classify\n")
    (root / "foreign" / "report.html").write_text("<p>their report</p>")
    (root / "userindex" / "old").mkdir(parents=True)  # a user's page above a run of an earlier mlplab
    (root / "userindex" / "index.html").write_text("<p>my notes</p>")
    (root / "userindex" / "old" / "config.yaml").write_text("experiment: classify\n")
    status = {"status": "finished", "command": "mlplab run classify seed=0"}
    (root / "userindex" / "old" / "status.json").write_text(json.dumps(status))
    (root / "configs" / "tool").mkdir(parents=True)  # a user's page above someone else's config.yaml
    (root / "configs" / "index.html").write_text("<p>my page</p>")
    (root / "configs" / "tool" / "config.yaml").write_text("name: tool\n")
    return _own_data(root) | {
        "foreign": root / "foreign",
        "userindex": root / "userindex",
        "configs": root / "configs",
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
        **{name: root / name for name in ("aliased", "deep", "octal", "badvalue")},
    }


def _png(path, side=6, height=None):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height or side, side), 128, np.uint8)).save(path)


def _huge_png(path, side=12000):
    """A PNG whose header claims side x side RGB pixels, cut off after the header (nothing to decode)."""
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    path.parent.mkdir(parents=True, exist_ok=True)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)))


def _own_data(root):
    """Users' sources with one fault each (issue 25)."""
    import zipfile

    own = root / "own"
    (own / "empty").mkdir(parents=True)
    (own / "selfloop").symlink_to(own / "selfloop")
    _png(own / "innerloop" / "cat" / "0.png")
    _png(own / "innerloop" / "dog" / "0.png")
    (own / "innerloop" / "dog" / "again").symlink_to(own / "innerloop" / "dog")
    _png(own / "loose" / "0.png")
    _png(own / "loose" / "1.png")
    _png(own / "single" / "cat" / "0.png")
    _png(own / "noimages" / "cat" / "0.png")
    (own / "noimages" / "dog").mkdir()
    (own / "noimages" / "dog" / "readme.txt").write_text("no pictures here")
    _png(own / "corrupt" / "cat" / "0.png")
    _png(own / "corrupt" / "dog" / "1.png")
    (own / "corrupt" / "dog" / "1.png").write_bytes((own / "corrupt" / "dog" / "1.png").read_bytes()[:50])
    for c in ("cat", "dog"):
        for i in range(5):
            _png(own / "catdog" / c / f"{i}.png")
    _png(own / "mixed" / "cat" / "0.png", 6)
    _png(own / "mixed" / "dog" / "0.png", 8)
    for split, classes in (("train", ("cat", "dog")), ("test", ("cat", "fox"))):
        for c in classes:
            _png(own / "lacking" / split / c / "0.png")
    for c in ("cat", "dog"):
        for i in range(10):
            _huge_png(own / "huge" / c / f"{i}.png")
    (own / "csv_text.csv").write_text("label,a,b,c,d\n0,1,2,3,4\n1,x,2,3,4\n")
    (own / "csv_ragged.csv").write_text("0,1,2,3,4\n1,2,3\n")
    (own / "csv_label.csv").write_text("0,1,2,3,4\n1.5,1,2,3,4\n")
    (own / "csv_pixel.csv").write_text("0,1,2,3,4\n1,0,0,0,0\n1,300,2,3,4\n")
    (own / "csv_lacking").mkdir()
    (own / "csv_lacking" / "a_train.csv").write_text("0,1,2,3,4\n1,1,2,3,4\n")
    (own / "csv_lacking" / "a_test.csv").write_text("0,1,2,3,4\n2,1,2,3,4\n")
    x, y = np.zeros((4, 2, 2), np.uint8), np.array([0, 1, 0, 1])
    npz = {
        "npz_missing": {"x_train": x, "y_train": y, "y_test": y},
        "npz_lengths": {"x_train": x, "y_train": y[:3], "x_test": x, "y_test": y},
        "npz_nan": {"x_train": np.where(np.arange(4)[:, None, None] == 1, np.nan, 0.5), "y_train": y},
        "npz_inf": {"x_train": x, "y_train": y, "x_test": np.where(np.eye(2) > 0, np.inf, 0)[None].repeat(4, 0)},
        "npz_negative": {"x_train": x, "y_train": np.array([0, 1, -1, 1])},
        "npz_range": {"x_train": np.full((4, 2, 2), 255.0), "y_train": y},
        "npz_pickled": {"x_train": x, "y_train": y, "classes": np.array([{"a": 1}, 2], dtype=object)},
    }
    for name, arrays in npz.items():
        np.savez(own / f"{name}.npz", **({} if name == "npz_missing" else {"x_test": x, "y_test": y}) | arrays)
    with zipfile.ZipFile(own / "hugenpz.npz", "w") as z:  # headers claim a million 3x512x512 images
        for name, shape, descr in (("x_train", (10**6, 3, 512, 512), "|u1"), ("y_train", (10**6,), "<i8")):
            with z.open(f"{name}.npy", "w") as fh:
                np.lib.format.write_array_header_1_0(fh, {"descr": descr, "fortran_order": False, "shape": shape})
        np.lib.format.write_array(z.open("x_test.npy", "w"), x)
        np.lib.format.write_array(z.open("y_test.npy", "w"), y)
    places = {p.stem: p for p in own.iterdir()}
    return places


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
    assert not (tmp_path / "studies").exists()  # nor a study folder
    assert not (tmp_path / "PWNED").exists()
    assert _files(places["file"].parent) == before  # nothing prepared was changed or added
