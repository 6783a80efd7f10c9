"""TOML scenario files -> :class:`Scenario`, strictly: unknown keys, wrong types and
out-of-range values fail before any work starts, naming the file and the key."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evonas.core.config import ConfigError
from evonas.scenario.schema import Scenario, ScenarioError


def load_scenario(
    path: str | os.PathLike[str], overrides: dict[str, Any] | None = None
) -> Scenario:
    """Reads a scenario file. ``overrides`` are dotted keys (``{"budget.minutes": 2}``)
    applied on top of the file, as the command line does.

    Reading changes no import path: the front doors (``evonas run``, :func:`evonas.run`)
    put the file's folder on it, so a plug-in module next to the scenario (``energy.py``)
    can be named as ``"energy:attribute"``. A UTF-8 byte order mark is allowed.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file (.toml)") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a text file (a scenario is TOML, UTF-8)") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML: {exc}") from None
    if not data:
        raise ScenarioError(
            f"{path}: the scenario is empty; set at least [budget] and [[objectives]] "
            "(see scenarios/quick.toml)"
        )
    data.setdefault("name", path.stem)
    for dotted, value in (overrides or {}).items():
        table = data
        *parents, last = dotted.split(".")
        for p in parents:
            table = table.setdefault(p, {})
        table[last] = value
    return scenario_from_dict(data, source=str(path))


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Builds a :class:`Scenario` from plain data (a parsed file or a run's config.json)."""
    try:
        return typing.cast(Scenario, _build(Scenario, data, ""))
    except ScenarioError as exc:
        raise ScenarioError(f"{source}: {exc}") from None


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The resolved scenario as plain data (every default filled in); TOML/JSON-ready."""
    return _plain(dataclasses.asdict(scenario))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    label = where or "scenario"
    if not isinstance(data, dict):
        raise ScenarioError(f"{label}: expected a table, got {_kind(data)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ScenarioError(
                f"unknown key {_join(where, key)!r}{hint}; valid keys here: {', '.join(fields)}"
            )
    values = {k: _convert(hints[k], v, _join(where, k)) for k, v in data.items()}
    try:
        return cls(**values)
    except ScenarioError:
        raise
    except ConfigError as exc:  # a range check of a core setting type
        raise ScenarioError(_indexed(str(exc), where)) from None
    except TypeError:  # a required key is missing
        missing = [
            k
            for k, f in fields.items()
            if k not in data
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ]
        if missing:
            raise ScenarioError(f"{label}: missing key(s) {missing}") from None
        raise


def _convert(hint: Any, value: Any, key: str) -> Any:
    """``value`` as the setting type ``hint``, or a :class:`ScenarioError` naming ``key``."""
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return _convert_union(typing.get_args(hint), value, key)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value, key)
    if hint is Any:
        return value
    if hint in _SCALARS:
        return _SCALARS[hint](value, key)
    if origin is tuple:
        return _convert_tuple(typing.get_args(hint), value, key)
    if origin is dict:
        if not isinstance(value, dict):
            raise ScenarioError(f"{key}: expected a table, got {_kind(value)}")
        return dict(value)
    raise ScenarioError(f"{key}: unsupported setting type {hint!r}")  # a schema bug


def _convert_union(args: tuple[Any, ...], value: Any, key: str) -> Any:
    """The first of ``args`` the value converts to (None where the union allows it)."""
    if value is None and type(None) in args:
        return None
    errors = []
    for option in (a for a in args if a is not type(None)):
        try:
            return _convert(option, value, key)
        except ScenarioError as exc:
            errors.append(exc)
    raise errors[0]


def _convert_tuple(args: tuple[Any, ...], value: Any, key: str) -> tuple[Any, ...]:
    """A list as ``tuple[T, ...]`` (any length) or ``tuple[A, B]`` (exactly that many)."""
    if not isinstance(value, (list, tuple)):
        raise ScenarioError(f"{key}: expected a list, got {_kind(value)}")
    if len(args) == 2 and args[1] is Ellipsis:
        args = (args[0],) * len(value)
    elif len(value) != len(args):
        raise ScenarioError(f"{key}: expected a list of {len(args)} values, got {len(value)}")
    return tuple(
        _convert(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))
    )


def _to_bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(f"{key}: expected true or false, got {_kind(value)}")
    return value


def _to_int(value: Any, key: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(f"{key}: expected an integer, got {_kind(value)}")
    return value


def _to_float(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ScenarioError(f"{key}: expected a number, got {_kind(value)}")
    return float(value)


def _to_str(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise ScenarioError(f"{key}: expected a string, got {_kind(value)}")
    return value


_SCALARS: dict[Any, Callable[[Any, str], Any]] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    str: _to_str,
}


def _indexed(message: str, where: str) -> str:
    """A check's message names its key without a list index (``objectives.direction``);
    within ``objectives[1]`` it names ``objectives[1].direction``."""
    base = re.sub(r"\[\d+\]$", "", where)
    if base != where and message.startswith(f"{base}."):
        return where + message[len(base) :]
    return message


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _kind(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"
