"""Errors of settings, and the search space's limits (one type, used by the scenario's
``[space]`` table and by the child factory)."""

from __future__ import annotations

from dataclasses import dataclass

from evonas.core.errors import UserError


class ConfigError(UserError, ValueError):
    """A setting out of its valid range; the message starts with the setting's key."""


def check(ok: bool, key: str, message: str) -> None:
    """Raises :class:`ConfigError` ``"<key>: <message>"`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}: {message}")


@dataclass(frozen=True)
class SpaceLimits:
    """Children beyond these limits are discarded before training."""

    max_nodes: int = 80  # nodes in the genome
    max_channels: int = 512  # widest layer (morphisms that widen stop there)
    max_params: int | None = None  # trainable parameters; None: no limit

    def __post_init__(self) -> None:
        check(self.max_nodes >= 3, "space.max_nodes", f"must be >= 3, got {self.max_nodes}")
        check(
            self.max_channels >= 1, "space.max_channels", f"must be >= 1, got {self.max_channels}"
        )
        check(
            self.max_params is None or self.max_params >= 1,
            "space.max_params",
            f"must be >= 1, got {self.max_params}",
        )

    def problem(self, nodes: int, widest: int, params: int | None) -> str | None:
        """Which limit a network with these sizes exceeds, in words; None when it fits.
        ``params`` may be None when no parameter limit is set (it is costly to count)."""
        if nodes > self.max_nodes:
            return f"{nodes} nodes > space.max_nodes = {self.max_nodes}"
        if widest > self.max_channels:
            return f"{widest} channels > space.max_channels = {self.max_channels}"
        if self.max_params is not None and params is not None and params > self.max_params:
            return f"{params} parameters > space.max_params = {self.max_params}"
        return None
