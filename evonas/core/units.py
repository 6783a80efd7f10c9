"""Quantities with SI prefixes and units, as people write limits: ``"2ms"``, ``"100k"``."""

from __future__ import annotations

import re

SI = {"T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3, "K": 1e3, "m": 1e-3, "u": 1e-6, "µ": 1e-6, "n": 1e-9}
_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\D*?)\s*$")


def parse_quantity(value: float | int | str, unit: str = "") -> float:
    """A number, or a string with an SI prefix and optionally the objective's unit:
    ``"2ms"`` (unit ``s``) is 0.002, ``"100k"`` is 1e5, ``"1.5GFLOPs"`` is 1.5e9, ``"15%"``
    is 0.15."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value))
    if match is None:
        raise ValueError(f"{value!r} is not a quantity; write e.g. 100000, '100k' or '2ms'")
    number, rest = float(match[1]), match[2]
    if unit and rest.endswith(unit):
        rest = rest[: -len(unit)]
    if rest == "":
        return number
    if rest == "%":
        return number / 100.0
    if rest in SI:
        return number * SI[rest]
    expected = f"the objective's unit {unit!r}" if unit else "no unit (the objective has none)"
    raise ValueError(
        f"{value!r}: {rest!r} is not an SI prefix (k, M, G, m, u, n) followed by {expected}"
    )


def format_quantity(value: float, unit: str = "") -> str:
    """``18900`` -> ``"18.9k"`` (SI, as ``--where`` and scenarios write it); ``0.00014``
    (unit ``s``) -> ``"0.14 ms"``: three digits."""
    if value != value:  # nan
        return "nan"
    if unit == "s":
        # from 0.1 ms on in milliseconds, as people read inference latencies
        for floor, scale, name in ((1.0, 1.0, "s"), (1e-4, 1e-3, "ms"), (1e-7, 1e-6, "us")):
            if abs(value) >= floor:
                return f"{value / scale:.3g} {name}"
        return f"{value / 1e-9:.3g} ns"
    if abs(value) >= 1000:
        for scale, name in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= scale:
                text = f"{value / scale:.3g}{name}"
                return f"{text} {unit}".rstrip() if unit else text
    text = f"{value:.4f}" if abs(value) < 10 and value != int(value) else f"{value:.4g}"
    return f"{text} {unit}".rstrip() if unit else text
