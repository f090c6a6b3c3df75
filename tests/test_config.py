"""Config parsing and validation: typed values, bounds, and one-line errors naming key and value."""

import pytest

from mlplab.config import parse_overrides
from mlplab.errors import UserError
from mlplab.experiments.classify import ClassifyConfig


def test_overrides_are_typed():
    cfg = parse_overrides(
        ClassifyConfig,
        ["hidden=[1024,2048,256]", "lr=1e-3", "epochs=3", "optimizer=sgd", "dropout=0", "augment=[crop,flip]"],
    )
    assert cfg.hidden == [1024, 2048, 256]
    assert cfg.lr == pytest.approx(1e-3) and isinstance(cfg.lr, float)
    assert cfg.epochs == 3 and cfg.optimizer == "sgd"
    assert cfg.dropout == 0.0 and isinstance(cfg.dropout, float)
    assert cfg.augment == ["crop", "flip"]


@pytest.mark.parametrize(
    "text, value",
    [
        ("2", 2),
        (" 2 ", 2),
        ("Trouser", "Trouser"),
        ("Ankle boot", "Ankle boot"),
        ("T-shirt/top", "T-shirt/top"),
        ("yes", "yes"),  # YAML 1.1's boolean: a name here, not a refusal
        ("2.0", "2.0"),  # no integer, so a name
        ("null", "null"),
        ("a #b", "a #b"),  # kept as written, not cut at a YAML comment
    ],
)
def test_an_index_or_name_key_reads_integers_as_indices_and_all_else_as_names(text, value):
    from mlplab.experiments.one_vs_rest import OneVsRestConfig

    cfg = parse_overrides(OneVsRestConfig, [f"digit={text}"])
    assert cfg.digit == value and type(cfg.digit) is type(value)
    # the same rule for a Python value (the API's keyword) and for the command a run records
    assert parse_overrides(OneVsRestConfig, [], typed={"digit": text}).digit == value
    from mlplab.config import format_overrides

    assert parse_overrides(OneVsRestConfig, format_overrides({"digit": value})).digit == value


def test_single_hidden_size_becomes_a_list():
    assert parse_overrides(ClassifyConfig, ["hidden=64"]).hidden == [64]


@pytest.mark.parametrize(
    "item, words",
    [
        ("lr=0", ["'lr'", "0", "> 0"]),
        ("lr=-1", ["'lr'", "-1"]),
        ("epochs=0", ["'epochs'", ">= 1"]),
        ("batch_size=0", ["'batch_size'", ">= 1"]),
        ("hidden=[]", ["'hidden'", "empty"]),
        ("hidden=[64,0]", ["'hidden'", "0", ">= 1"]),
        ("hidden=[64,-3]", ["'hidden'", "-3"]),
        ("epochs=two", ["'epochs'", "'two'", "integer"]),
        ("epochs=2.5", ["'epochs'", "integer"]),
        ("optimizer=rmsprop", ["'optimizer'", "rmsprop", "adam"]),
        ("epoch=3", ["'epoch'", "did you mean 'epochs'"]),
        ("lr", ["key=value"]),
        ("dropout=1.5", ["'dropout'", "<= 0.95"]),
        ("lr=nan", ["'lr'", "finite"]),
        # YAML 1.1 forms that would change a value silently are refused with what to write (issue 23)
        ("epochs=010", ["'epochs'", "'010'", "leading zero", "write 10"]),  # YAML 1.1: 8 epochs
        ("epochs=1:0", ["'epochs'", "'1:0'", "is 60", "write 60"]),  # YAML 1.1: 60 epochs
        ("epochs=0x10", ["'epochs'", "write 16"]),
        ("epochs=0o10", ["'epochs'", "write 8"]),
        ("epochs=0b11", ["'epochs'", "write 3"]),
        ("epochs=1_000", ["'epochs'", "write 1000"]),
        ("epochs=-010", ["'epochs'", "write -10"]),
        ("hidden=[16,010]", ["'hidden'", "'010'", "write 10"]),
        ("lr=1_0.5", ["'lr'", "digit separators"]),
        ("tensorboard=yes", ["'tensorboard'", "'yes'", "true or false"]),
        ("tensorboard=off", ["'tensorboard'", "'off'", "true or false"]),
        ("epochs=!!int 010", ["'epochs'", "tag"]),
    ],
)
def test_bad_values_name_key_value_and_rule(item, words):
    with pytest.raises(UserError) as err:
        parse_overrides(ClassifyConfig, [item])
    message = str(err.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
