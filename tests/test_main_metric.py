"""The one main-metric rule (mlplab.main_metric) that the run page, the sweeps and the trainer share."""

from __future__ import annotations

import pytest

from mlplab.main_metric import goal, main_metric, main_numbers
from mlplab.report.page.registry import main_patterns
from mlplab.report.page.summary import main_metrics
from mlplab.sweeps import main_metric as sweep_main_metric


@pytest.mark.parametrize(
    "name, expected",
    [
        ("test_accuracy", "max"),
        ("network/Adam/test_accuracy", "max"),
        ("decent_fraction", "max"),
        ("auroc_noise", "max"),
        ("f1", "max"),
        ("val_loss", "min"),
        ("ae_mse_k8", "min"),
        ("denoising_sse_per_image_gaussian", "min"),
        ("max_rel_error_autograd", "min"),
        ("train_seconds", None),
        ("pca_components_for_90pct", None),
    ],
)
def test_goal_reads_the_direction_from_the_name(name, expected):
    assert goal(name) == expected


def test_a_listed_main_number_ranks_before_the_generic_rule():
    metrics = {"judge_test_accuracy": 0.99, "decent_fraction": 0.7, "recall": 0.5, "train_seconds": 3.0}
    assert main_metric(metrics) == ("judge_test_accuracy", "max")  # the generic rule alone
    assert main_metric(metrics, ("decent_fraction", "recall")) == ("decent_fraction", "max")
    # a listed number without a direction is passed over for the next listed one
    assert main_metric({"k": 3, "test_mse": 0.1}, ("k", "test_mse")) == ("test_mse", "min")


def test_without_a_list_the_page_leads_with_the_metric_that_ranks():
    metrics = {"train_loss": 0.3, "test_accuracy": 0.9, "accuracy": 0.8, "parameters": 10}
    assert main_metric(metrics) == ("test_accuracy", "max")
    assert [k for k, _ in main_numbers(metrics)] == ["test_accuracy", "train_loss", "accuracy"]


def test_page_and_sweep_agree_for_every_registered_experiment():
    """For each experiment the sweep ranks by the first main number of the run page that has a direction."""
    from mlplab.report import MAIN_NUMBERS, discover

    discover()
    for name in MAIN_NUMBERS.names():
        patterns = main_patterns(name)
        metrics = {p.replace("*", "x"): 0.5 for p in patterns} | {"test_accuracy": 0.1}
        shown = [k for k, _ in main_metrics(name, metrics)]
        ranked = sweep_main_metric(metrics, name)
        first = next((k for k in shown if goal(k)), None)
        assert ranked is not None and ranked[0] == (first or "test_accuracy"), name
