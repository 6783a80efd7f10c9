"""evonas: multi-objective evolutionary neural architecture search with network morphisms.

Data flow, one sub-package per step: ``space`` (genome) -> ``morphism`` -> ``model`` ->
``trainer`` (with ``data``) -> ``objectives`` -> ``strategy`` -> ``engine`` (the search
loop) -> ``record``; ``core`` holds the nouns they share, ``executor`` where training runs,
``scenario`` turns a TOML file into a search; ``api`` runs and resumes, ``export`` ships.
"""

from typing import TYPE_CHECKING, Any

from evonas._version import __version__

if TYPE_CHECKING:
    from evonas.api import resume, run
    from evonas.model import GenomeNet, build_model
    from evonas.morphism import (
        Child,
        Morphism,
        get_morphism,
        list_morphisms,
        register_morphism,
    )
    from evonas.record import Run, load_run
    from evonas.space import (
        Genome,
        GenomeError,
        Node,
        initial_genomes,
        random_genome,
        simple_genome,
    )

# Where each public name lives: imported on first use (torch is heavy, and the command
# line's --help and --version need none of it).
_LAZY = {
    "run": "evonas.api",
    "resume": "evonas.api",
    "GenomeNet": "evonas.model",
    "build_model": "evonas.model",
    "Child": "evonas.morphism",
    "Morphism": "evonas.morphism",
    "get_morphism": "evonas.morphism",
    "list_morphisms": "evonas.morphism",
    "register_morphism": "evonas.morphism",
    "Run": "evonas.record",
    "load_run": "evonas.record",
    "Genome": "evonas.space",
    "GenomeError": "evonas.space",
    "Node": "evonas.space",
    "initial_genomes": "evonas.space",
    "random_genome": "evonas.space",
    "simple_genome": "evonas.space",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'evonas' has no attribute {name!r}")


__all__ = [
    "Child",
    "Genome",
    "GenomeError",
    "GenomeNet",
    "Morphism",
    "Node",
    "Run",
    "__version__",
    "build_model",
    "get_morphism",
    "initial_genomes",
    "list_morphisms",
    "load_run",
    "random_genome",
    "register_morphism",
    "resume",
    "run",
    "simple_genome",
]
