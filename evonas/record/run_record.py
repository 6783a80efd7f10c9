"""The run record: everything a run leaves in ``results/<run-name>/``.

* ``config.json``: the resolved settings (scenario) and seed;
* ``environment.json``: versions, device, threads, host;
* ``events.jsonl``: one line per evaluated candidate (id, parent, morphisms, genome, every
  objective, training facts, status and error), appended, flushed and fsynced;
* ``cheap.jsonl``: cheap objectives of every child made (trained or not), by genome hash, so
  a resumed run decides exactly as the original did (latency is a noisy measurement);
* ``weights/<id>.pt``: the weights of every candidate that may become a parent;
* ``pareto.csv``: the current Pareto front, rewritten atomically after every event;
* ``stop.json``: why the search stopped (budget reached, search space exhausted).

The record is an :class:`~evonas.core.observer.Observer` of the search loop (cheap values,
each individual, the stop) and its weight backing (weights in and out).

Every file other than the journal is written to a temporary name and renamed, so a run
killed at any moment leaves either the old or the new version, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import platform
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

from evonas._version import __version__
from evonas.core.errors import UserError
from evonas.core.individual import Individual, StateDict
from evonas.core.observer import Observer, SearchState
from evonas.core.pareto import ObjectiveInfo
from evonas.space.genome import GenomeError

EVENTS = "events.jsonl"
CHEAP = "cheap.jsonl"
PARETO = "pareto.csv"
STOP = "stop.json"
LOCK = ".lock"


class RecordError(UserError, RuntimeError):
    """A run directory that cannot be read as a run record."""


class RunInUse(RecordError):
    """Another process holds the run directory."""


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symbolic link at ``path``: a link planted in a run
    directory (``.lock`` -> a file of yours) must not make evonas write where it points."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise RecordError(
                f"{path} is a symbolic link; evonas writes only regular files in a run "
                "directory: remove the link"
            ) from None
        raise


def safe_folder(path: Path) -> Path:
    """A folder to write into, created if missing; a symbolic link is refused (whatever it
    points to), so nothing is written outside a run directory through one."""
    if path.is_symlink():
        raise RecordError(
            f"{path} is a symbolic link; evonas writes only into real folders of a run "
            "directory: remove the link"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary file, fsync and rename (a symbolic
    link at ``path`` is replaced, never followed)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def environment(device: str) -> dict[str, Any]:
    """Versions and machine facts worth keeping with results."""
    import numpy
    import pymoo

    return {
        "evonas": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "pymoo": pymoo.__version__,
        "device": device,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


class RunRecord(Observer):
    """Reads and writes one run directory; observes the search that writes it."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.weights_dir = self.dir / "weights"
        self._lock: int | None = None

    # --- one process at a time ------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, *, create: bool = False) -> Iterator[RunRecord]:
        """Holds the run directory's lock (an OS file lock on ``.lock``, released when the
        process ends, however it ends) for as long as the block runs; another process gets
        a :class:`RunInUse` naming the holder. Leftover temporary files of a process that
        died are removed once the lock is held."""
        if create:
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RecordError(f"cannot create the run directory {self.dir}: {exc}") from None
        elif not self.dir.is_dir():
            raise RecordError(f"{self.dir} is not a run directory (no such directory)")
        fd = open_regular(self.dir / LOCK, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise RunInUse(f"{self.dir} is in use by {holder}; wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"process {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())
        self._lock = fd
        try:
            self._remove_temporary_files()
            yield self
        finally:
            self._lock = None
            os.close(fd)  # releases the lock

    def _remove_temporary_files(self) -> None:
        for folder in (self.dir, self.weights_dir):
            if folder.is_dir():
                for tmp in folder.glob(".*.tmp*"):
                    tmp.unlink(missing_ok=True)

    # --- writing ------------------------------------------------------------------------
    def create(self, config: dict[str, Any], env: dict[str, Any]) -> None:
        """Starts a new run directory (hold :meth:`locked` first); refuses to overwrite an
        existing run. The journal is created last: a directory without it is no run yet,
        so a creation that failed half-way (a full disk) does not block the next one."""
        if (self.dir / EVENTS).exists():
            raise RecordError(
                f"{self.dir} already holds a run (events.jsonl exists); "
                "use 'evonas resume' to continue it, or choose another --out"
            )
        safe_folder(self.weights_dir)
        self.write_config(config)
        atomic_write_text(self.dir / "environment.json", json.dumps(env, indent=2, sort_keys=True))
        (self.dir / EVENTS).touch()

    def write_config(self, config: dict[str, Any]) -> None:
        """Writes ``config.json`` (atomically): at creation, and when a resume changes the
        budget."""
        atomic_write_text(self.dir / "config.json", json.dumps(config, indent=2, sort_keys=True))

    def save_weights(self, ident: int, state: StateDict) -> None:
        """Writes a candidate's weights (atomically). The engine saves them before the
        journal line, so a journal entry never points at weights that are not there."""
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(self.weight_path(ident), buffer.getvalue())

    def append(self, individual: Individual) -> None:
        """Appends one evaluated individual to the journal (flushed and fsynced)."""
        _append_line(self.dir / EVENTS, json.dumps(individual.to_dict(), sort_keys=True))

    def append_cheap(self, genome_hash: str, values: dict[str, float]) -> None:
        _append_line(self.dir / CHEAP, json.dumps({"hash": genome_hash, "values": values}))

    # --- as an observer of the search ---------------------------------------------------
    def on_cheap(self, genome_hash: str, values: dict[str, float]) -> None:
        self.append_cheap(genome_hash, values)

    def on_individual(self, search: SearchState, individual: Individual) -> None:
        self.append(individual)
        self.write_pareto(search.archive.front(), search.archive.objectives)

    def on_stop(self, search: SearchState, reason: str) -> None:
        self.write_pareto(search.archive.front(), search.archive.objectives)
        stop = {"reason": reason, "evaluations": search.progress.evaluations}
        atomic_write_text(self.dir / STOP, json.dumps(stop, indent=2))

    def stop_reason(self) -> str | None:
        """Why the search last stopped (None: it has not stopped, or was killed)."""
        try:
            return str(json.loads((self.dir / STOP).read_text(encoding="utf-8"))["reason"])
        except (OSError, *_DAMAGED):
            return None

    def rewrite_events(self, individuals: Sequence[Individual]) -> Path:
        """Replaces the journal (atomically) by these individuals, the first lines of it,
        before a run resumes: a torn or untrustworthy tail is dropped from the journal, but
        the whole journal as it was is kept first in ``events.<n>.dropped.jsonl``, whose
        path is returned (a record is never destroyed)."""
        source = self.dir / EVENTS
        n = 1
        while (self.dir / f"events.{n}.dropped.jsonl").exists() or (
            self.dir / f"events.{n}.dropped.jsonl"
        ).is_symlink():
            n += 1
        kept = self.dir / f"events.{n}.dropped.jsonl"
        fd = open_regular(kept, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as f:
            shutil.copyfileobj(f, out)
        text = "".join(json.dumps(i.to_dict(), sort_keys=True) + "\n" for i in individuals)
        atomic_write_text(source, text)
        return kept

    def write_pareto(
        self, front: Sequence[Individual], objectives: Sequence[ObjectiveInfo]
    ) -> None:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["id", *(o.name for o in objectives), "parent_id", "hash", "summary"])
        for ind in front:
            writer.writerow(
                [
                    ind.id,
                    *(ind.objectives[o.name] for o in objectives),
                    ind.parent_id,
                    ind.genome.short_hash,
                    ind.genome.short_summary(),
                ]
            )
        atomic_write_text(self.dir / PARETO, out.getvalue())

    # --- reading ------------------------------------------------------------------------
    def weight_path(self, ident: int) -> Path:
        return self.weights_dir / f"{ident}.pt"

    def load_weights(self, ident: int) -> StateDict:
        """A candidate's weights (``torch.load(weights_only=True)``); a corrupted or
        truncated file raises :class:`RecordError` naming it."""
        path = self.weight_path(ident)
        if path.is_symlink() or (path.exists() and not path.is_file()):
            # a FIFO would block the read forever; a link points outside the run
            raise RecordError(f"weights file {path} is not a regular file")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise RecordError(f"weights of candidate {ident} are missing: {path}") from None
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RecordError(f"weights file {path} is corrupted or truncated ({first})") from None
        if not isinstance(state, dict):
            raise RecordError(f"weights file {path} does not hold a state dict")
        return state

    def events(self) -> Iterator[Individual]:
        """The journal's individuals, in order. A torn last line (no line end: a run killed
        while writing it) is skipped; any other damaged line, a complete last one included,
        raises :class:`RecordError`, as does an id recorded twice."""
        path = self.dir / EVENTS
        if not path.exists():
            raise RecordError(f"{self.dir} is not a run directory (no {EVENTS})")
        if not path.is_file():
            raise RecordError(f"{self.dir} is not a run directory ({EVENTS} is not a file)")
        seen: set[int] = set()
        with open(path, "rb") as f:  # a stream: a journal of any length, line by line
            number, line = 0, f.readline()
            while line:
                number, nxt = number + 1, f.readline()
                if line.strip():
                    try:
                        ind = Individual.from_dict(json.loads(line.decode("utf-8")))
                        if ind.id in seen:
                            raise ValueError(f"id {ind.id} is recorded twice")
                        seen.add(ind.id)
                        yield ind
                    except (*_DAMAGED, GenomeError) as exc:
                        if not nxt and not line.endswith(b"\n"):
                            return  # a torn last line: the run was killed while writing it
                        raise RecordError(
                            f"{path}:{number}: damaged event ({type(exc).__name__}: {exc}); "
                            "remove this line and the ones after it to resume from the last "
                            "good state"
                        ) from None
                line = nxt

    def event_lines(self) -> int:
        """Non-empty lines of the journal (a torn last line included)."""
        path = self.dir / EVENTS
        return sum(1 for line in path.read_bytes().splitlines() if line.strip())

    def cheap_cache(self) -> dict[str, dict[str, float]]:
        """Recorded cheap objectives by genome hash (a torn line is ignored)."""
        path = self.dir / CHEAP
        out: dict[str, dict[str, float]] = {}
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as f:
                for line in f:
                    try:  # a line that is not what this file holds is measured again
                        entry = json.loads(line.decode("utf-8"))
                        values = {str(k): float(v) for k, v in entry["values"].items()}
                        out[str(entry["hash"])] = values
                    except _DAMAGED:
                        continue
        return out

    def config(self) -> dict[str, Any]:
        path = self.dir / "config.json"
        if not self.dir.is_dir():
            raise RecordError(f"{self.dir} is not a run directory (not a directory)")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise RecordError(f"{self.dir} is not a run directory (no config.json)") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise RecordError(f"{path} is damaged ({type(exc).__name__}: {exc})") from None
        if not isinstance(data, dict):
            raise RecordError(f"{path} is damaged (holds {type(data).__name__}, not a table)")
        return data


_DAMAGED = (ValueError, KeyError, TypeError, AttributeError, RecursionError)
"""What reading a damaged or crafted record raises (deep nesting: RecursionError)."""


def _append_line(path: Path, line: str) -> None:
    fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())
