"""One plug-in mechanism for every kind: morphisms, strategies, objectives, datasets, executors.

Each kind keeps a :class:`Registry`. Every kind registers the same way, with the name written
once (``@MORPHISMS.register("widen")`` or ``MORPHISMS.register("widen", Widen)``), is created
the same way (:meth:`Registry.create` takes a registered name, an import path
``"package.module:attribute"``, a class, an instance, or a factory function) and is listed the
same way (:meth:`Registry.names`, shell patterns allowed, as timm's ``list_models``).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, cast, overload

from evonas.core.errors import UserError

T = TypeVar("T")
E = TypeVar("E")


class RegistryError(UserError, KeyError):
    """An unknown name, an import path that does not resolve, or an object of the wrong kind."""


class ParameterError(UserError, ValueError):
    """A plug-in parameter of the wrong type (a string where a number belongs)."""


class Registry(Generic[T]):
    """A named collection of plug-ins of one kind.

    Args:
        kind: what the entries are, used in messages ("morphism", "objective").
        base: the class every created object is an instance of.
        adapt: turns a registered plain function into a ``base`` instance, given the
            function, the name it was referred to by, and the creation parameters.
            Default: the function is a factory and is called with the parameters.
    """

    def __init__(
        self,
        kind: str,
        base: type,
        *,
        adapt: Callable[[Callable[..., Any], str, dict[str, Any]], T] | None = None,
    ) -> None:
        self.kind = kind
        self.base = base
        self._adapt = adapt
        self._entries: dict[str, Any] = {}

    # --- registering ------------------------------------------------------------------
    @overload
    def register(self, name: str) -> Callable[[E], E]: ...

    @overload
    def register(self, name: str, obj: E, *, overwrite: bool = False) -> E: ...

    def register(self, name: str, obj: Any = None, *, overwrite: bool = False) -> Any:
        """Adds ``obj`` (a class, an instance or a function) under ``name``; without ``obj``,
        returns a decorator. A class gets ``name`` as its ``name`` attribute when it has one
        that is still empty, so the name is written once."""
        if obj is None:
            return lambda o: self.register(name, o, overwrite=overwrite)
        if not name or ":" in name:
            raise ValueError(f"{self.kind} name {name!r} must be non-empty and contain no ':'")
        if name in self._entries and not overwrite:
            raise ValueError(
                f"a {self.kind} named {name!r} is already registered; "
                "pass overwrite=True to replace it"
            )
        if isinstance(obj, type) and not issubclass(obj, self.base):
            raise TypeError(f"{self.kind} {name!r}: {obj!r} is not a {self.base.__name__}")
        if isinstance(obj, type) and "name" not in vars(obj) and hasattr(obj, "name"):
            obj.name = name
        self._entries[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Removes an entry (tests, or replacing a plug-in at run time)."""
        self._entries.pop(name, None)

    # --- looking up ---------------------------------------------------------------------
    def get(self, name: str) -> Any:
        """The registered entry; the error lists close matches and all valid names."""
        try:
            return self._entries[name]
        except KeyError:
            close = difflib.get_close_matches(name, self._entries, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise RegistryError(
                f"unknown {self.kind} {name!r}{hint}; registered: {', '.join(self.names())}; "
                "or give an import path 'package.module:attribute'"
            ) from None

    def resolve(self, ref: Any) -> Any:
        """A registered name or an import path ``"pkg.mod:attr"`` -> the entry; else ``ref``."""
        if not isinstance(ref, str):
            return ref
        if ":" not in ref:
            return self.get(ref)
        return import_object(ref, kind=self.kind)

    def create(self, ref: Any, **params: Any) -> T:
        """A ready object from a name, import path, class, instance or function.

        Classes are instantiated with ``params``; an instance is returned as it is (it takes
        no parameters); a function goes through the registry's ``adapt``.
        """
        target = self.resolve(ref)
        label = ref if isinstance(ref, str) else getattr(target, "__name__", repr(target))
        if isinstance(target, type):
            if not issubclass(target, self.base):
                raise RegistryError(f"{self.kind} {label!r} is not a {self.base.__name__}")
            if isinstance(ref, str) and ":" in ref and "name" not in vars(target):
                # a plug-in named by path and not registered: its attribute name is its name
                target.name = ref.rpartition(":")[2]  # type: ignore[attr-defined]
            _check_params(target, params, f"{self.kind} {label!r}")
            return cast(T, target(**params))
        if isinstance(target, self.base):
            if params:
                raise RegistryError(
                    f"{self.kind} {label!r} is an instance; it takes no parameters {sorted(params)}"
                )
            return cast(T, target)
        if callable(target):
            name = ref.rpartition(":")[2] if isinstance(ref, str) else str(label)
            if self._adapt is not None:
                return self._adapt(target, name, params)
            _check_params(target, params, f"{self.kind} {label!r}")
            made = target(**params)
            if not isinstance(made, self.base):
                raise RegistryError(
                    f"{self.kind} {label!r} returned {type(made).__name__}, "
                    f"not a {self.base.__name__}"
                )
            return cast(T, made)
        raise RegistryError(f"{self.kind} {label!r} is neither a {self.base.__name__} nor callable")

    def names(self, pattern: str = "*") -> list[str]:
        """Registered names matching a shell-style pattern, sorted."""
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)


def named_params(fn: Callable[..., Any]) -> set[str] | None:
    """Keyword names ``fn`` (or a class's constructor) spells out, ``**kwargs`` aside; None
    when its signature cannot be read."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {p.name for p in params if p.kind in kinds}


def takes_var_keyword(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes ``**kwargs``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def accepted_params(fn: Callable[..., Any]) -> set[str] | None:
    """Keyword names ``fn`` accepts; None when it takes ``**kwargs`` (or is unreadable)."""
    return None if takes_var_keyword(fn) else named_params(fn)


def _check_params(fn: Callable[..., Any], params: dict[str, Any], label: str) -> None:
    valid = accepted_params(fn)
    unknown = sorted(set(params) - valid) if valid is not None else []
    if unknown:
        raise RegistryError(
            f"{label} has no parameter(s) {unknown}; "
            f"valid: {', '.join(sorted(valid or ())) or 'none'}"
        )
    hints = _hints(fn)
    for key, value in params.items():
        wanted = _SIMPLE_TYPES.get(str(hints.get(key, "")).replace(" ", ""))
        if wanted is not None and not _is_a(value, wanted):
            raise ParameterError(
                f"{label} parameter {key} must be {wanted[1]}, got {type(value).__name__} {value!r}"
            )


# annotations of plug-in parameters checked before the constructor runs (as written in the
# source, under ``from __future__ import annotations``): the types a scenario's TOML gives
_SIMPLE_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "int": ((int,), "an integer"),
    "int|None": ((int, type(None)), "an integer (or left out)"),
    "float": ((int, float), "a number"),
    "float|None": ((int, float, type(None)), "a number (or left out)"),
    "str": ((str,), "a string"),
    "bool": ((bool,), "true or false"),
}


def _is_a(value: Any, wanted: tuple[tuple[type, ...], str]) -> bool:
    types = wanted[0]
    if isinstance(value, bool):
        return bool in types
    return isinstance(value, types)


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """The written annotations of ``fn``'s (or a class's constructor's) parameters."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.annotation for p in params if p.annotation is not inspect.Parameter.empty}


class PluginError(RegistryError):
    """A plug-in module that fails when imported; the message carries its own error line."""

    def __init__(self, path: str, kind: str, exc: BaseException) -> None:
        where = ""
        tb = exc.__traceback__
        while tb is not None:  # the innermost frame: the plug-in's own line
            where = f" ({tb.tb_frame.f_code.co_filename}:{tb.tb_lineno})"
            tb = tb.tb_next
        if isinstance(exc, SyntaxError):
            where = f" ({exc.filename}:{exc.lineno})"
        super().__init__(
            f"{kind} {path!r}: importing its module failed: {type(exc).__name__}: {exc}{where}"
        )


def import_object(path: str, *, kind: str = "object") -> object:
    """Imports ``"package.module:attribute"`` (attribute may be dotted)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise RegistryError(
            f"{kind} import path {path!r} must look like 'package.module:attribute'"
        )
    try:
        obj: object = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise RegistryError(
                f"cannot import module {module_name!r} for {kind} {path!r}: {exc}; it must be "
                "an installed package, on PYTHONPATH, or beside the scenario file"
            ) from exc
        raise PluginError(path, kind, exc) from exc
    except (Exception, SystemExit) as exc:  # the plug-in's own code failed at import
        raise PluginError(path, kind, exc) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RegistryError(
                f"module {module_name!r} has no attribute {attr!r} (for {kind} {path!r})"
            ) from None
    return obj


def add_import_path(folder: str | os.PathLike[str]) -> None:
    """Lets plug-ins in ``folder`` be imported by ``"module:attribute"`` (like ``python
    script.py`` does for the script's folder), in this process and in the worker processes
    it starts later (spawned pool workers take this ``sys.path``; a local Ray instance takes
    ``PYTHONPATH``). The one place evonas changes import paths: the front doors call it for
    a scenario file's own folder and for folders the user names, never for a folder a run
    directory names."""
    folder = str(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if folder not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([folder, *(p for p in paths if p)])
