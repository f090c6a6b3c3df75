"""Fuzz (issue 23): parse_overrides and the YAML reader under random and hostile inputs end in a valid config,
a value, or one UserError line, never an internal error, a hang or a flood of memory."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlplab.config import parse_overrides
from mlplab.errors import UserError
from mlplab.experiments.classify import ClassifyConfig
from mlplab.runs import Run

KEYS = [f.name for f in dataclasses.fields(ClassifyConfig)]

scalars = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.integers(min_value=0, max_value=10**6).map(lambda n: "0" + str(n)),  # leading zeros
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.from_regex(r"[-+]?[0-9_]{1,6}(:[0-9]{1,2}){0,3}(\.[0-9_]*)?([eE][-+]?[0-9]{1,4})?", fullmatch=True),
    st.from_regex(r"0[xXoObB][0-9a-fA-F_]{1,8}", fullmatch=True),
    st.sampled_from(["yes", "no", "on", "off", "y", "n", "true", "False", "null", "~", ".inf", "-.nan", "=", "<<"]),
    st.text(max_size=12),
    st.just("9" * 5000),
)


def _nest(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.lists(st.tuples(st.text("abc", min_size=1, max_size=3), inner), max_size=3).map(
            lambda kv: "{" + ",".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
    )


hostile = st.one_of(
    st.recursive(scalars, _nest, max_leaves=20),
    st.integers(min_value=1, max_value=20000).map(lambda n: "[" * n + "]" * n),
    st.integers(min_value=1, max_value=20000).map(lambda n: "{a: " * n + "1" + "}" * n),
    st.integers(min_value=1, max_value=12).map(
        lambda n: "[&a [x,x,x,x,x,x,x,x,x], " + ", ".join(f"&a{i} [{','.join(['*a'] * 9)}]" for i in range(n)) + "]"
    ),
    st.sampled_from(["!!python/object/apply:os.system ['true']", "!!int 010", "*undefined", "&a", "[1, *a]"]),
    st.text(),  # any unicode, control characters, surrogates excluded by text()
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), text=hostile)
def test_parse_overrides_ends_in_a_config_or_one_user_error_line(key, text):
    try:
        cfg = parse_overrides(ClassifyConfig, [f"{key}={text}"])
    except UserError as exc:
        message = str(exc)
        assert "\n" not in message and len(message) < 2000, message
        return
    assert isinstance(cfg, ClassifyConfig)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=hostile)
def test_the_yaml_reader_ends_in_a_value_or_one_refusal(text):
    from mlplab import safe_yaml

    try:
        safe_yaml.load(text)
    except safe_yaml.YAMLRefused as exc:
        assert "\n" not in exc.problem and len(exc.problem) < 2000, exc.problem


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz-run")
    (path / "config.yaml").write_text("experiment: classify\n")
    return path


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=hostile)
def test_a_hostile_config_yaml_reads_as_a_dict_or_a_damaged_file(folder, text):
    (folder / "config.yaml").write_text("experiment: classify\nhidden: " + text + "\n", errors="surrogatepass")
    try:
        config = Run.open(folder).config
    except UserError as exc:
        assert "\n" not in str(exc) and "config.yaml" in str(exc)
        return
    assert isinstance(config, dict)
