"""The one YAML reader (and writer) of mlplab: command-line values, config.yaml, sweep.yaml.

Plain scalars are read by one rule users expect (YAML 1.2's core schema, not PyYAML's YAML 1.1):
decimal integers (`10`, `-3`), decimal floats (`0.5`, `1e-3`, `.inf`, `.nan`), `true`/`false`, `null`/`~`,
and text. The YAML 1.1 forms that would silently change a value are refused with what to write instead:
leading-zero integers (`010`, octal 8 in YAML 1.1), base 60 (`1:0` = 60), `0x10`, `0o10`, `0b10`,
digit separators (`1_000`), and `yes`/`no`/`on`/`off` as booleans. Anchors and aliases (`&a`, `*a`: a few
hundred bytes can expand to gigabytes), explicit tags (`!!int`, `!!python/...`), nesting deeper than
MAX_DEPTH and texts longer than MAX_CHARS are refused too. Every refusal is a `YAMLRefused` (a UserError)
with a one-line `problem`; callers say which key or file it came from.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import ScalarNode

from mlplab.errors import UserError, shown

MAX_DEPTH = 20  # configs nest two levels (a list of lists at most); 20 leaves room and no recursion risk
MAX_CHARS = 1_000_000  # a resolved config.yaml is a few kB
MAX_DIGITS = 400  # an integer longer than this is no setting (and Python refuses to read 4300+ digits)

_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?\Z|[-+]?[0-9]+[eE][-+]?[0-9]+\Z"
    r"|[-+]?\.(?:inf|Inf|INF)\Z|\.(?:nan|NaN|NAN)\Z"
)
_BOOL = re.compile(r"(?:true|True|TRUE|false|False|FALSE)\Z")
_NULL = re.compile(r"(?:~|null|Null|NULL|)\Z")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_LEADING_ZERO = re.compile(r"[-+]?0[0-9_]+\Z")
_BASE = re.compile(r"[-+]?0(?:[xX][0-9a-fA-F_]+|[oO][0-7_]+|[bB][01_]+)\Z")
_SEPARATED = re.compile(r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)(?:[eE][-+]?[0-9]+)?\Z")
_YES_NO = re.compile(r"(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)\Z")


class YAMLRefused(UserError):
    """YAML mlplab will not read: `problem` says what and what to write instead; `line` is 1-based or None."""

    def __init__(self, problem: str, line: int | None = None):
        self.problem, self.line = problem, line
        super().__init__(problem + (f" (line {line})" if line is not None else ""))


def _surprise(text: str) -> str | None:
    """What a plain scalar means in YAML 1.1 that a reader would not expect, with what to write; None if fine."""
    if _INT.match(text) or _FLOAT.match(text):
        return None
    if _SEXAGESIMAL.match(text):
        return f"{shown(text)} is {_base60(text)} in YAML 1.1 (base 60); write {_base60(text)}, or quote it as text"
    if _BASE.match(text):
        try:
            value = f"; write {int(text.replace('_', ''), 0)}"
        except ValueError:
            value = ""
        return f"{shown(text)} is not a decimal number{value} (only decimal numbers are read)"
    if _LEADING_ZERO.match(text):
        digits = text.replace("_", "").lstrip("+-").lstrip("0") or "0"
        sign = "-" if text.startswith("-") else ""
        return f"{shown(text)} has a leading zero (octal in YAML 1.1); write {sign}{digits}"
    if "_" in text and _SEPARATED.match(text):
        return f"{shown(text)} has digit separators; write {text.replace('_', '')}"
    if _YES_NO.match(text):
        return f"{shown(text)} is a boolean in YAML 1.1; write true or false (or quote it as text)"
    return None


def _base60(text: str) -> str:
    """YAML 1.1's reading of a base-60 number (`1:0` = 60, `1:30.5` = 90.5), as text."""
    sign = -1 if text.startswith("-") else 1
    value = 0.0 if "." in text else 0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        value = value * 60 + (float(part) if "." in part else int(part))
    return repr(sign * value)


class _Resolver(yaml.resolver.BaseResolver):
    """YAML 1.2 core schema for plain scalars (see the module's docstring)."""


for _tag, _regex, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    _Resolver.add_implicit_resolver(_tag, _regex, list(_first))


class _Constructor(yaml.constructor.SafeConstructor):
    def construct_yaml_int(self, node: ScalarNode) -> int:
        if len(node.value) > MAX_DIGITS:
            raise YAMLRefused(f"a number with {len(node.value)} digits; no setting needs more than {MAX_DIGITS}")
        return int(node.value)

    def construct_yaml_float(self, node: ScalarNode) -> float:
        text = node.value.lower()
        if text.endswith(("inf", "nan")):
            return float(text.replace(".", ""))
        return float(text)

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key is not None and key in seen:
                raise YAMLRefused(f"gives the key {shown(key)} twice; keep one", key_node.start_mark.line + 1)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Constructor.add_constructor("tag:yaml.org,2002:int", _Constructor.construct_yaml_int)
_Constructor.add_constructor("tag:yaml.org,2002:float", _Constructor.construct_yaml_float)


class _Loader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer, _Constructor, _Resolver
):
    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)
        self.depth = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent) or event.anchor is not None:
            raise YAMLRefused("uses an anchor or alias (&name, *name); write the value out in full", line)
        if getattr(event, "tag", None) is not None:
            raise YAMLRefused(f"uses the YAML tag {shown(event.tag)}; write plain values without tags", line)
        if isinstance(event, ScalarEvent) and event.style is None and (problem := _surprise(event.value)):
            raise YAMLRefused(problem, line)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise YAMLRefused(f"nests deeper than {MAX_DEPTH} levels", line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


class _Dumper(yaml.SafeDumper):
    """PyYAML's safe dumper, quoting every text that `load` would not read back as that text."""


_Dumper.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789."))
_Dumper.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"[-+]?[0-9][0-9_]*\Z"), list("-+0123456789"))
_Dumper.add_implicit_resolver("tag:yaml.org,2002:int", _BASE, list("-+0"))


def load(text: str) -> Any:
    """The value of one YAML document under mlplab's rule; YAMLRefused (one line) for anything else."""
    if not isinstance(text, str):
        raise YAMLRefused(f"expected YAML text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise YAMLRefused(f"{len(text):,} characters is longer than the {MAX_CHARS:,} mlplab reads")
    loader = None
    try:
        loader = _Loader(text)
        return loader.get_single_data()
    except YAMLRefused:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise YAMLRefused(
            f"not valid YAML: {_first_line(exc.problem or exc.context)}", mark.line + 1 if mark else None
        ) from None
    except (yaml.YAMLError, ValueError, RecursionError, MemoryError) as exc:
        raise YAMLRefused(f"not valid YAML: {_first_line(str(exc)) or type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_file(path: str | Path) -> Any:
    """`load` of a file's UTF-8 text; YAMLRefused when it cannot be read, is not UTF-8 or is refused."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > 4 * MAX_CHARS:
            raise YAMLRefused(f"{size:,} bytes is longer than the {MAX_CHARS:,} characters mlplab reads")
        return load(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise YAMLRefused(f"not UTF-8 text at byte {exc.start}") from None
    except OSError as exc:
        raise YAMLRefused(f"cannot be read: {exc.strerror or type(exc).__name__}") from None


def dump(data: Any) -> str:
    """`data` (plain Python values) as YAML that `load` reads back as the same values."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


def _first_line(text: str | None) -> str:
    return shown(str(text or "").splitlines()[0] if text else "", quote=False)
