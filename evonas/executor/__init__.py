"""Executors: in process (default), a local pool of processes, or Ray (optional extra).

Registered: ``inprocess``, ``pool``, ``ray`` (see :func:`list_executors`). Ray itself is
imported only when a :class:`RayExecutor` is made.
"""

from evonas.executor.base import (
    EXECUTORS,
    EvaluatorFactory,
    Executor,
    InProcessExecutor,
    Job,
    WorkerLost,
    register_executor,
    run_job,
)
from evonas.executor.pool import LocalPoolExecutor
from evonas.executor.ray_executor import RayExecutor

list_executors = EXECUTORS.names

__all__ = [
    "EXECUTORS",
    "EvaluatorFactory",
    "Executor",
    "InProcessExecutor",
    "Job",
    "LocalPoolExecutor",
    "RayExecutor",
    "WorkerLost",
    "list_executors",
    "register_executor",
    "run_job",
]
