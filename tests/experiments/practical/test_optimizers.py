"""`optimizers`: the practical's targets on both surfaces, user surfaces, the network comparison, bad input."""

import csv
import math

import pytest

from mlplab.experiments import execute
from mlplab.report import findings_for


def end_points(run) -> dict[tuple[str, str], tuple[float, float]]:
    with open(run.path / "tables" / "end_points.csv") as fh:
        return {(r["surface"], r["optimizer"]): (float(r["end_w1"]), float(r["end_w2"])) for r in csv.DictReader(fh)}


def test_practical_targets_on_both_surfaces(tmp_path):
    run = execute("optimizers", ["network=false"], out=str(tmp_path / "run"))
    ends = end_points(run)
    for name in ("SGDMomentum", "Adam"):
        w1, w2 = ends[("curvature", name)]
        assert w2 < -7.5 and abs(w1) < 0.5, (name, w1, w2)
    w1, w2 = ends[("curvature", "SGD")]
    assert not (w2 < -7.5 and abs(w1) < 0.5), (w1, w2)
    w1, w2 = ends[("steep-optima", "Adam")]
    assert math.hypot(w1 + 0.5, w2 + 0.8) < 0.01, (w1, w2)
    assert run.metrics["steep-optima/Adam/end"] == pytest.approx([w1, w2])
    for name in ("curvature", "steep-optima"):
        assert (run.path / "figures" / f"{name}_3d.png").is_file() and (
            run.path / "figures" / f"{name}_2d.png"
        ).is_file()
        assert (run.path / "animations" / f"{name}_trajectories.gif").stat().st_size > 1000
    texts = {f.title: f.text for f in findings_for(run)}
    assert "Adam (lr 0.2) ends at (-0.5, -0.8)" in texts["Surface steep-optima"]
    assert (
        "SGD (lr 10) ends at" in texts["Surface curvature"]
        and "did not get far down the valley" in texts["Surface curvature"]
    )


def test_user_surface_and_the_network_comparison_on_digits(tmp_path):
    run = execute(
        "optimizers",
        ["surface=rosenbrock,saddle", "updates=100", "epochs=2", "hidden=[32,16]"],
        out=str(tmp_path / "run"),
    )
    ends = end_points(run)
    assert {s for s, _ in ends} == {"rosenbrock", "saddle"}
    assert abs(abs(ends[("saddle", "Adam")][1]) - math.sqrt(2)) < 0.05  # off the saddle into a minimum
    rows = run.load_table("network")
    assert [r["optimizer"] for r in rows] == ["SGD", "SGDMomentum", "Adam"]
    assert list(dict.fromkeys(r["model"] for r in run.history)) == ["SGD", "SGDMomentum", "Adam"]
    assert all(0 <= float(r["test_accuracy"]) <= 1 for r in rows)
    assert all(run.checkpoint(name).is_file() for name in ("SGD", "SGDMomentum", "Adam"))
    assert (run.path / "figures" / "network_curves.png").is_file()


@pytest.mark.parametrize(
    "args,message",
    [
        (["surface=himmelblau"], "unknown surface 'himmelblau'"),
        (["momentum=1"], "'momentum': 1.0 is out of range; it must be in [0, 1)"),
        (["beta1=-0.1"], "'beta1': -0.1 is out of range"),
        (["beta2=1.0"], "'beta2': 1.0 is out of range"),
        (["lrs=[1,0,1]"], "three learning rates > 0"),
        (["hidden=[]"], "'hidden': the list is empty"),
        (["hidden=[16,0]"], "every value must be >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, message):
    code, out, err = cli("run", "optimizers", *args, "--out", str(tmp_path / "run"))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "run").exists()
