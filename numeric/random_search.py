"""Hyperparameter searches run directly: random and grid search on an objective where few coordinates matter.

Independent of ``analytic``: nothing here knows a closed form.

The objective on the unit cube ``[0, 1)^hyperparameters`` is
``f(x) = max_j ((x_j - c_j) mod 1)`` over the first ``important`` coordinates, with the corner
``c`` drawn uniformly for every repeat (the torus: no edge is special); a search *hits* when
the smallest ``f`` among its trials is below ``threshold`` (a box of side ``threshold`` in
the important coordinates). Random search evaluates ``grid_points^hyperparameters`` uniform
points, grid search the grid ``(i + 1/2) / grid_points`` in every coordinate: the same number
of trials. Each returns the fraction of ``repeats`` that hit.
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["SearchHits", "search_hit_rates"]


class SearchHits(NamedTuple):
    """Hit fractions of random and grid search over the repeats, and the number of repeats."""

    random: jax.Array
    grid: jax.Array
    repeats: int


@functools.partial(jax.jit, static_argnames=("grid_points", "hyperparameters", "repeats"))
def _simulate(key, thresholds, grid_points, hyperparameters, important, repeats):
    values = (jnp.arange(grid_points) + 0.5) / grid_points
    grid = jnp.array(list(itertools.product(*[range(grid_points)] * hyperparameters)))
    grid = values[grid]  # (grid_points^hyperparameters, hyperparameters)
    trials = grid.shape[0]
    k_corner, k_points = jax.random.split(key)
    corners = jax.random.uniform(k_corner, (repeats, hyperparameters))
    points = jax.random.uniform(k_points, (repeats, trials, hyperparameters))
    matters = jnp.arange(hyperparameters) < important  # the objective ignores the other coordinates

    def best(x, corner):  # smallest objective value among the trials x (trials, hyperparameters)
        return jnp.min(jnp.max(jnp.where(matters, jnp.mod(x - corner, 1.0), 0.0), axis=-1))

    random_best = jax.vmap(best)(points, corners)
    grid_best = jax.vmap(lambda c: best(grid, c))(corners)
    hit = lambda b: jnp.mean(b[None, :] < thresholds[:, None], axis=1)  # noqa: E731
    return hit(random_best), hit(grid_best)


def search_hit_rates(key, thresholds, grid_points: int, hyperparameters: int, important: int,
                     repeats: int = 2000) -> SearchHits:
    """Fraction of ``repeats`` searches (random and grid, ``grid_points^hyperparameters`` trials each)
    whose best trial is below each of ``thresholds`` (one entry per threshold).

    Example:
        >>> import jax
        >>> from numeric import random_search
        >>> out = random_search.search_hit_rates(jax.random.key(0), [1.0], 2, 2, 1, repeats=10)
        >>> out.random.tolist(), out.grid.tolist()  # threshold 1: every search hits
        ([1.0], [1.0])
    """
    for name, value in (("grid_points", grid_points), ("hyperparameters", hyperparameters), ("important", important),
                        ("repeats", repeats)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    if important > hyperparameters:
        raise ValueError(f"important must be <= hyperparameters = {hyperparameters}, got {important}")
    if grid_points**hyperparameters > 100_000:
        raise ValueError(f"grid_points^hyperparameters = {grid_points**hyperparameters} trials: at most 100000")
    thresholds = np.atleast_1d(np.asarray(thresholds, dtype=float))
    if thresholds.ndim != 1 or np.any(~np.isfinite(thresholds)) or np.any(thresholds <= 0) or np.any(thresholds > 1):
        raise ValueError(f"thresholds must be in (0, 1], got {thresholds!r}")
    random, grid = _simulate(key, jnp.asarray(thresholds), int(grid_points), int(hyperparameters),
                             jnp.asarray(int(important)), int(repeats))
    return SearchHits(random, grid, int(repeats))
