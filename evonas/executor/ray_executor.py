"""Distributed evaluation on Ray: one task per child, with its CPU/GPU request.

``ray.init()`` starts a local instance (nothing to set up) or, with ``address``, joins a
cluster started by ``ray start --head`` (``address="auto"`` on a cluster node, or
``"ray://<head>:10001"`` from outside). Fractional GPUs (``gpus_per_task=0.25``) pack
several small children onto one GPU.

Parents' weights reach the worker through the Ray object store (the child's inherited
state and the teacher are ``ray.put``); results come back to the driver, which alone writes
the run record. Ray retries a task once when its worker process or node dies; after that
the candidate is recorded as failed. Ray is an optional extra: ``pip install evonas[ray]``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from evonas.core.deadline import CandidateTimeout
from evonas.core.errors import UserError
from evonas.core.evaluator import Evaluator
from evonas.executor.base import (
    EvaluatorFactory,
    Executor,
    Job,
    Outcome,
    WorkerLost,
    register_executor,
    run_job,
)

# Per worker process: evaluators already built (data loaded, trainer ready), by factory.
# Ray reuses worker processes between tasks, so each builds its evaluator once.
_EVALUATORS: dict[str, Evaluator] = {}


class RayMissing(UserError, ImportError):
    """The Ray executor was asked for where Ray is not installed."""


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing("the 'ray' executor needs Ray: pip install 'evonas[ray]'") from None
    return ray


def _train(factory: EvaluatorFactory, key: str, job: Job) -> Outcome:
    evaluator = _EVALUATORS.get(key)
    if evaluator is None:
        evaluator = _EVALUATORS[key] = factory()
    return run_job(evaluator, job)


@register_executor("ray")
class RayExecutor(Executor):
    """Trains candidates as Ray tasks.

    Args:
        factory: builds the evaluator inside a Ray worker (once per worker process).
        workers: tasks in flight at once (the search's parallelism).
        address: an existing cluster; None starts a local Ray instance.
        num_cpus: CPUs of the local instance (ignored with ``address``).
        cpus_per_task, gpus_per_task: resources each training task requests.
        retries: Ray's retries of a task whose worker died.
    """

    @classmethod
    def check_available(cls) -> None:
        import_ray()

    def __init__(
        self,
        factory: EvaluatorFactory,
        *,
        workers: int = 1,
        address: str | None = None,
        num_cpus: int | None = None,
        cpus_per_task: float = 1.0,
        gpus_per_task: float = 0.0,
        retries: int = 1,
    ) -> None:
        ray = import_ray()
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is not None:
                kwargs["address"] = address
            elif num_cpus is not None:
                kwargs["num_cpus"] = num_cpus
            ray.init(**kwargs)
        self.slots = workers
        self._task = ray.remote(_train).options(
            num_cpus=cpus_per_task,
            num_gpus=gpus_per_task,
            max_retries=retries,
            retry_exceptions=False,
        )
        self._factory_ref = ray.put(factory)
        self._key = uuid.uuid4().hex  # names this executor's evaluator in the workers' cache
        self._running: dict[Any, Job] = {}
        self._submitted: dict[int, float] = {}  # job id -> time.monotonic() at submission

    def submit(self, job: Job) -> None:
        # the job (child and teacher weights) goes through the object store
        ref = self._task.remote(self._factory_ref, self._key, self._ray.put(job))
        self._running[ref] = job
        self._submitted[job.ident] = time.monotonic()

    def wait(self) -> tuple[Job, Outcome]:
        ray = self._ray
        if not self._running:
            raise RuntimeError("wait() with no submitted job")
        while True:
            ready_refs, _ = ray.wait(list(self._running), num_returns=1, timeout=self._wait_s())
            if ready_refs:
                break
            for ref, job in list(self._running.items()):
                limit = job.time_limit
                if (
                    limit is not None
                    and time.monotonic() - self._submitted[job.ident] > limit * 1.1 + 5
                ):
                    ray.cancel(ref, force=True)
                    del self._running[ref]
                    return job, CandidateTimeout(
                        f"candidate {job.ident} ran past its time limit of {limit:g} s "
                        "(its Ray task was cancelled)"
                    )
        (ready,) = ready_refs
        job = self._running.pop(ready)
        try:
            return job, ray.get(ready)
        except ray.exceptions.RayTaskError as exc:  # the training code raised
            return job, exc
        except (
            ray.exceptions.WorkerCrashedError,
            ray.exceptions.NodeDiedError,
            ray.exceptions.RayError,
        ) as exc:
            return job, WorkerLost(f"Ray lost the worker training candidate {job.ident}: {exc}")

    def _wait_s(self) -> float | None:
        left = [
            self._submitted[j.ident] + j.time_limit * 1.1 + 5 - time.monotonic()
            for j in self._running.values()
            if j.time_limit is not None
        ]
        return max(0.0, min(left)) if left else None

    def close(self) -> None:
        for ref in list(self._running):
            self._ray.cancel(ref, force=True)
        self._running.clear()
        if self._owns_ray:
            self._ray.shutdown()
