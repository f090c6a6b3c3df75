"""Typed experiment configs: dataclasses whose fields carry their own bounds and help.

Constructors store, `validate` checks (as in scikit-learn: `fit` validates). `parse_overrides`
turns `key=value` strings into typed values and reports bad ones as one line naming the key,
the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from mlplab import safe_yaml
from mlplab.errors import UserError, shown


def param(
    default: Any,
    help: str = "",
    *,
    min: float | None = None,
    max: float | None = None,
    min_exclusive: bool = False,
    item_min: float | None = None,
    item_max: float | None = None,
    nonempty: bool = False,
):
    """A config field with a default, a help text and bounds that `validate` enforces."""
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "min_exclusive": min_exclusive,
        "item_min": item_min,
        "item_max": item_max,
        "nonempty": nonempty,
    }
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda d=default: type(d)(d), metadata=meta)
    return field(default=default, metadata=meta)


MAX_SEED = 2**32 - 1  # the largest seed NumPy's legacy seeding (and so every library here) accepts


@dataclass
class BaseConfig:
    """Keys every experiment shares."""

    dataset: str = param("digits", "registered dataset name (see `mlplab list`)")
    data_dir: str = param("", "dataset folder; empty = $MLPLAB_DATA, then the per-user cache")
    test_size: float = param(
        0.2,
        "a folder:/csv:/hf: source without a test split: the fraction (< 1) or count (>= 1) of examples held out "
        "for testing, drawn with the seed",
        min=0,
        min_exclusive=True,
    )
    skip_bad: bool = param(False, "folder:/hf: sources: skip images that cannot be decoded (the count is reported)")
    seed: int = param(0, "seed for every random choice (same seed, same numbers on CPU)", min=0, max=MAX_SEED)
    device: Literal["auto", "cpu", "cuda"] = param("auto", "where tensors live")
    tensorboard: bool = param(False, "also write per-epoch scalars for TensorBoard into RUN/tensorboard/")

    def validate(self) -> None:
        """Check every field against its type and bounds; raise UserError naming the key."""
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            _check_type(f.name, value, hints[f.name])
            _check_bounds(f.name, value, f.metadata)
        if self.data_dir:
            from mlplab.paths import user_path

            user_path("config key 'data_dir':", self.data_dir)
        self.check()

    def check(self) -> None:
        """Cross-field checks of a subclass (override)."""

    def data_keys(self) -> dict[str, Any]:
        """Which data, split and device: the keys a helper model's config (a judge, a classifier) copies from this
        one, so that it sees the same examples."""
        return {k: getattr(self, k) for k in ("dataset", "data_dir", "test_size", "skip_bad", "seed", "device")}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def help(cls) -> str:
        """Every key with its default, type and help, as `mlplab list EXPERIMENT` prints them."""
        return "\n".join(
            f"  {key:<16} {str(default):<22} {kind}. {text}" for key, kind, default, text in config_help(cls)
        )


def describe_type(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(tp) or (Any,)
        return f"a list of {describe_type(inner)}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in typing.get_args(tp))
    if tp is type(None):
        return "none"
    return {int: "an integer", float: "a number", str: "text", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _matches(value: Any, tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp is Any:
        return True
    if origin is Literal:
        return value in typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in typing.get_args(tp))
    if origin in (list, tuple):
        args = typing.get_args(tp)
        return isinstance(value, (list, tuple)) and all(_matches(v, args[0]) for v in value)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is type(None):
        return value is None
    return isinstance(value, tp)


def _check_type(name: str, value: Any, tp: Any) -> None:
    if not _matches(value, tp):
        hint = f"; e.g. {name}={typing.get_args(tp)[0]}" if typing.get_origin(tp) is Literal else ""
        raise UserError(f"config key {name!r}: {shown(value)} is not {describe_type(tp)}{hint}")
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"config key {name!r}: {shown(value)} is not a finite number")
    if isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, float) and not math.isfinite(item):
                raise UserError(
                    f"config key {name!r}: {shown(item)} in {shown(list(value))} is not a finite number; "
                    "every value must be finite"
                )


def _check_bounds(name: str, value: Any, meta: typing.Mapping[str, Any]) -> None:
    lo, hi = meta.get("min"), meta.get("max")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if lo is not None and (value <= lo if meta.get("min_exclusive") else value < lo):
            op = ">" if meta.get("min_exclusive") else ">="
            raise UserError(
                f"config key {name!r}: {shown(value)} is out of range; it must be {op} {lo}"
                + (f" and <= {hi}" if hi is not None else "")
            )
        if hi is not None and value > hi:
            low = "" if lo is None else (f"> {lo} and " if meta.get("min_exclusive") else f">= {lo} and ")
            raise UserError(f"config key {name!r}: {shown(value)} is out of range; it must be {low}<= {hi}")
    if isinstance(value, (list, tuple)):
        if meta.get("nonempty") and not value:
            raise UserError(f"config key {name!r}: the list is empty; give at least one value, e.g. {name}=[128,64]")
        item_min, item_max = meta.get("item_min"), meta.get("item_max")
        numbers = [v for v in value if isinstance(v, (int, float)) and not isinstance(v, bool)]
        bad = [v for v in numbers if (item_min is not None and v < item_min) or (item_max is not None and v > item_max)]
        if bad:
            rule = " and ".join(
                r
                for r in (
                    f">= {item_min}" if item_min is not None else "",
                    f"<= {item_max}" if item_max is not None else "",
                )
                if r
            )
            raise UserError(
                f"config key {name!r}: {shown(bad[0])} in {shown(list(value))} is out of range; "
                f"every value must be {rule}"
            )


def parse_value(name: str, text: str, tp: Any) -> Any:
    """Turn the text of `key=text` into a value of type `tp` by mlplab's one rule (`safe_yaml`): decimal
    numbers (10, 0.5, 1e-3), lists [16,32], true/false, text; YAML 1.1's surprises (010, 1:0, 0x10, yes) refused."""
    origin = typing.get_origin(tp)
    wants_text = tp is str or (origin is Literal and all(isinstance(a, str) for a in typing.get_args(tp)))
    if wants_text:
        return text
    if _is_index_or_name(tp):
        return index_or_name(text)
    try:
        value = safe_yaml.load(text) if text.strip() else ""
    except safe_yaml.YAMLRefused as exc:
        raise UserError(
            f"config key {name!r}: cannot read {shown(text)} as {describe_type(tp)}: {exc.problem}"
        ) from None
    if (
        _accepts_float(tp)
        and isinstance(value, str)
        and value.strip().lower().lstrip("+-") in ("nan", "inf", "infinity")
    ):
        value = float(value)  # said as "not a finite number", not as "not a number"
    return normalize_value(value, tp)


def normalize_value(value: Any, tp: Any) -> Any:
    """A value read from text or given from Python, in the form the config stores: ints where a float
    is wanted become floats, a number where a list is wanted becomes a one-item list, tuples become lists."""
    origin = typing.get_origin(tp)
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()  # numpy / torch scalars and arrays
    if _is_index_or_name(tp) and isinstance(value, str):
        value = index_or_name(value)
    if isinstance(value, (list, tuple)):
        value = [v.item() if hasattr(v, "item") and getattr(v, "ndim", None) == 0 else v for v in value]
    if _accepts_float(tp) and isinstance(value, int) and not isinstance(value, bool) and not _accepts_int(tp):
        value = float(value)
    if origin in (list, tuple) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]
    if origin in (list, tuple) and isinstance(value, list):
        (inner,) = typing.get_args(tp)[:1] or (Any,)
        if inner is float:
            value = [float(v) if isinstance(v, int) and not isinstance(v, bool) else v for v in value]
    return value


def _is_index_or_name(tp: Any) -> bool:
    """`int | str`: a class given by its index or by its name."""
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and set(typing.get_args(tp)) == {int, str}


def index_or_name(text: str) -> int | str:
    """The value of an `int | str` key: text that reads as an integer is that integer (an index), any other
    text is kept as written (a name), so `digit=2` is the index 2 and `digit=Ankle boot` the name."""
    try:
        value = safe_yaml.load(text) if text.strip() else text
    except safe_yaml.YAMLRefused:
        return text
    return value if isinstance(value, int) and not isinstance(value, bool) else text


def _accepts_float(tp: Any) -> bool:
    if tp is float:
        return True
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and float in typing.get_args(tp)


def _accepts_int(tp: Any) -> bool:
    if tp is int:
        return True
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and int in typing.get_args(tp)


def parse_overrides(
    cls: type[BaseConfig], items: list[str], base: dict[str, Any] | None = None, typed: dict[str, Any] | None = None
) -> BaseConfig:
    """Build `cls` from `base` values, `key=value` strings and then `typed` Python values (the API's
    keywords), and validate it: the same checks and messages whichever way a value came in. A `preset=NAME`
    given here (not one inherited from `base`) first sets the keys of `cls.PRESETS[NAME]`; keys given
    explicitly win over the preset's."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    values: dict[str, Any] = {key: value for key, value in (base or {}).items() if key in names}
    explicit: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, str) or "=" not in item:
            raise UserError(f"expected key=value, got {shown(item)}; for example epochs=5")
        key, text = item.split("=", 1)
        key = _known_key(key, names)
        if key in explicit:
            raise UserError(f"config key {key!r} is given twice; give it once, e.g. {key}={shown(text, quote=False)}")
        explicit[key] = parse_value(key, text, hints[key])
    for key, value in (typed or {}).items():
        key = _known_key(key, names)
        if key in explicit:
            raise UserError(f"config key {key!r} is given twice (as key=value and as a keyword); give it once")
        explicit[key] = normalize_value(value, hints[key])
    if explicit.get("preset", "none") != "none":
        dataset = explicit.get("dataset", values.get("dataset", _default(cls, "dataset")))
        values.update(preset_values(cls, explicit["preset"], dataset))
    values.update(explicit)
    cfg = cls(**values)
    cfg.validate()
    return cfg


def preset_values(cls: type[BaseConfig], name: str, dataset: str | None = None) -> dict[str, Any]:
    """The keys a named preset of `cls` sets on `dataset` (UserError for a name it does not have). A preset is
    a dict of keys, or a function of the dataset's name returning one (a recipe tuned per dataset)."""
    presets = getattr(cls, "PRESETS", {})
    if name not in presets:
        choices = ", ".join(["none", *presets]) if presets else "none (this experiment has no presets)"
        raise UserError(f"config key 'preset': unknown preset {shown(name)}; choose {choices}")
    preset = presets[name]
    return dict(preset(dataset) if callable(preset) else preset)


def _default(cls: type[BaseConfig], key: str) -> Any:
    f = cls.__dataclass_fields__[key]
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _known_key(key: str, names: list[str]) -> str:
    if not isinstance(key, str):
        raise UserError(f"config keys are text, got {shown(key)}; this experiment takes: {', '.join(names)}")
    key = key.strip().replace("-", "_")
    if key not in names:
        from difflib import get_close_matches

        hint = get_close_matches(key, names, n=1) if key else []
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise UserError(f"unknown config key {shown(key)}{did}; this experiment takes: {', '.join(names)}")
    return key


def config_help(cls: type[BaseConfig]) -> list[tuple[str, str, Any, str]]:
    """(key, type, default, help) for every field, for `mlplab list EXPERIMENT`."""
    hints = typing.get_type_hints(cls)
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        rows.append((f.name, describe_type(hints[f.name]), default, f.metadata.get("help", "")))
    return rows


def format_overrides(config: dict[str, Any]) -> list[str]:
    """The `key=value` strings that `parse_overrides` reads back as `config` (the inverse, for commands)."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return "null"
        if isinstance(value, (list, tuple, dict)):
            return json.dumps(value, separators=(",", ":"))
        return str(value) if not isinstance(value, float) else repr(value)

    return [f"{k}={text(v)}" for k, v in config.items() if k != "experiment"]
