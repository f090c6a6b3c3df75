"""The grid of a sweep: `key=v1,v2` axes, their product as trials, every value validated up front.

Syntax: values are separated by commas outside brackets, so list-valued keys keep theirs:
`hidden=[256,128],[1024,1024]` is two values. A `;` separates values too (quote it in a shell):
`'hidden=[256,128];[1024,1024]'`. A key with one value is fixed for every trial. `seed` is the
replicate axis: trials that differ only in their seed form one grid point of the summary.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

from mlplab.errors import UserError

SEED = "seed"


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its index in grid order, its grid point and its `key=value` overrides."""

    index: int
    point: int
    seed: str
    overrides: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.index:03d}"


@dataclass
class Grid:
    """The axes (key -> value texts, in the user's order) of one experiment's sweep."""

    experiment: str
    axes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def varying(self) -> list[str]:
        """Keys with more than one value, other than the seed: the columns that tell grid points apart."""
        return [k for k, v in self.axes.items() if len(v) > 1 and k != SEED]

    @property
    def seeds(self) -> list[str]:
        return self.axes.get(SEED, [])

    def points(self) -> list[dict[str, str]]:
        """Grid points (every axis but the seed), in the order the values were given."""
        keys = [k for k in self.axes if k != SEED]
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(self.axes[k] for k in keys))]

    def trials(self) -> list[Trial]:
        """Every (point, seed) pair; the seeds of one point are adjacent."""
        seeds = self.seeds or [None]
        out = []
        for p, point in enumerate(self.points()):
            for seed in seeds:
                overrides = [f"{k}={v}" for k, v in point.items()] + ([f"{SEED}={seed}"] if seed is not None else [])
                out.append(Trial(len(out), p, "" if seed is None else seed, tuple(overrides)))
        return out

    def fingerprint(self) -> str:
        """Short hash of the experiment and axes: the same command gives the same default sweep folder."""
        text = json.dumps({"experiment": self.experiment, "axes": self.axes}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:10]

    def to_dict(self) -> dict:
        return {"experiment": self.experiment, "axes": {k: list(v) for k, v in self.axes.items()}}


def split_values(text: str) -> list[str]:
    """`a,[1,2],b` -> ['a', '[1,2]', 'b']: split at commas and semicolons outside brackets."""
    values, depth, current = [], 0, []
    for ch in text:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
            if depth < 0:
                raise UserError(f"unbalanced brackets in {text!r}")
        if ch in ",;" and depth == 0:
            values.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise UserError(f"unbalanced brackets in {text!r}; close every '[' (e.g. hidden=[256,128],[64])")
    values.append("".join(current).strip())
    return values


def parse_grid(experiment: str, items: list[str]) -> Grid:
    """Turn `key=v1,v2` strings into a Grid; UserError for a malformed item, a repeated key or an empty value."""
    grid = Grid(experiment)
    for item in items:
        if "=" not in item:
            raise UserError(f"expected key=v1,v2,..., got {item!r}; for example seed=0,1,2")
        key, text = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if not key:
            raise UserError(f"{item!r} has no key; write key=v1,v2")
        if key in grid.axes:
            raise UserError(f"key {key!r} is given twice; list all its values once, e.g. {key}=a,b")
        values = split_values(text)
        if not text.strip() or any(v == "" for v in values):
            raise UserError(
                f"key {key!r} has an empty value list or an empty value in {text!r}; "
                f"give at least one value, e.g. {key}=a,b"
            )
        if len(set(values)) != len(values):
            raise UserError(f"key {key!r} lists a value twice in {text!r}; each grid value must be distinct")
        grid.axes[key] = values
    return grid


def validate(grid: Grid) -> list[Trial]:
    """Parse every trial's overrides against the experiment's config (the one `mlplab run` uses) before any runs."""
    from mlplab.config import parse_overrides
    from mlplab.experiments import EXPERIMENTS

    exp = EXPERIMENTS.get(grid.experiment)
    first = {k: v[0] for k, v in grid.axes.items()}
    for key, values in grid.axes.items():  # one axis at a time first: the message names the value at fault
        for value in values:
            try:
                parse_overrides(exp.config, [f"{k}={v}" for k, v in {**first, key: value}.items()])
            except UserError as exc:
                raise UserError(f"{exc} (in the sweep value {key}={value})") from None
    trials = grid.trials()
    for trial in trials:  # then every combination, for the cross-field checks
        try:
            parse_overrides(exp.config, list(trial.overrides))
        except UserError as exc:
            raise UserError(f"{exc} (in the grid point {' '.join(trial.overrides)})") from None
    return trials
