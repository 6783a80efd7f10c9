"""Executors: in process (default), a local pool of processes, or Ray (optional extra).

``RayExecutor`` is imported lazily so that Ray is needed only when it is used.
"""

from typing import Any

from evonas.executor.base import (
    EvaluatorFactory,
    Executor,
    InProcessExecutor,
    Job,
    WorkerLost,
    run_job,
)
from evonas.executor.pool import LocalPoolExecutor

__all__ = [
    "EvaluatorFactory",
    "Executor",
    "InProcessExecutor",
    "Job",
    "LocalPoolExecutor",
    "RayExecutor",
    "WorkerLost",
    "run_job",
]


def __getattr__(name: str) -> Any:
    if name == "RayExecutor":
        from evonas.executor.ray_executor import RayExecutor

        return RayExecutor
    raise AttributeError(f"module 'evonas.executor' has no attribute {name!r}")
