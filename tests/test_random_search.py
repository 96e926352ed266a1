"""analytic.random_search against stated forms and numpy simulation; numeric.random_search against numpy."""

import itertools

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import random_search as rs
from analytic.random_search._symbols import best_fraction, grid_points, important, trials
from numeric import random_search as sim


def test_forms_are_the_stated_ones():
    assert sp.simplify(rs.random_hit_probability.expr - (1 - (1 - best_fraction) ** trials)) == 0
    assert rs.grid_hit_probability.expr == sp.Min(1, grid_points * best_fraction ** (1 / important)) ** important


def test_grid_probability_against_numpy_exhaustive_positions():
    # k = 1: slide an interval of length s over a fine grid of positions on the circle, count hits exactly
    m, s = 4, 0.15
    positions = (np.arange(200_000) + 0.5) / 200_000
    values = (np.arange(m) + 0.5) / m
    hit = np.any(np.mod(values[None, :] - positions[:, None], 1.0) < s, axis=1)
    assert abs(hit.mean() - float(rs.grid_hit_probability(best_fraction=s, grid_points=m, important=1))) < 1e-4


def test_numeric_searches_against_numpy_monte_carlo():
    out = sim.search_hit_rates(jax.random.key(0), [0.3], 3, 2, 1, repeats=20_000)
    rng = np.random.default_rng(0)
    corner = rng.uniform(size=20_000)
    points = rng.uniform(size=(20_000, 9, 2))
    numpy_random = np.mean(np.min(np.mod(points[..., 0] - corner[:, None], 1.0), axis=1) < 0.3)
    grid = np.array(list(itertools.product((np.arange(3) + 0.5) / 3, repeat=2)))
    numpy_grid = np.mean(np.min(np.mod(grid[None, :, 0] - corner[:, None], 1.0), axis=1) < 0.3)
    se = np.sqrt(0.25 / 20_000)
    assert abs(float(out.random[0]) - numpy_random) < 6 * se  # two independent estimates: 4 SE of the difference
    assert abs(float(out.grid[0]) - numpy_grid) < 6 * se
    assert abs(float(out.grid[0]) - 0.9) < 4 * se  # m s = 0.9 exactly


@pytest.mark.parametrize("call, error, match", [
    (lambda: rs.random_hit_probability(best_fraction=1.5, trials=3), ValueError, "'best_fraction' = 1.5"),
    (lambda: rs.grid_hit_probability(best_fraction=0.1, grid_points=0, important=1), ValueError, "'grid_points' = 0"),
    (lambda: sim.search_hit_rates(jax.random.key(0), [0.1], 2, 2, 3), ValueError, "important must be"),
    (lambda: sim.search_hit_rates(jax.random.key(0), [1.5], 2, 2, 1), ValueError, "thresholds must be"),
    (lambda: sim.search_hit_rates(jax.random.key(0), [0.5], 100, 3, 1), ValueError, "at most 100000"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
