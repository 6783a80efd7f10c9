"""The tiny synthetic scenario the end-to-end tests run (seconds on 2 cores)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evonas.core import Individual


def tiny_scenario(
    *,
    name: str = "tiny",
    seed: int = 0,
    n_train: int = 192,
    initial: int = 2,
    strategy: str = "nsga2",
    params: str = "{ population_size = 4 }",
    objectives: Sequence[str] = ("val_error", "params", "flops"),
    evaluations: int = 8,
    extra: str = "",
) -> str:
    """A scenario file's text; ``extra`` is appended (more tables, e.g. ``[executor]``)."""
    blocks = "\n".join(f'[[objectives]]\nname = "{o}"\n' for o in objectives)
    return f"""
name = "{name}"
seed = {seed}
device = "cpu"

[data]
dataset = "synthetic"
options = {{ n_train = {n_train}, n_test = 48, shape = [1, 8, 8], num_classes = 3 }}

[space]
initial = {initial}
initial_stages = [1, 1]
initial_channels = [4]

[strategy]
name = "{strategy}"
params = {params}

{blocks}
[trainer]
child_epochs = 0.5
scratch_epochs = 1.0
batch_size = 32

[budget]
evaluations = {evaluations}

{extra}
"""


def rows(history: Iterable[Individual]) -> list[tuple[object, ...]]:
    """What two runs must agree on, by id."""
    return sorted(
        (i.id, i.parent_id, i.genome.hash, str(i.status), *i.objectives.values()) for i in history
    )
