"""Search space: the architecture genome and its samplers."""

from evonas.space.genome import CONV_OPS, INPUT, KERNELS, OPS, Genome, GenomeError, Node
from evonas.space.sampler import chain_genomes, initial_genomes, random_genome, simple_genome

__all__ = [
    "CONV_OPS",
    "INPUT",
    "KERNELS",
    "OPS",
    "Genome",
    "GenomeError",
    "Node",
    "chain_genomes",
    "initial_genomes",
    "random_genome",
    "simple_genome",
]
