"""Executors: where candidates are trained. One interface, three implementations.

* :class:`InProcessExecutor` (default): trains in the calling process, nothing to start;
* :class:`~evonas.executor.pool.LocalPoolExecutor`: K worker processes on one machine;
* :class:`~evonas.executor.ray_executor.RayExecutor`: one Ray task per candidate, on a local
  Ray instance or a cluster.

The driver (the engine) submits :class:`Job` s and waits for results; it alone writes the run
record. Workers build their evaluator once from a picklable factory (a zero-argument
callable returning an :class:`~evonas.core.evaluator.Evaluator`).

Every executor is a plug-in like the rest (:data:`EXECUTORS`): its constructor takes the
evaluator factory first, then keyword options (``workers`` and its own); a scenario's
``[executor]`` keys are passed to the executors whose constructor names them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from evonas.core.deadline import deadline
from evonas.core.evaluator import Evaluator
from evonas.core.individual import Candidate, StateDict, TrainResult
from evonas.core.registry import Registry
from evonas.space.genome import Genome

EvaluatorFactory = Callable[[], Evaluator]
"""A picklable zero-argument callable that builds the evaluator inside a worker."""


class WorkerLost(RuntimeError):
    """The worker training a candidate died (killed process, lost node) twice."""


@dataclass
class Job:
    """One candidate to train, with everything a worker needs."""

    ident: int  # the candidate's id in the run
    candidate: Candidate  # genome and inherited weights
    seed: int  # training seed (derived from the run seed and the id)
    teacher: tuple[Genome, StateDict] | None  # the parent, for distillation
    time_limit: float | None = None  # seconds; past it the job ends as a CandidateTimeout
    step: int = 0  # the strategy's step the candidate was proposed at
    # the time limit is the run's wall-clock budget (plus a grace), not the candidate's own:
    # past it the job is abandoned as the budget's end, not recorded as a failure
    budget_bound: bool = False
    # set when the candidate failed before training (its cheap objectives): it is never
    # trained, and this comes back as its outcome
    failure: BaseException | None = None


Outcome = TrainResult | BaseException


def run_job(evaluator: Evaluator, job: Job) -> Outcome:
    """Trains one job within its time limit; an exception (``SystemExit`` from a plug-in
    included) is returned, not raised: the candidate fails, not the run."""
    try:
        with deadline(job.time_limit, f"training candidate {job.ident}"):
            return evaluator.evaluate(job.candidate, job.seed, job.teacher)
    except (Exception, SystemExit) as exc:
        return exc


class Executor(ABC):
    """Runs jobs, possibly several at once.

    ``slots`` is how many jobs train concurrently; :meth:`submit` never blocks (jobs beyond
    the free slots wait in a queue).
    """

    name: str = ""
    slots: int = 1

    @abstractmethod
    def submit(self, job: Job) -> None:
        """Queues a job."""

    @abstractmethod
    def wait(self) -> tuple[Job, Outcome]:
        """Blocks until a submitted job finishes; returns it and its result or exception."""

    def close(self) -> None:
        """Stops workers; pending jobs are dropped."""
        return None

    @classmethod
    def check_available(cls) -> None:
        """Raises (an :class:`ImportError`, a :class:`~evonas.core.errors.UserError`) where
        this executor cannot run here, e.g. a library it needs is not installed: called when
        a scenario is resolved, before anything is written. Default: nothing to check."""
        return None

    def __enter__(self) -> Executor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


EXECUTORS: Registry[Executor] = Registry("executor", Executor)
"""Registered executors (classes). ``@register_executor("name")`` adds one."""

register_executor = EXECUTORS.register


@register_executor("inprocess")
class InProcessExecutor(Executor):
    """Trains each job in the calling process, one at a time, when its result is waited for.

    Args:
        evaluator: an evaluator, or a factory that builds one (called once, here).
    """

    def __init__(self, evaluator: Evaluator | EvaluatorFactory) -> None:
        self.evaluator = evaluator if isinstance(evaluator, Evaluator) else evaluator()
        self._queue: deque[Job] = deque()

    def submit(self, job: Job) -> None:
        self._queue.append(job)

    def wait(self) -> tuple[Job, Outcome]:
        if not self._queue:
            raise RuntimeError("wait() with no submitted job")
        job = self._queue.popleft()
        return job, run_job(self.evaluator, job)
