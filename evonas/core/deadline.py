"""Per-candidate time limits: a hanging training job or objective ends as ``timeout``.

:func:`deadline` interrupts Python code running in the main thread after ``seconds`` (a
``SIGALRM`` timer raising :class:`CandidateTimeout`); a call stuck inside C code is ended by
its executor instead (the pool kills the worker process, Ray cancels the task).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType


class CandidateTimeout(Exception):
    """A candidate ran past its time limit."""


@contextlib.contextmanager
def deadline(seconds: float | None, what: str = "candidate") -> Iterator[None]:
    """Raises :class:`CandidateTimeout` in the block after ``seconds`` (None: no limit; off
    the main thread, or where the platform has no ``SIGALRM``, the block is not limited)."""
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return
    assert seconds is not None

    def expired(signum: int, frame: FrameType | None) -> None:
        raise CandidateTimeout(f"{what} ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
