"""Pareto-plot labels: every front member's id stays readable on a dense front."""

from __future__ import annotations

import itertools

import numpy as np

from evonas.record.plots import _overlap, _plt, place_labels


def test_labels_of_a_dense_front_do_not_overlap() -> None:
    # the clusters of a real front (ids 64 / 61 / 56 at almost one point, a step below
    # them 48 / 47): with one fixed offset their labels were drawn on top of each other
    rng = np.random.default_rng(0)
    centres = [(0.10, 4e4), (0.105, 2.2e4), (0.2, 3e3), (0.3, 1e3)]
    points = [(x * (1 + 0.02 * i), y * (1 + 0.01 * i)) for x, y in centres for i in range(3)]
    points += [(float(x), float(y)) for x, y in zip(
        rng.uniform(0.1, 0.45, 8), 10 ** rng.uniform(2.6, 4.6, 8), strict=True
    )]  # fmt: skip
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 4.2))
    ax.scatter(*zip(*points, strict=True), s=28)
    ax.set_xscale("log")
    ax.set_yscale("log")
    labels = place_labels(ax, points, [str(60 + i) for i in range(len(points))])
    renderer = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in labels]
    assert [a.get_text() for a in labels] == [str(60 + i) for i in range(len(points))]
    for a, b in itertools.combinations(boxes, 2):
        assert _overlap(a, b) == 0.0
    plt.close(fig)


def test_a_lone_point_keeps_the_first_spot() -> None:
    plt = _plt()
    fig, ax = plt.subplots()
    ax.scatter([1.0], [1.0])
    (label,) = place_labels(ax, [(1.0, 1.0)], ["7"])
    assert label.get_text() == "7"
    assert (label.get_horizontalalignment(), label.get_verticalalignment()) == ("left", "bottom")
    plt.close(fig)
