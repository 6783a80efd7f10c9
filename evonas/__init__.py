"""evonas: multi-objective evolutionary neural architecture search with network morphisms.

Data flow, one sub-package per step: ``space`` (genome) -> ``morphism`` -> ``model`` ->
``trainer`` (with ``data``) -> ``objectives`` -> ``strategy`` -> ``engine`` (the search
loop) -> ``record``; ``core`` holds the nouns they share, ``executor`` where training runs,
``scenario`` turns a TOML file into a search; ``api`` runs and resumes, ``export`` ships.
"""

from evonas._version import __version__
from evonas.api import resume, run
from evonas.model import GenomeNet, build_model
from evonas.morphism import Child, Morphism, get_morphism, list_morphisms, register_morphism
from evonas.record import Run, load_run
from evonas.space import Genome, GenomeError, Node, initial_genomes, random_genome, simple_genome

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
