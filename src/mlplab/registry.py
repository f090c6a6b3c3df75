"""Name -> object registries (experiments, datasets, report builders)."""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches
from typing import Generic, TypeVar

from mlplab.errors import UserError, shown

T = TypeVar("T")


class Registry(Generic[T]):
    """A named table filled by decorators: `@REG.register("name")`.

    `discover`, when given, imports the modules whose decorators fill the table; it runs once, on the first
    lookup, so that importing the package that holds the registry runs nothing.
    """

    def __init__(self, kind: str, discover: Callable[[], None] | None = None):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._discover = discover

    def _discovered(self) -> dict[str, T]:
        if self._discover is not None:
            discover, self._discover = self._discover, None  # before the imports: they may look names up
            try:
                discover()
            except BaseException:
                self._discover = discover  # a failed import is retried (and reported again) on the next lookup
                raise
        return self._items

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        items = self._discovered()
        if not isinstance(name, str) or not name.strip():
            raise UserError(f"no {self.kind} name given (got {shown(name)}); choose one of: {', '.join(sorted(items))}")
        if name not in items:
            hint = get_close_matches(name, self._items, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise UserError(f"unknown {self.kind} {shown(name)}{did}; choose one of: {', '.join(sorted(self._items))}")
        return self._items[name]

    def names(self) -> list[str]:
        return sorted(self._discovered())

    def __contains__(self, name: str) -> bool:
        return name in self._discovered()
