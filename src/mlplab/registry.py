"""Name -> object registries (experiments, datasets, report builders)."""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from typing import Generic, TypeVar

from mlplab.errors import UserError, shown

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table filled by decorators: `@REG.register("name")`."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        if not isinstance(name, str) or not name.strip():
            raise UserError(
                f"no {self.kind} name given (got {shown(name)}); choose one of: {', '.join(sorted(self._items))}"
            )
        if name not in self._items:
            hint = get_close_matches(name, self._items, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UserError(f"unknown {self.kind} {shown(name)}{did}; choose one of: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
