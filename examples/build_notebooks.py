"""Write the example notebooks (nbformat v4, no outputs) from the cell texts below.

    python examples/build_notebooks.py      # rewrites examples/*.ipynb

Edit the cells here, not in Jupyter, so the stored notebooks stay output-free and reviewable as code.
tests/examples/ executes every notebook and checks that none is stored with outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

SETUP = """import mlplab
from IPython.display import Image, display"""


def dataset_cell(small: str, large: str) -> list:
    """The one cell a reader changes: DATASET, and the settings that go with it."""
    return [
        new_markdown_cell(
            "## ▶ Dataset: the one cell to change\n\n"
            '`DATASET = "digits"` runs on the 8×8 digits embedded in mlplab, in a minute or two on a '
            'laptop CPU. Set `DATASET = "mnist"` for the real thing (downloaded once into the '
            "per-user cache, or read from `DATA_DIR` / `$MLPLAB_DATA`); the settings below grow "
            "with it."
        ),
        new_code_cell(
            'DATASET = "digits"  # "digits" (embedded, fast) or "mnist"\n'
            'DATA_DIR = ""  # a folder holding MNIST/raw; empty = $MLPLAB_DATA, then the per-user cache\n\n'
            'if DATASET == "digits":\n' + _indent(small) + "\nelse:\n" + _indent(large)
        ),
    ]


def _indent(text: str) -> str:
    return "\n".join("    " + line if line else line for line in text.splitlines())


QUICKSTART = [
    new_markdown_cell(
        "# mlplab from Python: a first classifier\n\n"
        "`mlplab.run` is `mlplab run` from a notebook: the same validation, run folder and report. "
        "It returns a `Run` that shows itself as a summary and gives the numbers behind it."
    ),
    new_code_cell(SETUP + "\n\nmlplab.list_experiments()"),
    *dataset_cell(
        "SETTINGS = dict(hidden=[64], epochs=15, batch_size=64)",
        "SETTINGS = dict(hidden=[256], epochs=5, batch_size=64)",
    ),
    new_markdown_cell("Every key of an experiment, with its default and meaning:"),
    new_code_cell('cfg = mlplab.config_of("classify", dataset=DATASET)\nprint(cfg.help())'),
    new_code_cell('run = mlplab.run("classify", dataset=DATASET, data_dir=DATA_DIR, **SETTINGS)\nrun'),
    new_markdown_cell("The per-epoch history as a table, and the final numbers:"),
    new_code_cell('run.history_frame()[["epoch", "train_loss", "val_loss", "val_accuracy"]]'),
    new_code_cell('run.metrics["test_accuracy"], run.report'),
    new_markdown_cell("Any run folder opens again later, with the same object:"),
    new_code_cell(
        "again = mlplab.open(run.path)\n"
        "assert again.metrics == run.metrics\n"
        'again.array_names, {k: v.shape for k, v in again.arrays("predictions").items()}'
    ),
    new_markdown_cell("Bad input raises `mlplab.ConfigError` with the line `mlplab run` would print:"),
    new_code_cell('try:\n    mlplab.run("classify", hiden=[64])\nexcept mlplab.ConfigError as err:\n    print(err)'),
    new_markdown_cell("A small study is a loop; each run is a folder of its own:"),
    new_code_cell(
        "rows = []\nfor dropout in (0.0, 0.3):\n"
        '    r = mlplab.run("classify", dataset=DATASET, data_dir=DATA_DIR, dropout=dropout, **SETTINGS)\n'
        '    rows.append({"dropout": dropout, "test_accuracy": r.metrics["test_accuracy"]})\nrows'
    ),
]

DREAMS = [
    new_markdown_cell(
        "# Dreams: what a classifier wants to see\n\n"
        "Optimise the pixels of a noise image until a frozen MLP is sure it shows a class "
        "(task 1), a mixture of classes (task 2), and then with an L2 penalty that keeps the "
        "pixels small (task 3). The classifier is trained once and cached in `model-cache/`."
    ),
    new_code_cell(SETUP),
    *dataset_cell(
        "CLASSIFIER = dict(hidden=[128], epochs=15)\nSTEPS = dict(steps=200, frame_every=10)",
        "CLASSIFIER = dict(hidden=[1024, 2048, 256], epochs=5)\nSTEPS = dict(steps=500)",
    ),
    new_code_cell(
        'COMMON = dict(dataset=DATASET, data_dir=DATA_DIR, cache_dir="model-cache", **CLASSIFIER, **STEPS)\n'
        'print(mlplab.config_of("dreams").help())'
    ),
    new_markdown_cell("## Task 1: one dream per class"),
    new_code_cell('dreams = mlplab.run("dreams", task="dreams", **COMMON)\ndreams'),
    new_markdown_cell("The dreams as they form (every `frame_every` steps):"),
    new_code_cell('display(Image(filename=dreams.path / "animations" / "dreams.gif"))'),
    new_code_cell(
        'a = dreams.arrays("dreams")\n'
        'print("images", a["images"].shape, "frames", a["frames"].shape)\n'
        'dreams.metrics["dreams_confidence"]'
    ),
    new_markdown_cell("## Task 2: hybrids (a 3 that is also a 5)"),
    new_code_cell(
        'hybrids = mlplab.run("dreams", task="hybrids", hybrid="3:0.5,5:0.5", **COMMON)\n'
        'display(Image(filename=hybrids.path / "figures" / "hybrid_custom.png"))\n'
        'hybrids.metrics["hybrid_custom"]'
    ),
    new_markdown_cell(
        "## Task 3: the L2 penalty λ·mean(x²)\n\nA larger λ buys darker, sparser dreams at the price of confidence."
    ),
    new_code_cell(
        'l2 = mlplab.run("dreams", task="l2", l2_count=4, **COMMON)\n'
        'display(Image(filename=l2.path / "figures" / "l2_images.png"))\n'
        'list(zip(l2.metrics["l2_lambdas"], l2.metrics["l2_mean_pixel"], l2.metrics["l2_target_confidence"]))'
    ),
    new_markdown_cell(
        'Going further: `task="robust"` dreams from an ensemble with jitter, rotation and a total-'
        "variation penalty, scored by an independent CNN judge (slower: it trains the ensemble and "
        "the judge)."
    ),
]

ONE_VS_REST = [
    new_markdown_cell(
        "# The one-digit lab: a classifier and a GAN for one digit\n\n"
        "Part 1: a binary sigmoid classifier tells `DIGIT` apart from the nine others; the run shows "
        "where it goes wrong: its false positives and its misses, by class. Part 2: a GAN that draws "
        "the same digit, scored by an independent judge, with a check for mode collapse."
    ),
    new_code_cell(SETUP),
    *dataset_cell(
        "SETTINGS = dict(hidden=[64], epochs=15, batch_size=64)\n"
        "GAN = dict()  # the gan defaults on 8x8 digits are small already: 400 steps",
        "SETTINGS = dict(hidden=[256], epochs=10)\n"
        "GAN = dict(n=4000, samples=1000)  # the 28x28 default is 12000 steps",
    ),
    new_code_cell("DIGIT = 2  # the digit of this notebook: its classifier and its GAN"),
    new_markdown_cell("## Part 1: one digit against the rest"),
    new_code_cell('print(mlplab.config_of("one-vs-rest").help())'),
    new_code_cell('run = mlplab.run("one-vs-rest", dataset=DATASET, data_dir=DATA_DIR, digit=DIGIT, **SETTINGS)\nrun'),
    new_code_cell("for figure in run.figures:\n    display(Image(filename=figure, width=520))"),
    new_markdown_cell("Which digit is hardest to tell apart? One run per digit, as a table:"),
    new_code_cell(
        "rows = []\nfor digit in (1, 8):\n"
        '    r = mlplab.run("one-vs-rest", dataset=DATASET, data_dir=DATA_DIR, digit=digit, **SETTINGS)\n'
        '    rows.append({"digit": digit, **r.main_numbers(4)})\nrows'
    ),
    new_markdown_cell(
        "## Part 2: a GAN for the same digit\n\n"
        "An MLP generator that mirrors its discriminator learns to draw `DIGIT` from noise. A small CNN "
        "judge (trained once, cached in `model-cache/`) scores the samples: the *decent fraction* "
        "(samples the judge calls `DIGIT` with p ≥ 0.9), precision / recall / coverage in the judge's "
        "features (are the samples realistic, and do they cover the variety of the real ones?) and the "
        "Fréchet distance as a ratio to the distance between two halves of the real images (1 = as "
        "close as real data gets)."
    ),
    new_code_cell(
        'gan = mlplab.run("gan", dataset=DATASET, data_dir=DATA_DIR, digit=DIGIT, cache_dir="model-cache", **GAN)\ngan'
    ),
    new_markdown_cell("Samples at the start, middle and end of training, and the quality over the run:"),
    new_code_cell(
        "for figure in gan.figures:\n"
        '    if figure.stem.startswith("samples_") or figure.stem == "quality":\n'
        "        display(Image(filename=figure, width=420))"
    ),
    new_markdown_cell("The same fixed noise through the generator at every evaluation:"),
    new_code_cell('gif = next(p for p in gan.animations if p.suffix == ".gif")\ndisplay(Image(filename=gif))'),
    new_code_cell('{k: gan.metrics[k] for k in ("decent_fraction", "precision", "recall", "coverage", "fd_ratio")}'),
    new_markdown_cell("Real held-out images of the digit score the same way (`real_*`): the ceiling to compare with."),
    new_code_cell(
        '{k: gan.metrics[f"real_{k}"] for k in ("decent_fraction", "precision", "recall", "coverage", "fd_ratio")}'
    ),
    new_markdown_cell(
        "## Did it collapse?\n\n"
        "At every evaluation the run checks recall and coverage: a generator that had covered the data "
        "and then falls below the thresholds has collapsed onto a few modes. `on_collapse=restart` "
        "would go back to the last healthy checkpoint with a halved learning rate."
    ),
    new_code_cell(
        "from mlplab.report import findings_for\nfrom mlplab.runs import Run as RunFolder\n\n"
        'print({k: gan.metrics[k] for k in ("collapsed_at", "healthy_at", "restarts")})\n'
        "for finding in findings_for(RunFolder.open(gan.path)):\n"
        '    if finding.title == "Mode collapse":\n'
        "        print(finding.text)"
    ),
]

AUTOENCODERS = [
    new_markdown_cell(
        "# Autoencoders: bottlenecks, PCA and denoising\n\n"
        "Three experiments of the family: single-hidden-layer AEs of growing width, a deep AE "
        "against PCA at the same code size, and denoising AEs against the plain one."
    ),
    new_code_cell(SETUP + "\nimport pandas as pd"),
    *dataset_cell(
        "COMMON = dict(epochs=4)\nHS, KS = [16, 64], [4, 16]\nNOISE = dict(sigmas=[0.5], fractions=[0.3])",
        "COMMON = dict(epochs=10)\nHS, KS = [64, 128, 256], [8, 16, 30, 64]\n"
        "NOISE = dict(sigmas=[0.3, 0.5, 0.8], fractions=[0.1, 0.3, 0.5])",
    ),
    new_code_cell("COMMON.update(dataset=DATASET, data_dir=DATA_DIR)"),
    new_markdown_cell("## Undercomplete AEs: in → h → in"),
    new_code_cell('under = mlplab.run("ae-undercomplete", hs=HS, **COMMON)\nunder'),
    new_code_cell("for figure in under.figures[:2]:\n    display(Image(filename=figure, width=520))"),
    new_markdown_cell(
        "## A deep AE against PCA\n\nError per pixel on the test set at each code size k. "
        "With the few epochs of the digits settings the deep AE is still far from trained and trails "
        "PCA; give it `epochs=50` (the default) to see where it overtakes."
    ),
    new_code_cell('pca = mlplab.run("ae-pca", ks=KS, **COMMON)\npd.read_csv(pca.tables[0])'),
    new_markdown_cell("## Denoising"),
    new_code_cell('denoise = mlplab.run("ae-denoising", **NOISE, **COMMON)\ndenoise'),
]

SCRATCH = [
    new_markdown_cell(
        "# Backprop from scratch\n\n"
        "`mlplab.scratch` is an MLP in NumPy whose derivatives are written by hand, each next to its "
        "forward. First the experiments that check it, then the engine used directly."
    ),
    new_code_cell(SETUP + "\nimport numpy as np\nimport pandas as pd"),
    *dataset_cell(
        "TWIN = dict(twin_steps=50)\nMNIST_RUN = dict(epochs=2)",
        "TWIN = dict(twin_steps=200)\nMNIST_RUN = dict(epochs=5)",
    ),
    new_markdown_cell("## Gradients against torch.autograd and finite differences"),
    new_code_cell('check = mlplab.run("gradcheck", dataset=DATASET, data_dir=DATA_DIR, **TWIN)\ncheck'),
    new_markdown_cell(
        "## The same check, by hand\n\nEvery layer, every loss and whole MLPs: the hand-written "
        "gradient against central differences."
    ),
    new_code_cell(
        "from mlplab.scratch.finite_differences import all_cases, numeric_gradients, relative_error\n\n"
        "rows = []\nfor case in all_cases(np.random.default_rng(0)):\n"
        "    analytic, numeric = case.grads(), numeric_gradients(case)\n"
        "    worst = max(relative_error(analytic[k], numeric[k]) for k in numeric)\n"
        '    rows.append({"case": case.name, "max relative error": worst})\n'
        'table = pd.DataFrame(rows)\nassert (table["max relative error"] < 1e-5).all()\ntable'
    ),
    new_markdown_cell("## Training the scratch MLP on two moons, by hand"),
    new_code_cell(
        "from sklearn.datasets import make_moons\nfrom mlplab.scratch import MLP\n"
        "from mlplab.scratch.loop import train_epoch\n\n"
        "x, y = make_moons(600, noise=0.15, random_state=0)\n"
        'model = MLP(2, [30, 30], 2, activation="relu", init="he", seed=0, lr=0.05, momentum=0.9)\n'
        "rng = np.random.default_rng(0)\n"
        "losses = [train_epoch(model, x, y, batch_size=32, rng=rng) for _ in range(30)]\n"
        "accuracy = (model.forward(x, remember=False).argmax(1) == y).mean()\n"
        'print(f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, train accuracy {accuracy:.3f}")'
    ),
    new_markdown_cell("## The `moons` experiment: curves, boundary, and why depth needs He init"),
    new_code_cell(
        'moons = mlplab.run("moons", epochs=10, deep_layers=6)\n'
        "for figure in moons.figures[:3]:\n    display(Image(filename=figure, width=420))\nmoons"
    ),
    new_markdown_cell("## The scratch MLP on images"),
    new_code_cell('images = mlplab.run("scratch-mnist", dataset=DATASET, data_dir=DATA_DIR, **MNIST_RUN)\nimages'),
]

PRACTICAL = [
    new_markdown_cell(
        "# The practical MLP: optimizers, improvements, pixel shuffle, and a sweep\n\n"
        "Four experiments of the practical family, each at small settings: SGD, momentum and Adam on "
        "pathological loss surfaces; an ablation of the usual MLP improvements over seeds; whether an "
        "MLP cares where a pixel is; and a small grid sweep with `mlplab.sweep`."
    ),
    new_code_cell(SETUP + "\nimport pandas as pd"),
    *dataset_cell(
        "OPTIMIZERS = dict(epochs=2, hidden=[64])\n"
        "IMPROVE = dict(epochs=0, seeds=2)  # epochs=0: the study's budget, 4 epochs on the digits\n"
        "SHUFFLE = dict(epochs=10, seeds=2, hidden=[128])\n"
        "SWEEP = dict(hidden=[[64]], epochs=[10])  # one value each: fixed for every trial",
        "OPTIMIZERS = dict(epochs=3, hidden=[256, 128])\n"
        "IMPROVE = dict(epochs=5, seeds=2)\n"
        "SHUFFLE = dict(epochs=5, seeds=2, hidden=[256, 128])\n"
        "SWEEP = dict(hidden=[[256]], epochs=[3])",
    ),
    new_code_cell("DATA = dict(dataset=DATASET, data_dir=DATA_DIR)"),
    new_markdown_cell(
        "## Optimizers on pathological surfaces\n\n"
        "`curvature` is a long narrow valley (very different curvature along the two axes); "
        "`steep-optima` has sharp minima beside a broad one. Each optimizer starts at the same point "
        "with the surface's own learning rates; the run also trains one MLP per optimizer on `DATASET`."
    ),
    new_code_cell('opt = mlplab.run("optimizers", **DATA, **OPTIMIZERS)\nopt'),
    new_code_cell(
        "for figure in opt.figures:\n"
        '    if figure.stem.endswith(("_2d", "_3d")):\n'
        "        display(Image(filename=figure, width=520))"
    ),
    new_markdown_cell("Where each optimizer ended, and the lowest loss it reached on the way:"),
    new_code_cell(
        "tables = {t.stem: pd.read_csv(t) for t in opt.tables}\n"
        'tables["end_points"][["surface", "optimizer", "lr", "end_w1", "end_w2", "end_loss", "lowest_loss", '
        '"diverged"]]'
    ),
    new_code_cell('{k: v for k, v in opt.metrics.items() if k.startswith("network/")}'),
    new_markdown_cell(
        "## The improvement study (`mlp-improve`)\n\n"
        "The baseline MLP against the same MLP with one change, each over `seeds` seeds, with the mean, "
        "the spread and a 95% interval of the test accuracy. `rows=` keeps the study small: the "
        "baseline and two changes here; leave it empty for every change alone and all together."
    ),
    new_code_cell(
        'improve = mlplab.run("mlp-improve", rows=["baseline", "dropout", "norm"], **DATA, **IMPROVE)\n'
        'pd.read_csv(next(t for t in improve.tables if t.stem == "ablation"))'
    ),
    new_code_cell('display(Image(filename=next(f for f in improve.figures if f.stem == "ablation"), width=520))'),
    new_markdown_cell(
        "## Pixel shuffle: does an MLP use where a pixel is?\n\n"
        "`none` trains on the images as they are. `fixed` applies one permutation of the pixels to "
        "every image (train, validation and test): a fully connected layer has no notion of "
        "neighbouring pixels, so it learns as well as on the plain images. `per-batch` and `per-image` "
        "draw a new permutation each time: the position of a pixel then means nothing and accuracy "
        "falls to about chance (0.1). `sorted` keeps only the histogram of pixel intensities, which says "
        "little about the digit."
    ),
    new_code_cell(
        'shuffle = mlplab.run("pixel-shuffle", **DATA, **SHUFFLE)\n'
        'pd.DataFrame({mode: shuffle.metrics[f"{mode}/test_accuracy"] for mode in shuffle.config["modes"]}).T'
    ),
    new_code_cell(
        'display(Image(filename=next(f for f in shuffle.figures if f.stem == "examples"), width=520))\n'
        "pd.read_csv(shuffle.tables[0])"
    ),
    new_markdown_cell(
        "## A sweep from Python\n\n"
        "`mlplab.sweep` runs every combination of the grid's values × the seeds, each trial a run of "
        "its own, and summarises them per grid point (mean, std, 95% interval). Keys with one value "
        "are the same for every trial. Running the cell again resumes: finished trials are not redone."
    ),
    new_code_cell(
        'grid = {"dropout": [0.0, 0.3], "dataset": [DATASET], **SWEEP}\n'
        'if DATA_DIR:\n    grid["data_dir"] = [DATA_DIR]\n'
        'sweep = mlplab.sweep("classify", grid=grid, seeds=2, workers=1, out="sweeps/dropout")\nsweep'
    ),
    new_code_cell(
        'print(len(sweep.rows), "grid points;", sorted(sweep.rows[0])[:6], "...")\n'
        'sweep.frame()[["rank", "dropout", "n_seeds", "n_failed", "test_accuracy_mean", "test_accuracy_std",\n'
        '               "test_accuracy_ci_low", "test_accuracy_ci_high"]]'
    ),
]

NOTEBOOKS = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_dreams.ipynb": DREAMS,
    "03_one_digit_classifier_and_gan.ipynb": ONE_VS_REST,
    "04_autoencoders.ipynb": AUTOENCODERS,
    "05_backprop_from_scratch.ipynb": SCRATCH,
    "06_mlp_practical.ipynb": PRACTICAL,
}


def build(folder: Path = HERE) -> list[Path]:
    written = []
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(
            cells=cells,
            metadata={
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                "language_info": {"name": "python"},
            },
        )
        for i, cell in enumerate(nb.cells):
            cell.id = f"{Path(name).stem}-{i}"  # stable ids: rebuilding changes nothing that was not edited
        nbformat.validate(nb)
        nbformat.write(nb, folder / name)
        written.append(folder / name)
    return written


if __name__ == "__main__":
    for path in build():
        print(path)
