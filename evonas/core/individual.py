"""The nouns every part of evonas passes around: proposals, candidates, training results and
evaluated individuals, with their status and training facts.

A :class:`Proposal` (from a strategy) becomes a :class:`Candidate` (genome, inherited
weights, cheap objective values) in the child factory; an evaluator turns it into a
:class:`TrainResult`; the scorer makes an :class:`Individual` of both, which the strategy is
told and the run record stores.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from evonas.space.genome import Genome

if TYPE_CHECKING:
    import torch

StateDict = dict[str, "torch.Tensor"]
"""A network's weights and buffers, by parameter name (``GenomeNet.state_dict()``)."""

SAFE_NAME = re.compile(r"^[A-Za-z_][\w.:-]{0,127}$")
"""What a plug-in's name (a morphism, an objective) read from a run directory may be: a
registered name or ``module:attribute``, nothing a terminal or a browser would interpret."""

Site = tuple[str, ...]
"""Where a morphism acts, as node ids (meaning depends on the morphism)."""


class Status(StrEnum):
    """How an evaluation ended. Everything but ``OK`` is a failure of that candidate only."""

    OK = "ok"
    DIVERGED = "diverged"  # NaN/inf loss
    OOM = "oom"  # out of memory
    ERROR = "error"  # an exception in training or in an objective
    LOST = "lost"  # the worker process died, also on retry
    TIMEOUT = "timeout"  # training or an objective ran past the candidate time limit


@dataclass(frozen=True)
class MorphismRecord:
    """What a morphism did, for the run record's lineage (JSON-serialisable)."""

    name: str  # registered name of the morphism
    site: Site  # node ids it acted on
    details: dict[str, Any] = field(default_factory=dict)  # e.g. {"new_channels": 32}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "site": list(self.site), "details": dict(self.details)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MorphismRecord:
        name = d["name"]
        if not isinstance(name, str) or not SAFE_NAME.match(name):
            raise ValueError(f"morphism name {name!r} is not a plug-in name")
        return cls(name, tuple(d["site"]), dict(d.get("details", {})))


@dataclass(frozen=True)
class Proposal:
    """What to evaluate next: morphisms applied to an evaluated parent, or to a genome that
    is then trained from scratch."""

    parent_id: int | None  # an evaluated individual's id; None: start from ``genome``
    genome: Genome | None = None  # the base network when parent_id is None
    morphisms: tuple[str, ...] = ()  # names, applied in order (inapplicable ones skipped)
    seed: int = 0  # seeds the morphisms' random choices
    epochs: float | None = None  # how long to train it; None: the trainer's setting
    # train the parent itself further, from its own weights, for ``epochs`` more (no
    # morphisms: successive halving's promotion); recorded as a child with no morphisms
    continues: bool = False
    rung: int | None = None  # the successive-halving rung it trains into (None: no rungs)
    provisional: bool = False  # a rung below the top: its results are low-fidelity


@dataclass
class Candidate:
    """A child made from a proposal, before training; carries its inherited weights."""

    genome: Genome
    parent_id: int | None  # None: an initial network or a from-scratch sample
    morphisms: tuple[MorphismRecord, ...]  # applied to the parent, in order
    state: StateDict | None  # inherited weights (None: train from scratch)
    approximate: bool  # an approximate morphism was used: distil from the parent
    cheap: dict[str, float] = field(default_factory=dict)  # cheap objectives, before training
    epochs: float | None = None  # how long to train it; None: the trainer's setting
    # what a learned acceptance step predicted of its expensive objectives (name, name.sd)
    predicted: dict[str, float] = field(default_factory=dict)
    rung: int | None = None  # the successive-halving rung it trains into (None: no rungs)
    provisional: bool = False  # a rung below the top: its results are low-fidelity
    continues: bool = False  # the parent itself, trained further (a promotion)

    @property
    def calibrate(self) -> tuple[str, ...]:
        """Batch norms a morphism inserted to be set from the data before training (a
        ``"calibrate"`` list in its record's details), that are still in the genome."""
        if self.state is None:
            return ()
        present = {n.id for n in self.genome.nodes}
        ids = (i for r in self.morphisms for i in r.details.get("calibrate", ()))
        return tuple(i for i in dict.fromkeys(ids) if i in present)


@dataclass(frozen=True)
class TrainResult:
    """What one training job produced."""

    status: Status
    state: StateDict | None  # trained weights on the CPU (None when failed)
    val_error: float  # 1 - validation accuracy (nan when failed)
    train_loss: float  # mean loss over the last 10% of steps (nan when failed)
    epochs: float  # passes over the training split actually made
    steps: int  # optimiser steps actually made
    seconds: float  # wall-clock training time, evaluation excluded
    images_per_second: float
    peak_memory_bytes: int | None = None  # CUDA only
    error: str | None = None  # what went wrong, for failed results

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


@dataclass
class TrainFacts:
    """How an individual was trained, as recorded in the run record."""

    inherited: bool = False  # started from the parent's weights
    approximate: bool = False  # an approximate morphism made it (distilled when enabled)
    continued: bool = False  # its parent trained further, from its own weights (a promotion)
    epochs: float = 0.0  # passes over the training split
    steps: int = 0  # optimiser steps
    train_seconds: float = 0.0  # training time, evaluation excluded
    images_per_second: float = 0.0  # training speed (0: not trained)
    train_loss: float | None = None  # mean loss over the last steps (None when failed)
    elapsed: float = 0.0  # seconds since the search started, when the result was recorded
    rung: int | None = None  # successive-halving rung it was trained into (None: no rungs)
    provisional: bool = False  # trained at a rung below the top: a low-fidelity result

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.rung is None:  # records of runs without rungs stay as they were
            del d["rung"], d["provisional"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainFacts:
        """Facts read from a record, checked: each a value of its type (untrusted data)."""
        known = {f.name for f in fields(cls)}  # keys of other versions are ignored
        kept = {k: v for k, v in d.items() if k in known and (v is not None or k == "train_loss")}
        for key, value in kept.items():
            wanted = _FACT_TYPES[key]
            if value is None and key in _NULLABLE_FACTS:
                continue
            if wanted is bool:
                ok = isinstance(value, bool)
            elif wanted is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                ok = ok and math.isfinite(value)
            if not ok:
                kind = {bool: "true or false", int: "a whole number"}.get(wanted, "a number")
                raise ValueError(f"train.{key} must be {kind}, got {value!r}")
        return cls(**kept)


_FACT_TYPES: dict[str, type] = {
    "inherited": bool,
    "approximate": bool,
    "continued": bool,
    "epochs": float,
    "steps": int,
    "train_seconds": float,
    "images_per_second": float,
    "train_loss": float,
    "elapsed": float,
    "rung": int,
    "provisional": bool,
}
_NULLABLE_FACTS = {"train_loss", "rung"}


@dataclass
class Individual:
    """An evaluated candidate: what the strategies select from and the run record stores."""

    id: int  # unique within a run, in order of submission
    genome: Genome
    parent_id: int | None
    morphisms: tuple[MorphismRecord, ...]
    objectives: dict[str, float]  # every objective's value (nan where it failed)
    status: Status = Status.OK
    error: str | None = None
    train: TrainFacts = field(default_factory=TrainFacts)
    details: dict[str, Any] = field(default_factory=dict)  # per objective, e.g. latency IQR
    step: int | None = None  # individuals told to the strategy when it was proposed
    violation: float = 0.0  # of the objectives' hard constraints (0: feasible)
    # what a learned acceptance step predicted before training (name, name.sd); {}: nothing
    predicted: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK and all(math.isfinite(v) for v in self.objectives.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "genome": self.genome.to_dict(),
            "hash": self.genome.hash,
            "morphisms": [m.to_dict() for m in self.morphisms],
            "objectives": {k: _json_float(v) for k, v in self.objectives.items()},
            "status": str(self.status),
            "error": self.error,
            "train": self.train.to_dict(),
            "details": self.details,
            "step": self.step,
            "violation": self.violation if math.isfinite(self.violation) else None,
            **({"predicted": dict(self.predicted)} if self.predicted else {}),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Individual:
        """An individual from its record, every value checked (a record is untrusted data:
        a crafted one raises ValueError naming the key)."""
        if not isinstance(d, dict):
            raise ValueError(f"an individual is a table, got {type(d).__name__}")
        objectives = d["objectives"]
        if not isinstance(objectives, dict):
            raise ValueError("objectives must be a table of numbers")
        error = d.get("error")
        if error is not None and not isinstance(error, str):
            raise ValueError(f"error must be text, got {error!r}")
        violation = d.get("violation", 0.0)
        return cls(
            id=_integer(d["id"], "id"),
            genome=Genome.from_dict(d["genome"]),
            parent_id=None if d.get("parent_id") is None else _integer(d["parent_id"], "parent_id"),
            morphisms=tuple(MorphismRecord.from_dict(m) for m in d.get("morphisms", [])),
            objectives={
                _name(k, "objectives"): math.nan if v is None else _number(v, f"objectives.{k}")
                for k, v in objectives.items()
            },
            status=Status(d["status"]),
            error=error,
            train=TrainFacts.from_dict(dict(d.get("train") or {})),
            details=dict(d.get("details") or {}),
            step=None if d.get("step") is None else _integer(d["step"], "step"),
            violation=math.inf if violation is None else _number(violation, "violation"),
            predicted=_predicted(d.get("predicted")),
        )


def _integer(v: Any, key: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise ValueError(f"{key} must be a whole number >= 0, got {v!r}")
    return v


def _number(v: Any, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{key} must be a number, got {v!r}")
    return float(v)


def _name(k: Any, key: str) -> str:
    if not isinstance(k, str) or not SAFE_NAME.match(k):
        raise ValueError(f"{key} key {k!r} is not an objective's name")
    return k


def _predicted(d: Any) -> dict[str, float]:
    """A record's ``predicted`` values, checked: names of objectives, finite numbers."""
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise ValueError(f"predicted must be an object of numbers, got {type(d).__name__}")
    out = {}
    for k, v in d.items():
        value = _number(v, f"predicted {_name(k, 'predicted')}")
        if not math.isfinite(value):
            raise ValueError(f"predicted {k} must be a finite number, got {v!r}")
        out[k] = value
    return out


def lineage_depths(individuals: Iterable[Individual]) -> dict[int, int]:
    """Morphisms between each individual and its initial network (0 for an initial one),
    by id; ``individuals`` in order of id. How far a search has reached into the space."""
    depth: dict[int, int] = {}
    for ind in individuals:
        before = depth.get(ind.parent_id, 0) if ind.parent_id is not None else 0
        depth[ind.id] = before + len(ind.morphisms)
    return depth


def _json_float(v: float) -> float | None:
    return v if math.isfinite(v) else None
