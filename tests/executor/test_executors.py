"""Executors: a local pool and a local Ray instance reproduce the in-process search, and a
worker killed mid-run costs at most its candidate."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import evonas
from evonas.core import Budget, Evaluator
from evonas.engine import Search
from evonas.executor import (
    Executor,
    InProcessExecutor,
    LocalPoolExecutor,
    RayExecutor,
    list_executors,
)
from evonas.strategy import get_strategy
from evonas.testing.contracts import ExecutorContract
from evonas.testing.surrogate import surrogate_search
from tests.plugins.faulty import KillWorker, broken_factory
from tests.plugins.tiny import rows, tiny_scenario


def write_scenario(path: Path, kind: str, extra: str) -> None:
    executor = f'[executor]\nkind = "{kind}"\n{extra}'
    path.write_text(
        tiny_scenario(
            seed=3,
            n_train=160,
            initial=3,
            objectives=("val_error", "params"),
            evaluations=11,
            extra=executor,
        )
    )


def outcome(tmp_path: Path, kind: str, extra: str = "") -> list[tuple]:
    path = tmp_path / f"{kind}.toml"
    write_scenario(path, kind, extra)
    run = evonas.run(path, out=tmp_path / kind)
    return rows(run.history())


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> list[tuple]:
    return outcome(tmp_path_factory.mktemp("inprocess"), "inprocess")


def test_pool_reproduces_the_in_process_search(tmp_path: Path, in_process: list[tuple]) -> None:
    # the same torch thread count as the in-process run, so the arithmetic is identical
    assert outcome(tmp_path, "pool", "workers = 2\nthreads_per_worker = 2") == in_process
    assert len(in_process) == 11


def test_resume_after_the_driver_is_killed_with_a_pool(
    tmp_path: Path, in_process: list[tuple]
) -> None:
    path = tmp_path / "pool.toml"
    write_scenario(path, "pool", "workers = 2\nthreads_per_worker = 2")
    run_dir = tmp_path / "pool"
    proc = subprocess.Popen(
        [sys.executable, "-m", "evonas", "run", str(path), "--out", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        start_new_session=True,
    )
    journal = run_dir / "events.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline:
        if journal.exists() and len(journal.read_text().splitlines()) >= 5:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, as a crash would
    proc.wait()
    assert 5 <= len(journal.read_text().splitlines()) < 11
    resumed = evonas.resume(run_dir)
    assert rows(resumed.history()) == in_process


def test_ray_reproduces_the_in_process_search(tmp_path: Path, in_process: list[tuple]) -> None:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert outcome(tmp_path, "ray", "workers = 2") == in_process
    finally:
        ray.shutdown()


def search_with(executor: Executor) -> Search:
    search = surrogate_search(
        get_strategy("aging", population_size=6, sample_size=3),
        initial=3,
        budget=Budget(evaluations=12),
    )
    search.executor = executor
    return search


@pytest.mark.parametrize("always", [False, True])
def test_pool_worker_killed_mid_run(tmp_path: Path, always: bool) -> None:
    factory = functools.partial(KillWorker, str(tmp_path / "killed"), always)
    search = search_with(LocalPoolExecutor(factory, workers=2, threads_per_worker=1))
    search.run()
    statuses = {i.id: i.status for i in search.individuals.values()}
    assert sorted(statuses) == list(range(12))  # the run completed, ids unique
    victim = (tmp_path / "killed").read_text()
    lost = [i for i in search.individuals.values() if i.genome.hash == victim]
    assert len(lost) == 1
    if always:  # retried once, then recorded as failed; the search went on
        assert lost[0].status == "lost" and "also on retry" in (lost[0].error or "")
        assert sum(s == "lost" for s in statuses.values()) == 1
    else:  # retried, and the retry succeeded
        assert all(s == "ok" for s in statuses.values())


def test_ray_worker_killed_mid_run(tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    from evonas.executor import RayExecutor

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        factory = functools.partial(KillWorker, str(tmp_path / "killed"))
        search = search_with(RayExecutor(factory, workers=2))
        search.run()
    finally:
        ray.shutdown()
    seen = [(i.id, i.status, i.error) for i in search.individuals.values()]
    assert sorted(i.id for i in search.individuals.values()) == list(range(12)), seen
    assert all(i.ok for i in search.individuals.values()), seen  # Ray retried the killed task


def test_a_worker_that_cannot_start_stops_the_run(tmp_path: Path) -> None:
    from evonas.executor.pool import WorkerStartError

    pool = LocalPoolExecutor(broken_factory, workers=1, threads_per_worker=1)
    with pytest.raises(WorkerStartError, match="could not build its evaluator"):
        search_with(pool).run()
    pool.close()


def test_missing_ray_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    from evonas.executor.ray_executor import import_ray

    with pytest.raises(ImportError, match=r"pip install 'evonas\[ray\]'"):
        import_ray()


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    """One local Ray instance for the Ray contract tests (executors then do not own it)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


class TestBuiltinExecutors(ExecutorContract):
    """The contract suite users inherit, over every registered executor."""

    @pytest.fixture(params=list_executors())
    def make_executor(
        self, request: pytest.FixtureRequest
    ) -> Callable[[Callable[[], Evaluator]], Executor]:
        name = request.param
        if name == "ray":
            request.getfixturevalue("local_ray")
            return lambda factory: RayExecutor(factory, workers=2)
        if name == "pool":
            return lambda factory: LocalPoolExecutor(factory, workers=2, threads_per_worker=1)
        return InProcessExecutor
