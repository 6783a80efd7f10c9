"""Kernel density over objective vectors, and sampling by its inverse.

LEMONADE (Elsken et al., ICLR 2019) draws parents and accepts children with probability
inversely proportional to a kernel density estimate over the cheap objectives, so that
sparse regions of the front are explored; aging evolution and NSGA-II use the same
acceptance when they make more children than they train (``candidates`` > 1).
"""

from __future__ import annotations

import numpy as np


def kde_log_density(points: np.ndarray, at: np.ndarray, min_bandwidth: float = 0.02) -> np.ndarray:
    """Log of the Gaussian kernel density of ``points`` at ``at`` (Scott's bandwidth per
    dimension, floored so a tight cluster still has a usable density). In the log domain
    (log-sum-exp), so a point far from every other still gets a finite value where the
    density itself would underflow to 0."""
    n, d = points.shape
    std = points.std(axis=0) if n > 1 else np.zeros(d)
    h = np.maximum(std * n ** (-1.0 / (d + 4)), min_bandwidth)
    z = (at[:, None, :] - points[None, :, :]) / h
    log_kernel = -0.5 * (z**2).sum(axis=2)
    peak = log_kernel.max(axis=1, keepdims=True)
    log_mean = peak[:, 0] + np.log(np.exp(log_kernel - peak).mean(axis=1))
    return log_mean - float(np.sum(np.log(h * np.sqrt(2 * np.pi))))


def kde_density(points: np.ndarray, at: np.ndarray, min_bandwidth: float = 0.02) -> np.ndarray:
    """The kernel density itself (see :func:`kde_log_density`)."""
    return np.exp(kde_log_density(points, at, min_bandwidth))


def inverse_density_weights(points: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Sampling probabilities proportional to 1 / density, computed in the log domain, and
    floored at the smallest positive float: a point sitting on a dense cluster far from the
    sparsest one would underflow to exactly 0, and a draw of n without replacement needs n
    non-zero probabilities (where nothing underflows the floor changes no value)."""
    log_weights = -kde_log_density(points, at)
    log_weights -= log_weights.max()
    weights = np.maximum(np.exp(log_weights), np.finfo(float).tiny)
    return weights / weights.sum()
