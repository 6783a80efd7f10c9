"""The run's seed streams: one table of every derivation from the run's one seed.

A run has one seed. Each kind of random choice draws from its own stream, derived with
:class:`numpy.random.SeedSequence` from ``(run seed, stream, key...)``, so adding draws to one
kind never shifts another, and a resumed run derives the same numbers as the live one.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    """The streams of a run (the numbers are part of every recorded run: never renumber)."""

    TRAINING = 1  # a candidate's training seed, keyed by its id (init, batch order, augment)
    INITIAL = 2  # the initial networks a scenario samples
    STRATEGY = 3  # a strategy's draws, keyed by the number of individuals told (its step)
    PREDICTOR = 4  # a learned predictor's fit, keyed by the number of rows it is fitted on


# Offsets inside one candidate's training seed (a torch generator each): weight init and the
# batch order share the seed itself; PreciseBN's batches take seed + PRECISE_BN.
PRECISE_BN = 1


def seed_sequence(seed: int, stream: Stream, *key: int) -> np.random.SeedSequence:
    """The seed sequence of ``stream`` (keyed by ``key``) of a run seeded ``seed``."""
    return np.random.SeedSequence([seed, int(stream), *key])


def derive_seed(seed: int, stream: Stream, *key: int) -> int:
    """One integer seed (< 2**32) from ``stream`` of a run seeded ``seed``."""
    return int(seed_sequence(seed, stream, *key).generate_state(1)[0])


def generator(seed: int, stream: Stream, *key: int) -> np.random.Generator:
    """A numpy generator on ``stream`` of a run seeded ``seed``."""
    return np.random.default_rng(seed_sequence(seed, stream, *key))
