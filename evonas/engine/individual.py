"""Candidates on their way through the engine, and evaluated individuals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from evonas.model.builder import StateDict
from evonas.morphism.base import MorphismRecord
from evonas.space.genome import Genome


@dataclass
class Candidate:
    """A child made from a proposal, before training; carries its inherited weights."""

    genome: Genome
    parent_id: int | None  # None: an initial network or a from-scratch sample
    morphisms: tuple[MorphismRecord, ...]  # applied to the parent, in order
    state: StateDict | None  # inherited weights (None: train from scratch)
    approximate: bool  # an approximate morphism was used: distil from the parent
    cheap: dict[str, float] = field(default_factory=dict)  # cheap objectives, before training


@dataclass
class Individual:
    """An evaluated candidate: what the strategies select from and the run record stores."""

    id: int  # unique within a run, in order of evaluation
    genome: Genome
    parent_id: int | None
    morphisms: tuple[MorphismRecord, ...]
    objectives: dict[str, float]  # every objective's value (nan where it failed)
    status: str  # "ok", or why it failed: "diverged", "oom", "error"
    error: str | None = None
    train: dict[str, Any] = field(default_factory=dict)  # epochs, steps, seconds, ...
    details: dict[str, Any] = field(default_factory=dict)  # e.g. latency IQR

    @property
    def ok(self) -> bool:
        return self.status == "ok" and all(math.isfinite(v) for v in self.objectives.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "genome": self.genome.to_dict(),
            "hash": self.genome.hash,
            "morphisms": [m.to_dict() for m in self.morphisms],
            "objectives": {k: _json_float(v) for k, v in self.objectives.items()},
            "status": self.status,
            "error": self.error,
            "train": self.train,
            "details": self.details,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Individual:
        return cls(
            id=int(d["id"]),
            genome=Genome.from_dict(d["genome"]),
            parent_id=d.get("parent_id"),
            morphisms=tuple(
                MorphismRecord(m["name"], tuple(m["site"]), dict(m.get("details", {})))
                for m in d.get("morphisms", [])
            ),
            objectives={
                k: float("nan") if v is None else float(v) for k, v in d["objectives"].items()
            },
            status=d["status"],
            error=d.get("error"),
            train=dict(d.get("train", {})),
            details=dict(d.get("details", {})),
        )


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None
