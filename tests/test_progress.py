"""The progress line a terminal shows: what trains now (the oldest submitted, and how many
wait), never a stray separator, and the training speed once a network has trained."""

from __future__ import annotations

import io

from evonas.core import Budget
from evonas.progress import ProgressDisplay
from evonas.testing.surrogate import surrogate_search


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: Terminal) -> list[str]:
    return [part.strip() for part in stream.getvalue().split("\r") if part.strip()]


def test_the_line_names_the_network_training_and_those_waiting() -> None:
    screen = Terminal()
    display = ProgressDisplay(screen)
    display.starting("loading synthetic and checking the scenario ...")
    search = surrogate_search("lemonade", seed=0, budget=Budget(evaluations=12))
    search.observers.append(display)
    search.run()
    shown = lines(screen)
    assert shown[0].startswith("loading synthetic")
    assert not any(line.startswith("|") for line in shown)
    # the 5 initial networks are submitted together: the line names #0, the oldest, and
    # the four after it; once #0 is evaluated it names #1
    assert any("training #0 (+4 waiting) " in line for line in shown)
    assert any("training #1 (+3 waiting) " in line for line in shown)


def test_the_training_speed_is_shown_once_known() -> None:
    from evonas.core.individual import Individual, Status, TrainFacts
    from evonas.space import simple_genome

    screen = Terminal()
    display = ProgressDisplay(screen)
    search = surrogate_search("random", seed=0, budget=Budget(evaluations=1))
    ind = Individual(
        id=0,
        genome=simple_genome(),
        parent_id=None,
        morphisms=(),
        objectives={"val_error": 0.2, "params": 1e4},
        status=Status.OK,
        train=TrainFacts(images_per_second=2310.0),
        step=0,
    )
    display.on_individual(search, ind)
    assert "2,310 img/s" in lines(screen)[-1]
