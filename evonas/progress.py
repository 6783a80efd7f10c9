"""The progress display: an observer of the search, on a terminal or in a log.

On a terminal, one line rewritten in place, fitted to the terminal's width: evaluations,
the front's best error and size, hypervolume, training speed (images per second), elapsed
time and ETA (the budget's own measure of how far the search is), and the network just
evaluated with its score; while networks train, the line names the oldest of them (the one
training, in process) and how many more wait. Piped, one log line per evaluated network.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from typing import TextIO

from evonas.core.individual import Candidate, Individual
from evonas.core.observer import Observer, SearchState
from evonas.core.units import format_quantity


def duration(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``4000`` -> ``1h06m``; ``--`` when unknown."""
    if not math.isfinite(seconds):
        return "--"
    m, s = divmod(int(max(0.0, seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class ProgressDisplay(Observer):
    """Shows a running search (see the module's description)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self._status = ""
        # submitted, not yet evaluated: ("training #5", its network) by id
        self._training: dict[int, tuple[str, str]] = {}

    def starting(self, what: str) -> None:
        """Says what happens before the first network trains (loading data, say)."""
        if self.tty:
            self._write(what)

    def on_submit(self, search: SearchState, ident: int, candidate: Candidate) -> None:
        how = "fine-tuning" if candidate.state is not None else "training"
        self._training[ident] = (f"{how} #{ident}", candidate.genome.short_summary())
        if self.tty:
            self._write(self._line())

    def _line(self, last: str = "") -> str:
        """The status, then what trains (before the last result: a narrow terminal cuts
        the end of the line)."""
        parts = [self._status]
        if self._training:
            label, network = self._training[min(self._training)]
            more = len(self._training) - 1
            parts.append(label + (f" (+{more} waiting)" if more else "") + f" {network}")
        parts.append(last)
        return " | ".join(p for p in parts if p)

    def on_individual(self, search: SearchState, ind: Individual) -> None:
        p, b = search.progress, search.budget
        self._training.pop(ind.id, None)
        front = search.archive.front()
        errors = [i.objectives.get("val_error", math.nan) for i in front]
        best = min(errors) if errors else math.nan
        ips = ind.train.images_per_second
        speed = f" | {ips:,.0f} img/s" if ips else ""
        self._status = (
            f"eval {p.evaluations} | best err {best:.4f} | front {len(front)}"
            f" | hv {p.hypervolume:.4f}{speed} | {duration(p.seconds)},"
            f" ETA {duration(b.eta_seconds(p))}"
        )
        if ind.ok:
            score = ", ".join(f"{k} {format_quantity(v)}" for k, v in ind.objectives.items())
        else:
            score = f"{ind.status}: {ind.error}"
        line = f"{self._status} | #{ind.id} {score} | {ind.genome.short_summary()}"
        if self.tty:
            self._write(self._line(f"#{ind.id} {score}") if self._training else line)
        else:
            self.stream.write(time.strftime("%H:%M:%S ") + line + "\n")
            self.stream.flush()

    def on_stop(self, search: SearchState, reason: str) -> None:
        self.close()
        early = not reason.startswith("budget reached")
        print(f"evonas: stopped: {reason}", file=sys.stderr if early else self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
            self.tty = False  # one newline only

    def _write(self, line: str) -> None:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        if len(line) > width:
            line = line[: width - 1] + "~"
        self.stream.write("\r" + line.ljust(width))
        self.stream.flush()
