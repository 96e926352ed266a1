"""Random vs grid search (Bergstra & Bengio 2012): simulated searches vs the hit probabilities."""

from __future__ import annotations

import numpy as np

from numeric import random_search as sim
from verify.core import Context, check, compare, compare_outcome

_FRACTIONS = np.array([0.002, 0.01, 0.05, 0.1])  # best fraction q of the space
_GRID, _DIMENSIONS = 4, 3  # 4 values per hyperparameter, 3 hyperparameters: 64 trials


@check("random_search.random_vs_grid", uses={
    "random": "random_search.random_hit_probability", "grid": "random_search.grid_hit_probability"})
def random_vs_grid(ctx: Context, random, grid):
    """Simulated random and grid searches (64 trials) hit the best fraction q as predicted when 1, 2 or 3 of 3 matter."""
    repeats = 1000 if ctx.smoke else 4000 if ctx.quick else 100_000
    trials = _GRID**_DIMENSIONS
    for important in (1, 2, 3):
        side = _FRACTIONS ** (1 / important)  # a box of volume q in the important coordinates
        out = ctx.measure(sim.search_hit_rates, ctx.key(f"random_search/{important}"), side, _GRID, _DIMENSIONS,
                          important, repeats)
        measured_random, measured_grid = np.asarray(out.random), np.asarray(out.grid)
        p_random = np.asarray(random(best_fraction=_FRACTIONS, trials=trials))
        p_grid = np.asarray(grid(best_fraction=_FRACTIONS, grid_points=_GRID, important=important))

        def binomial_se(p, predicted):  # the larger of the measured and predicted binomial variances, and a floor
            return np.sqrt(np.maximum.reduce([p * (1 - p), predicted * (1 - predicted),
                                              np.full(p.shape, 1 / repeats)]) / repeats)

        yield compare(f"k = {important} of {_DIMENSIONS} matter: random search (64 trials) hits q = "
                      f"{_FRACTIONS.tolist()}: 1 - (1 - q)^N", p_random, measured_random,
                      4 * binomial_se(measured_random, p_random), "4 binomial standard errors of the hit frequency "
                      f"({repeats} searches)", relative=False)
        yield compare(f"k = {important}: grid search (4 values each) hits: min(1, m q^(1/k))^k", p_grid, measured_grid,
                      4 * binomial_se(measured_grid, p_grid), f"4 binomial standard errors of the hit frequency ({repeats} "
                      "searches)", relative=False)
        if important < _DIMENSIONS:
            better = measured_random - measured_grid > 4 * np.hypot(binomial_se(measured_random, measured_random),
                                                                   binomial_se(measured_grid, measured_grid))
            yield compare_outcome(f"k = {important} < D: random search beats the grid at every q (> 4 SE)",
                                  str([bool(v) for v in p_random > p_grid]), str([bool(v) for v in better]),
                                  "4 binomial standard errors of the difference of two hit frequencies")
        if important == 1:
            ctx.figure("random_search_hits", {
                "best_fraction": _FRACTIONS, "predicted_random": p_random, "measured_random": measured_random,
                "predicted_grid": p_grid, "measured_grid": measured_grid},
                x="best_fraction", ys=("predicted_random", "measured_random", "predicted_grid", "measured_grid"),
                logx=True, title="64 trials, 1 of 3 hyperparameters matters: P(a trial lands in the best fraction q)",
                ylabel="probability of a hit")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("random_search.random_hit_probability", "q^N instead of 1 - (1 - q)^N", "best_fraction*trials"),
    mistake("random_search.grid_hit_probability", "the grid credited with all m^D points, like random search",
            "Min(1, best_fraction**(1/important)*grid_points**3)**important"),
)
