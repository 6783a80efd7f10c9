"""Model: builds the torch network a genome describes."""

from evonas.model.builder import (
    GenomeNet,
    SepConv,
    StateDict,
    build_model,
    calibrate_batchnorm,
    count_params,
    init_weights,
)

__all__ = [
    "GenomeNet",
    "SepConv",
    "StateDict",
    "build_model",
    "calibrate_batchnorm",
    "count_params",
    "init_weights",
]
