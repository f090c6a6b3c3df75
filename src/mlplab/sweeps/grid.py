"""The grid of a sweep: `key=v1,v2` axes, their product as trials, every value validated up front.

Syntax: values are separated by commas outside brackets, so list-valued keys keep theirs:
`hidden=[256,128],[1024,1024]` is two values. A `;` separates values too (quote it in a shell):
`'hidden=[256,128];[1024,1024]'`. A key with one value is fixed for every trial. `seed` is the
replicate axis: trials that differ only in their seed form one grid point of the summary.
`mlplab.sweep` gives its values already apart (`axes_grid`): a Python value is never split.

Every value is read by `config.parse_overrides`, the rule of `mlplab run`, and a trial is identified by
what its values read as (its `key`), never by its position: the same sweep typed with its keys in another
order finds its finished trials, and two spellings of one value (`seed=0,00`) are refused.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field, replace
from typing import Any

from mlplab.errors import UserError

SEED = "seed"


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its index (in the order of the sorted keys, seed last, so the same whatever order
    the keys were typed in), its grid point, its `key=value` overrides and, once validated, its `key`: the
    parsed values of its keys as sorted JSON, which is what identifies it in the ledger and the summary."""

    index: int
    point: int
    seed: str
    overrides: tuple[str, ...]
    key: str = ""

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
        order = sorted(k for k in self.axes if k != SEED) + ([SEED] if SEED in self.axes else [])
        out = []
        for p, point in enumerate(self.points()):
            for seed in seeds:
                chosen = {**point, **({SEED: seed} if seed is not None else {})}
                index = 0
                for k in order:  # mixed radix over the sorted keys: the id does not depend on the typed order
                    index = index * len(self.axes[k]) + self.axes[k].index(chosen[k])
                overrides = [f"{k}={v}" for k, v in chosen.items()]
                out.append(Trial(index, p, "" if seed is None else seed, tuple(overrides)))
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
        if not isinstance(item, str):
            raise UserError(f"expected key=v1,v2,... as text, got {item!r}; for example seed=0,1,2")
        if "=" not in item:
            raise UserError(f"expected key=v1,v2,..., got {item!r}; for example seed=0,1,2")
        key, text = item.split("=", 1)
        values = split_values(text)
        if not text.strip() or any(v == "" for v in values):
            raise UserError(
                f"key {_key(key)!r} has an empty value list or an empty value in {text!r}; "
                f"give at least one value, e.g. {_key(key) or 'key'}=a,b"
            )
        _add_axis(grid, key, values, f"in {text!r}")
    return grid


def axes_grid(experiment: str, axes: dict[str, list[str]]) -> Grid:
    """A Grid from values that are already apart (`mlplab.sweep`'s): no text is split at `,` or `;`."""
    grid = Grid(experiment)
    for key, values in axes.items():
        if not isinstance(key, str):
            raise UserError(f"grid keys are config key names (text), got {key!r}; e.g. grid={{'lr': [1e-3, 1e-2]}}")
        if not isinstance(values, list) or not values:
            raise UserError(f"grid[{key!r}] must be a non-empty list of values, e.g. grid={{{key!r}: [a, b]}}")
        if not all(isinstance(v, str) for v in values):
            raise UserError(f"grid[{key!r}]: every value must be given as text here, got {values!r}")
        _add_axis(grid, key, values, f"in {values!r}")
    return grid


def _key(text: str) -> str:
    return text.strip().replace("-", "_")


def _add_axis(grid: Grid, key: str, values: list[str], where: str) -> None:
    name = _key(key)
    if not name:
        raise UserError(f"{key + '=' + ','.join(values)!r} has no key; write key=v1,v2")
    if name in grid.axes:
        raise UserError(f"key {name!r} is given twice; list all its values once, e.g. {name}=a,b")
    if len(set(values)) != len(values):
        raise UserError(f"key {name!r} lists a value twice {where}; each grid value must be distinct")
    grid.axes[name] = list(values)


def validate(grid: Grid) -> list[Trial]:
    """Parse every trial's overrides against the experiment's config (the one `mlplab run` uses) before any runs;
    refuse a value that reads as another value of its key; return the trials with their keys."""
    from mlplab.experiments import EXPERIMENTS

    exp = EXPERIMENTS.get(grid.experiment)
    first = {k: v[0] for k, v in grid.axes.items()}
    for key, values in grid.axes.items():  # one axis at a time first: the message names the value at fault
        seen: dict[str, str] = {}
        for value in values:
            cfg = _parse(exp.config, {**first, key: value}, f"the sweep value {_shown(f'{key}={value}')}")
            read = _canonical(getattr(cfg, key))
            if read in seen:
                raise UserError(
                    f"key {key!r} lists one value twice: {_shown(repr(seen[read]))} and {_shown(repr(value))} both "
                    f"read as {_shown(read)}; "
                    "each grid value must be distinct"
                )
            seen[read] = value
    trials = []
    for trial in grid.trials():  # then every combination, for the cross-field checks
        cfg = _parse(
            exp.config,
            dict(o.split("=", 1) for o in trial.overrides),
            f"the grid point {_shown(' '.join(trial.overrides))}",
        )
        trials.append(replace(trial, key=_canonical({k: getattr(cfg, k) for k in grid.axes})))
    return trials


def _parse(config: type, values: dict[str, str], where: str) -> Any:
    """`config.parse_overrides` (the rule of `mlplab run`) on `key=value` texts; its UserError says where."""
    from mlplab.config import parse_overrides

    try:
        return parse_overrides(config, [f"{k}={v}" for k, v in values.items()])
    except UserError as exc:
        raise UserError(f"{exc} (in {where})") from None
    except (ValueError, RecursionError) as exc:  # a text YAML cannot make a value of (a date like 2001-02-30)
        raise UserError(f"cannot read {where}: {type(exc).__name__}: {_shown(str(exc))}") from None


def _shown(text: str, limit: int = 80) -> str:
    """`text` on one line and at most `limit` characters, for a message."""
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _canonical(value: Any) -> str:
    """A parsed value (or a trial's values by key) as one text: equal values, equal texts."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr)


def trial_key(experiment: str, record: dict[str, Any]) -> str | None:
    """The key of the trial a trials.jsonl line (or trial.json) records: its `settings`, or for a line written
    before they were recorded, what its overrides read as; None for a line that says neither."""
    settings = record.get("settings")
    if isinstance(settings, dict):
        return _canonical(settings)
    overrides = record.get("overrides")
    if not isinstance(overrides, list) or not all(isinstance(o, str) and "=" in o for o in overrides):
        return None
    from mlplab.config import parse_overrides
    from mlplab.experiments import EXPERIMENTS

    try:
        cfg = parse_overrides(EXPERIMENTS.get(experiment).config, overrides)
    except UserError:
        return None
    return _canonical({k: getattr(cfg, k) for k in (_key(o.split("=", 1)[0]) for o in overrides)})
