"""Search spaces as written on the command line, checked against the experiment's config before any trial.

`lr=loguniform(1e-4,1e-2)`, `dropout=uniform(0,0.5)`, `epochs=int(5,40)` and
`hidden=choice([256],[512,256],[1024,1024])` are spaces; any other `key=value` is a fixed key, the same for
every trial (`dataset=fashion-mnist`). A space is checked against its key's type (a number space on a number
key, `int` on an integer key, each `choice` value read as `mlplab run` reads it) and its ends or values against
the key's bounds, by `config.parse_overrides` itself, so the messages are those of `mlplab run`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from mlplab.config import describe_type, format_overrides, parse_overrides, parse_value
from mlplab.errors import UserError
from mlplab.sweeps.grid import split_values

KINDS = ("loguniform", "uniform", "int", "choice")
_SPACE = re.compile(r"^\s*(loguniform|uniform|int|choice)\s*\((.*)\)\s*$", re.DOTALL)
NOT_SEARCHED = ("seed", "preset")  # the search runs one seed (fresh ones confirm); a preset is a set of keys


@dataclass(frozen=True)
class Space:
    """One searched key: its kind and its ends (low, high) or its choices (the texts `mlplab run` reads)."""

    key: str
    kind: str
    low: float | int | None = None
    high: float | int | None = None
    choices: tuple[str, ...] = ()

    def text(self) -> str:
        """As the command line writes it: lr=loguniform(0.0001,0.01)."""
        inner = ",".join(self.choices) if self.kind == "choice" else f"{self.low!r},{self.high!r}"
        return f"{self.key}={self.kind}({inner})"

    def distribution(self):
        """The Optuna distribution this space samples from (a choice samples its value texts)."""
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

        if self.kind == "choice":
            return CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            return IntDistribution(int(self.low), int(self.high))
        return FloatDistribution(float(self.low), float(self.high), log=self.kind == "loguniform")

    def override(self, value: Any) -> str:
        """The `key=value` text of a sampled value."""
        if self.kind == "choice":
            return f"{self.key}={value}"
        return format_overrides({self.key: value})[0]

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, ())} | {
            "choices": list(self.choices)
        }


@dataclass(frozen=True)
class SearchSpace:
    """An experiment, its searched keys and its fixed keys (as `key=value` texts, in the user's order)."""

    experiment: str
    spaces: tuple[Space, ...]
    fixed: tuple[str, ...]

    @property
    def keys(self) -> list[str]:
        return [s.key for s in self.spaces]

    def distributions(self) -> dict[str, Any]:
        return {s.key: s.distribution() for s in self.spaces}

    def overrides(self, params: dict[str, Any]) -> list[str]:
        """The `key=value` texts of one trial: the fixed keys, then the sampled ones."""
        return [*self.fixed, *(s.override(params[s.key]) for s in self.spaces)]

    def to_dict(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "space": [s.text() for s in self.spaces], "fixed": list(self.fixed)}

    def fingerprint(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]


def parse_space(experiment: str, items: list[str]) -> SearchSpace:
    """Read `key=SPACE` and `key=value` items and check every one against the experiment's config; UserError
    (the line `mlplab run` would print, naming the space) for the first that is wrong."""
    from mlplab.experiments import EXPERIMENTS

    cls = EXPERIMENTS.get(experiment).config
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    fixed, raw, seen = [], [], set()
    for item in items:
        if "=" not in item:
            raise UserError(f"expected key=SPACE or key=value, got {item!r}; for example lr=loguniform(1e-4,1e-2)")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in names:
            parse_overrides(cls, [item])  # the unknown-key line of `mlplab run`, with its did-you-mean
        if key in seen:
            raise UserError(f"key {key!r} is given twice; give it once, as a space or as a fixed value")
        seen.add(key)
        match = _SPACE.match(text)
        if match is None:
            fixed.append(f"{key}={text}")
        else:
            raw.append((key, match.group(1), match.group(2), item))
    parse_overrides(cls, fixed)  # the fixed keys alone, as `mlplab run` would
    if not raw:
        raise UserError(
            "no key to search: give at least one space, e.g. lr=loguniform(1e-4,1e-2) or hidden=choice([256],[512])"
        )
    spaces = tuple(_space(cls, hints[key], key, kind, inner, item, fixed) for key, kind, inner, item in raw)
    return SearchSpace(experiment, spaces, tuple(fixed))


def _space(cls, tp: Any, key: str, kind: str, inner: str, item: str, fixed: list[str]) -> Space:
    where = f" (in the space {item})"
    if key in NOT_SEARCHED:
        raise UserError(
            f"{key!r} cannot be searched{where}: the search runs one seed and the confirmation fresh ones; "
            f"fix it instead, e.g. {key}=0"
            if key == "seed"
            else f"{key!r} cannot be searched{where}; fix it instead"
        )
    values = split_values(inner) if inner.strip() else []
    if kind == "choice":
        if not values or any(v == "" for v in values):
            raise UserError(
                f"{key}=choice() has no value{where}; give at least one, e.g. {key}=choice(a,b)"
                if not values
                else f"{key}=choice(...) has an empty value{where}; separate values with single commas"
            )
        parsed = [json.dumps(parse_value(key, v, tp), sort_keys=True) for v in values]
        if len(set(parsed)) != len(parsed):
            raise UserError(f"{key}=choice(...) lists a value twice{where}; each choice must be distinct")
        for value in values:
            _check(cls, fixed, f"{key}={value}", where)
        return Space(key, kind, choices=tuple(values))
    if len(values) != 2:
        raise UserError(f"{key}={kind}(...) takes two bounds, low and high{where}; e.g. {key}={kind}(1,10)")
    wanted = int if kind == "int" else float
    if not _takes(tp, wanted):
        if kind != "int" and _takes(tp, int):
            hint = f"write {key}=int(a,b)"
        elif kind == "int" and _takes(tp, float):
            hint = f"write {key}=uniform(a,b)"
        else:
            hint = f"write {key}=choice(a,b,...)"
        raise UserError(
            f"config key {key!r} is {describe_type(tp)}, so {kind}(...) cannot draw its values{where}; {hint}"
        )
    low, high = (parse_value(key, v, float) for v in values)
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise UserError(f"config key {key!r}: {bound!r} is not a number{where}")
        if kind == "int" and not float(bound).is_integer():
            raise UserError(
                f"config key {key!r}: {bound!r} is not an integer{where}; int(low,high) takes whole numbers"
            )
    if kind == "int":
        low, high = int(low), int(high)
    if kind == "loguniform" and (low <= 0 or high <= 0):
        raise UserError(f"{key}=loguniform({values[0]},{values[1]}): both bounds must be > 0{where}; e.g. 1e-4")
    if not low < high:
        raise UserError(f"{key}={kind}({values[0]},{values[1]}): low must be below high{where}")
    for bound in (low, high):
        _check(cls, fixed, format_overrides({key: bound})[0], where)
    return Space(key, kind, low, high)


def _takes(tp: Any, wanted: type) -> bool:
    """Whether a config field of type `tp` takes a number of type `wanted` (float fields take ints too)."""
    args = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    if wanted is int:
        return int in args
    return float in args


def _check(cls, fixed: list[str], item: str, where: str) -> None:
    try:
        parse_overrides(cls, [*fixed, item])
    except UserError as exc:
        raise UserError(f"{exc}{where}") from None
