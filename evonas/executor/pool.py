"""A pool of K worker processes on one machine, sharing its CPU cores or its GPU.

Each worker builds its evaluator once (data on the device, trainer) and trains one child at
a time; torch's intra-op threads are pinned per worker (cores / K by default) so K workers
do not oversubscribe the CPU. On one GPU, K small children train concurrently; with the
CUDA MPS daemon running (``nvidia-cuda-mps-control -d``) their kernels overlap instead of
time-slicing, and nothing in evonas needs to change.

Jobs (child weights included) travel through a pipe to the worker; results come back the
same way and are recorded by the driver only. A worker that dies costs only the job it was
training: the job is retried once on a fresh worker, then reported as failed.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from evonas.core.deadline import CandidateTimeout
from evonas.executor.base import (
    EvaluatorFactory,
    Executor,
    Job,
    Outcome,
    WorkerLost,
    register_executor,
    run_job,
)


def _worker_main(conn: Connection, factory: EvaluatorFactory, threads: int) -> None:
    import signal

    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's: it closes the pool
    torch.set_num_threads(threads)
    try:
        evaluator = factory()
    except Exception:  # tell the driver why, instead of dying silently
        conn.send((None, traceback.format_exc()))
        return
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        conn.send((job.ident, run_job(evaluator, job)))


class WorkerStartError(RuntimeError):
    """A worker could not build its evaluator (bad data path, import error, ...)."""


@dataclass
class _Worker:
    process: Any  # multiprocessing Process (spawn context)
    conn: Connection
    job: Job | None = None
    started: float = 0.0  # when the job was sent (time.monotonic)


@register_executor("pool")
class LocalPoolExecutor(Executor):
    """K worker processes (spawned, so CUDA is safe to use in them).

    Args:
        factory: builds the evaluator inside each worker.
        workers: number of processes (K).
        threads_per_worker: torch threads per worker; default ``cpu_count // workers``.
        retries: times a job is retried after its worker died.
    """

    def __init__(
        self,
        factory: EvaluatorFactory,
        *,
        workers: int = 2,
        threads_per_worker: int | None = None,
        retries: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError(f"a pool needs workers >= 1, got {workers}")
        self.factory = factory
        self.slots = workers
        self.threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
        self.retries = retries
        self._ctx = mp.get_context("spawn")
        self._workers = [self._spawn() for _ in range(workers)]
        self._queue: deque[Job] = deque()
        self._attempts: dict[int, int] = {}
        self._failed: deque[tuple[Job, Outcome]] = deque()

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(
            target=_worker_main, args=(child, self.factory, self.threads), daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent)

    def submit(self, job: Job) -> None:
        self._queue.append(job)
        self._dispatch()

    def _dispatch(self) -> None:
        for w in self._workers:
            if w.job is None and self._queue:
                job = self._queue.popleft()
                try:
                    w.conn.send(job)
                except (BrokenPipeError, OSError):
                    self._queue.appendleft(job)
                    continue
                w.job = job
                w.started = time.monotonic()

    def wait(self) -> tuple[Job, Outcome]:
        while True:
            if self._failed:
                return self._failed.popleft()
            busy = [w for w in self._workers if w.job is not None]
            if not busy:
                raise RuntimeError("wait() with no submitted job")
            overdue = self._overdue(busy)
            if overdue is not None:
                return overdue
            ready = wait(
                [w.conn for w in busy] + [w.process.sentinel for w in busy],
                timeout=self._next_deadline(busy),
            )
            for w in busy:
                if w.conn in ready:
                    try:
                        ident, outcome = w.conn.recv()
                    except (EOFError, OSError):
                        self._lost(w)
                        continue
                    if ident is None:
                        raise WorkerStartError(
                            f"a pool worker could not build its evaluator:\n{outcome}"
                        )
                    job, w.job = w.job, None
                    assert job is not None and job.ident == ident
                    self._dispatch()
                    return job, outcome
                if w.process.sentinel in ready:
                    self._lost(w)

    @staticmethod
    def _kill_after(job: Job) -> float | None:
        """The worker's own timer ends a Python-level hang at the limit; a call stuck in C
        code is ended here, a little later, by killing the worker."""
        return None if job.time_limit is None else job.time_limit * 1.1 + 5.0

    def _next_deadline(self, busy: list[_Worker]) -> float | None:
        left = [
            w.started + limit - time.monotonic()
            for w in busy
            if w.job is not None and (limit := self._kill_after(w.job)) is not None
        ]
        return max(0.0, min(left)) if left else None

    def _overdue(self, busy: list[_Worker]) -> tuple[Job, Outcome] | None:
        for w in busy:
            limit = self._kill_after(w.job) if w.job is not None else None
            if w.job is not None and limit is not None and time.monotonic() - w.started > limit:
                job = w.job
                w.job = None
                w.process.kill()
                w.process.join(timeout=5)
                w.conn.close()
                self._workers[self._workers.index(w)] = self._spawn()
                self._dispatch()
                return job, CandidateTimeout(
                    f"candidate {job.ident} ran past its time limit of {job.time_limit:g} s "
                    "(its worker process was killed)"
                )
        return None

    def _lost(self, w: _Worker) -> None:
        """A worker died: replace it; retry its job once, then report it as failed."""
        job = w.job
        w.conn.close()
        w.process.join(timeout=1)
        index = self._workers.index(w)
        self._workers[index] = self._spawn()
        if job is not None:
            tries = self._attempts.get(job.ident, 0) + 1
            self._attempts[job.ident] = tries
            if tries <= self.retries:
                self._queue.appendleft(job)
            else:
                code = w.process.exitcode
                self._failed.append(
                    (
                        job,
                        WorkerLost(
                            f"worker process died while training candidate {job.ident} "
                            f"(exit code {code}), also on retry"
                        ),
                    )
                )
        self._dispatch()

    def close(self) -> None:
        for w in self._workers:
            with contextlib.suppress(BrokenPipeError, OSError):
                w.conn.send(None)
        for w in self._workers:
            w.process.join(timeout=5)
            if w.process.is_alive():
                w.process.kill()
            w.conn.close()
        self._workers = []
