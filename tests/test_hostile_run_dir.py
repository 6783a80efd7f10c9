"""A run directory from someone else is data: no write follows a symbolic link planted in
it, no crafted value becomes markup or a terminal escape, deep or huge files are read
without a crash, and nothing it names reaches an import path.

Each case damages a copy of a finished tiny run, then runs the verb a user would: it must
answer in one line (exit 2) or do its work, and leave the link's target untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import evonas
from evonas.cli import main
from tests.plugins.tiny import tiny_scenario


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    path = tmp / "tiny.toml"
    path.write_text(tiny_scenario(evaluations=4))
    return evonas.run(path, out=tmp / "run").dir


@pytest.fixture
def run_dir(finished: Path, tmp_path: Path) -> Path:
    target = tmp_path / "received"
    shutil.copytree(finished, target)
    return target


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file of the user's, outside the run directory, that a link points at."""
    path = tmp_path / "precious.txt"
    path.write_text("mine\n")
    return path


def plant_link(run_dir: Path, name: str, target: Path) -> None:
    path = run_dir / name
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(target)


def verb(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- writes never follow a link planted in the run directory -------------------------------
@pytest.mark.parametrize(
    ("name", "argv"),
    [
        (".lock", ["resume", "RUN", "--budget", "6evals"]),
        ("events.jsonl", ["resume", "RUN", "--budget", "6evals"]),
        ("cheap.jsonl", ["resume", "RUN", "--budget", "6evals"]),
        ("report.html", ["report", "RUN"]),
    ],
)
def test_a_planted_file_link_is_never_written_through(
    run_dir: Path, victim: Path, name: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    if name == "events.jsonl":  # the journal must stay readable: the link points at a copy
        shutil.copy(run_dir / name, victim)
    before = victim.read_bytes()
    plant_link(run_dir, name, victim)
    with contextlib.suppress(SystemExit):
        main([str(run_dir) if a == "RUN" else a for a in argv])
    capsys.readouterr()
    assert victim.read_bytes() == before


@pytest.mark.parametrize(
    ("folder", "argv"), [("plots", ["plot", "RUN"]), ("export", ["export", "RUN", "0"])]
)
def test_a_planted_folder_link_is_refused(
    run_dir: Path, tmp_path: Path, folder: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    plant_link(run_dir, folder, elsewhere)
    code, _, err = verb([str(run_dir) if a == "RUN" else a for a in argv], capsys)
    assert code == 2 and "symbolic link" in err
    assert list(elsewhere.iterdir()) == []


def test_the_lock_link_is_refused_before_anything_is_truncated(
    run_dir: Path, victim: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plant_link(run_dir, ".lock", victim)
    code, _, err = verb(["resume", str(run_dir), "--budget", "6evals"], capsys)
    assert code == 2 and ".lock is a symbolic link" in err
    assert victim.read_text() == "mine\n"


def test_weights_that_are_not_a_regular_file_are_refused(run_dir: Path) -> None:
    weights = sorted((run_dir / "weights").glob("*.pt"))[0]
    weights.unlink()
    os.mkfifo(weights)  # reading a FIFO would block forever
    ident = int(weights.stem)
    with pytest.raises(evonas.record.run_record.RecordError, match="not a regular file"):
        evonas.load_run(run_dir).record.load_weights(ident)


# --- crafted values -------------------------------------------------------------------------
def edit_config(run_dir: Path, change: Callable[[dict], None]) -> None:  # type: ignore[type-arg]
    path = run_dir / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["objectives"][0].update(name="<a href='http://x'>err</a>"),
        lambda c: c["objectives"][1].update(unit="\x1b]0;pwned\x07"),
        lambda c: c["objectives"][0].update(name="val\x1b[2Jerror"),
        lambda c: c["scenario"].update(name="<style>body{display:none}</style>"),
    ],
    ids=["objective-markup", "unit-escape", "objective-escape", "name-markup"],
)
def test_names_that_would_be_markup_or_escapes_are_refused(
    run_dir: Path,
    change: Callable[[dict], None],
    capsys: pytest.CaptureFixture[str],  # type: ignore[type-arg]
) -> None:
    edit_config(run_dir, change)
    for argv in (["show", str(run_dir)], ["report", str(run_dir)], ["pick", str(run_dir)]):
        code, out, err = verb(argv, capsys)
        assert code == 2, (argv, out, err)
        assert "\x1b" not in out and "<a href" not in out
    assert (
        not (run_dir / "report.html").exists()
        or "<a href" not in (run_dir / "report.html").read_text()
    )


def test_a_morphism_name_with_an_escape_is_a_damaged_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["morphisms"] = [{"name": "widen\x1b[2J", "site": ["n0"], "details": {}}]
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    code, out, err = verb(["show", str(run_dir)], capsys)
    assert code == 2 and "damaged event" in err and "\x1b" not in out + err


def test_deeply_nested_json_is_a_damaged_file_not_a_crash(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (run_dir / "config.json").write_text(deep)
    code, _, err = verb(["show", str(run_dir)], capsys)
    assert code == 2 and "damaged" in err


def test_a_deeply_nested_journal_line_is_a_damaged_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "events.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + path.read_text())
    code, _, err = verb(["show", str(run_dir)], capsys)
    assert code == 2 and "damaged event" in err


def test_a_long_journal_is_read_as_a_stream(run_dir: Path) -> None:
    path = run_dir / "events.jsonl"
    record = json.loads(path.read_text().splitlines()[0])
    with open(path, "w") as f:
        for ident in range(20_000):
            f.write(json.dumps({**record, "id": ident}) + "\n")
    assert sum(1 for _ in evonas.load_run(run_dir).record.events()) == 20_000


# --- nothing a run directory names reaches an import path ----------------------------------
def test_resume_never_imports_from_a_folder_the_run_names(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "evil_plugin.py").write_text("raise SystemExit('imported!')\n")
    edit_config(run_dir, lambda c: c.update(import_paths=[str(planted)]))
    edit_config(run_dir, lambda c: c["scenario"]["executor"].update(kind="pool", workers=1))
    before = os.environ.get("PYTHONPATH", "")
    main(["resume", str(run_dir), "--budget", "5evals"])
    capsys.readouterr()
    assert str(planted) not in os.environ.get("PYTHONPATH", "") and before == os.environ.get(
        "PYTHONPATH", ""
    )
    import sys

    assert str(planted) not in sys.path


# --- crafted journal values: each a damaged line, named, never a traceback ------------------
def _set(path: list[str], value: object) -> Callable[[dict], None]:  # type: ignore[type-arg]
    def change(record: dict) -> None:  # type: ignore[type-arg]
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _drop_objective(record: dict) -> None:  # type: ignore[type-arg]
    record["objectives"].pop("params")


CRAFTED = {
    "error-not-text": _set(["error"], {"x": 1}),
    "elapsed-not-a-number": _set(["train", "elapsed"], "soon"),
    "epochs-bool": _set(["train", "epochs"], True),
    "steps-fraction": _set(["train", "steps"], 2.5),
    "inherited-number": _set(["train", "inherited"], 1),
    "rung-text": _set(["train", "rung"], "top"),
    "id-text": _set(["id"], "3"),
    "id-fraction": _set(["id"], 2.5),
    "id-negative": _set(["id"], -1),
    "id-bool": _set(["id"], True),
    "parent-text": _set(["parent_id"], "0"),
    "objective-text": _set(["objectives", "val_error"], "0.1"),
    "objective-bool": _set(["objectives", "val_error"], False),
    "objective-list": _set(["objectives", "val_error"], [0.1]),
    "objectives-list": _set(["objectives"], [0.1, 2.0]),
    "objective-name-escape": _set(["objectives", "val\x1b[2J"], 0.1),
    "violation-text": _set(["violation"], "none"),
    "step-text": _set(["step"], "1"),
    "status-unknown": _set(["status"], "fine"),
    "predicted-text": _set(["predicted"], {"val_error": "low"}),
    "record-a-list": lambda record: record.clear() or record.update({"id": []}),
}


@pytest.mark.parametrize("change", list(CRAFTED.values()), ids=list(CRAFTED))
def test_a_crafted_value_in_the_journal_is_a_damaged_line(
    run_dir: Path,
    change: Callable[[dict], None],  # type: ignore[type-arg]
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    change(first)
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    for argv in (["show", str(run_dir)], ["resume", str(run_dir), "--budget", "6evals"]):
        code, out, err = verb(argv, capsys)
        assert code == 2, (argv, out, err)
        assert "events.jsonl:1: damaged event" in err and "Traceback" not in err
        assert "\x1b" not in out + err
    assert path.read_text().splitlines()[0] == lines[0]  # nothing destroyed


def test_a_missing_objective_is_named(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    _drop_objective(first)
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    code, _, err = verb(["show", str(run_dir)], capsys)
    assert code == 2 and "lacks objective(s) ['params']" in err


def test_an_id_recorded_twice_is_a_damaged_line(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[0]]) + "\n")
    code, _, err = verb(["show", str(run_dir)], capsys)
    assert code == 2 and "id 0 is recorded twice" in err


def test_a_complete_but_invalid_last_line_is_refused_not_dropped(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "events.jsonl"
    before = path.read_text() + '{"id": "last", "complete": true}\n'
    path.write_text(before)
    code, _, err = verb(["resume", str(run_dir), "--budget", "6evals"], capsys)
    assert code == 2 and f"events.jsonl:{len(before.splitlines())}: damaged event" in err
    assert path.read_text() == before


def test_a_torn_last_line_is_kept_in_a_copy_with_a_word(run_dir: Path) -> None:
    path = run_dir / "events.jsonl"
    before = path.read_text() + '{"id": 99, "genome": {"no'  # killed while writing
    path.write_text(before)
    with pytest.warns(UserWarning, match=r"journal as it was is kept in .*events\.1\.dropped"):
        evonas.resume(run_dir, budget=evonas.core.Budget(evaluations=5))
    assert (run_dir / "events.1.dropped.jsonl").read_text() == before
    assert '{"id": 99' not in path.read_text()


def _huge(record: dict) -> None:  # type: ignore[type-arg]
    for node in record["genome"]["nodes"]:
        if node.get("channels"):
            node["channels"] = 1_000_000_000


def test_a_network_beyond_the_space_is_refused_before_allocation(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = run_dir / "events.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    _huge(first)
    first.pop("hash", None)
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n")
    code, _, err = verb(["export", str(run_dir), "0", "--out", str(run_dir / "x")], capsys)
    assert code == 2 and "outside the run's space" in err and "space.max_channels" in err
    with pytest.warns(UserWarning, match="outside the run's space"):
        evonas.resume(run_dir, budget=evonas.core.Budget(evaluations=5))
