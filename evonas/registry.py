"""Name -> object registries for the pluggable parts of evonas.

Morphisms, objectives, strategies and datasets are each kept in a :class:`Registry`.
A scenario names an entry either by its registered name (``"widen"``) or by an import
path ``"package.module:attribute"`` for code that lives outside evonas; both resolve
through :meth:`Registry.resolve`, so a user's own class is as easy to use as a built-in.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class RegistryError(KeyError):
    """An unknown name or an import path that does not resolve."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    """A named collection of plug-ins of one kind (e.g. morphisms).

    Args:
        kind: what the entries are, used in error messages ("morphism", "objective").
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str, obj: T, *, overwrite: bool = False) -> T:
        """Adds ``obj`` under ``name``; refuses to silently replace an existing entry."""
        if not name or ":" in name:
            raise ValueError(f"{self.kind} name {name!r} must be non-empty and contain no ':'")
        if name in self._entries and not overwrite:
            raise ValueError(
                f"a {self.kind} named {name!r} is already registered; "
                "pass overwrite=True to replace it"
            )
        self._entries[name] = obj
        return obj

    def decorator(self, name: str) -> Callable[[T], T]:
        """``@registry.decorator("name")`` registers the decorated object."""

        def wrap(obj: T) -> T:
            return self.register(name, obj)

        return wrap

    def get(self, name: str) -> T:
        """Looks up a registered name; the error lists close matches and all valid names."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint}; registered: {', '.join(sorted(self))}; "
                "or give an import path 'package.module:attribute'"
            ) from None

    def resolve(self, ref: str | T) -> T:
        """A registered name, an import path ``"pkg.mod:attr"``, or the object itself."""
        if not isinstance(ref, str):
            return ref
        if ":" not in ref:
            return self.get(ref)
        return cast(T, import_object(ref, kind=self.kind))

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style pattern, sorted."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def import_object(path: str, *, kind: str = "object") -> object:
    """Imports ``"package.module:attribute"`` (attribute may be dotted)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise RegistryError(
            f"{kind} import path {path!r} must look like 'package.module:attribute'"
        )
    try:
        obj: object = importlib.import_module(module_name)
    except ImportError as exc:
        raise RegistryError(
            f"cannot import module {module_name!r} for {kind} {path!r}: {exc}"
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RegistryError(
                f"module {module_name!r} has no attribute {attr!r} (for {kind} {path!r})"
            ) from None
    return obj
