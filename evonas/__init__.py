"""evonas: multi-objective evolutionary neural architecture search with network morphisms.

Data flow, one sub-package per step: ``space`` (genome) -> ``morphism`` -> ``model`` ->
``trainer`` (with ``data``) -> ``objectives`` -> ``strategy`` -> ``engine`` -> ``record``;
``scenario`` turns a TOML file into the settings of a run, ``api`` runs and reads runs.
"""

from evonas.model import GenomeNet, build_model
from evonas.morphism import Child, Morphism, get_morphism, list_morphisms, register_morphism
from evonas.space import Genome, GenomeError, Node, initial_genomes, random_genome, simple_genome

__version__ = "0.1.0"

from evonas.api import Run, load_run, resume, run

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
