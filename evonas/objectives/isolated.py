"""A user's objectives run in a process of their own, which a time limit can kill.

The scorer's time limit (``budget.candidate_minutes``) interrupts Python code with a timer,
but a call stuck inside C code (a regular expression, a native library, a call that blocks
signals) never sees the timer. So an objective that is not evonas's own runs in one helper
process: the scorer sends it the objective and the candidate (genome, weights, training
result), waits at most the time limit, and on a timeout kills the helper; the next call
starts a new one. The helper starts before the first such call (its start-up is not counted
against a candidate) and stops with the search.

The helper is a fresh interpreter with the main process's ``sys.path`` (not a fork: torch's
thread pools hang in a forked child; not ``multiprocessing``'s spawn, which re-runs a user's
script without a ``__main__`` guard). An objective stays in the main process when it says so
(``in_process = True``: the built-ins, or a user's choice), when no time limit is set, where
the platform cannot pass a socket to a child (not POSIX), or when it cannot be sent to
another process (a lambda, a closure, a function of ``__main__`` or a notebook): a warning
then says once that a call stuck in C code cannot be stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import traceback
import warnings
from multiprocessing.connection import Connection
from typing import Any

import torch

from evonas.core.deadline import CandidateTimeout
from evonas.objectives.base import EvalContext, Objective

START_SECONDS = 120.0  # the helper's start-up (importing torch), never a candidate's time


class ObjectiveProcessDied(RuntimeError):
    """The helper process ended while it computed an objective (a crash, ``os._exit``)."""


class InProcessWarning(UserWarning):
    """An objective runs in the main process, where a time limit cannot stop C code."""


class IsolatedObjectives:
    """Computes objectives in a helper process that is killed when a call runs too long."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._local: dict[str, str] = {}  # objective name -> why it runs in process ("": not)
        self._broken = ""  # why no helper can start here (then every objective runs here)
        self._ready = False  # the helper said it is ready

    def runs(self, objective: Objective) -> bool:
        """Whether ``objective`` goes to the helper process (else: call it in process)."""
        if objective.in_process:
            return False
        if objective.name not in self._local:
            why = self._broken or _cannot_send(objective)
            self._local[objective.name] = ""
            if why:
                self._stay(objective, why)
        return not self._local[objective.name]

    def start(self) -> None:
        """Starts the helper unless it runs, and waits until it is ready (call this before
        a candidate's clock starts: importing torch takes seconds)."""
        if self._broken:
            return
        try:
            if self._process is None or self._process.poll() is not None:
                self.close()
                self._process, self._conn = _spawn()
            if not self._ready:
                _await_ready(self._conn)
                self._ready = True
        except (OSError, RuntimeError, EOFError) as exc:
            self.close()
            self._broken = f"its helper process could not start ({exc})"

    def call(
        self, objective: Objective, ctx: EvalContext, timeout: float | None, part: str = "value"
    ) -> Any:
        """``objective(ctx)`` (``part="value"``) or ``objective.details(ctx)``
        (``part="details"``), computed in the helper process.

        Raises what the objective raised; :class:`CandidateTimeout` after ``timeout``
        seconds (the helper is killed); :class:`ObjectiveProcessDied` when the helper died.
        Anything raised while waiting (the scorer's own timer) also kills the helper.
        """
        self.start()
        if self._conn is None:  # no helper on this machine: said once, computed here
            if not self._local.get(objective.name):
                self._stay(objective, self._broken)
            return objective(ctx) if part == "value" else objective.details(ctx)
        conn = self._conn
        payload = (
            part,
            objective,
            ctx.genome,
            ctx.input_shape,
            ctx.num_classes,
            ctx.state,
            ctx.train,
        )
        try:
            conn.send_bytes(pickle.dumps(payload))
            if not conn.poll(timeout):
                raise CandidateTimeout(
                    f"objective {objective.name!r} ran past its time limit of {timeout:g} s "
                    "(its process was killed)"
                )
            kind, result = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            code = _exit_code(self._process)
            self.close()
            raise ObjectiveProcessDied(
                f"objective {objective.name!r}: its process ended while computing it "
                f"(exit code {code})"
            ) from None
        except CandidateTimeout:  # stuck (or the scorer's timer): never reuse it
            self.close()
            with contextlib.suppress(OSError):  # else the next call starts one, or says why
                self._process, self._conn = _spawn()  # start-up overlaps the next candidate
            raise
        except BaseException:
            self.close()
            raise
        if kind == "ok":
            return result
        if kind == "unloadable":  # the helper cannot import it: compute it here instead
            self._stay(objective, f"the helper process cannot load it ({result})")
            return objective(ctx) if part == "value" else objective.details(ctx)
        raise result

    def close(self) -> None:
        """Stops the helper process (a later call starts a new one)."""
        self._ready = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def _stay(self, objective: Objective, why: str) -> None:
        self._local[objective.name] = why
        warnings.warn(
            f"objective {objective.name!r} runs in the main process because {why}: a "
            "time limit stops it only while it runs Python code, never inside C code",
            InProcessWarning,
            stacklevel=4,
        )


def _exit_code(process: subprocess.Popen[bytes] | None) -> int | None:
    """The exit code of a helper whose socket closed (it is ending, or ended)."""
    try:
        return None if process is None else process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None


def _cannot_send(objective: Objective) -> str:
    """Why ``objective`` cannot run in the helper, in words ("" when it can)."""
    if os.name != "posix":
        return "this platform cannot pass the helper process its socket"
    fn = getattr(objective, "fn", objective)
    module = getattr(fn, "__module__", None) or type(objective).__module__
    if module == "__main__" or type(objective).__module__ == "__main__":
        return "it is defined in __main__ (a script or a notebook), which the helper never runs"
    try:
        pickle.dumps(objective)
    except Exception as exc:  # a lambda, a closure
        return f"it cannot be pickled ({type(exc).__name__}: {exc})"
    return ""


def _spawn() -> tuple[subprocess.Popen[bytes], Connection]:
    """A new helper and the main process's end of its socket (not waited for)."""
    ours, theirs = socket.socketpair()
    code = (
        "import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
        "from evonas.objectives.isolated import serve; serve(int(sys.argv[2]), int(sys.argv[3]))"
    )
    args = [sys.executable, "-c", code, json.dumps(sys.path), str(theirs.fileno())]
    args.append(str(torch.get_num_threads()))  # the threads the main process would use
    try:
        process = subprocess.Popen(args, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return process, Connection(ours.detach())


def _await_ready(conn: Connection | None) -> None:
    """Waits for a new helper's first message (raises when it does not come)."""
    if conn is None or not conn.poll(START_SECONDS):
        raise RuntimeError(f"not ready after {START_SECONDS:g} s")
    if conn.recv_bytes() != b"ready":
        raise RuntimeError("it did not say it was ready")


def serve(fd: int, threads: int) -> None:
    """The helper process: computes one objective per message until the socket closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    torch.set_num_threads(threads)
    conn = Connection(fd)
    conn.send_bytes(b"ready")
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        try:
            part, objective, genome, shape, classes, state, train = pickle.loads(message)
        except BaseException as exc:
            conn.send_bytes(pickle.dumps(("unloadable", f"{type(exc).__name__}: {exc}")))
            continue
        try:
            ctx = EvalContext(genome, shape, classes, state, train)
            result = objective(ctx) if part == "value" else objective.details(ctx)
            reply: tuple[str, Any] = ("ok", result)
        except BaseException as exc:  # SystemExit too: it fails this candidate, not the helper
            reply = ("raised", exc)
        try:
            data = pickle.dumps(reply)
            pickle.loads(data)  # an exception that pickles may still not load
        except Exception:  # a value or an exception that cannot be pickled
            if reply[0] == "raised":
                text = "".join(traceback.format_exception_only(reply[1])).strip()
            else:
                text = f"objective returned a {type(reply[1]).__name__}, which cannot be sent back"
            data = pickle.dumps(("raised", RuntimeError(text)))
        conn.send_bytes(data)
