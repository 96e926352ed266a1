r"""Probability that a search lands in the best fraction q of the space (Bergstra & Bengio 2012).

*Random search*: each of $N$ independent uniform trials lands in a region of volume $q$ with
probability $q$, so sympy's product over the trials gives
``random_hit_probability`` $= 1 - (1 - q)^N$, whatever the dimension and however many
coordinates matter (Bergstra & Bengio 2012, JMLR 13, sec. 2: the 1 - (1 - q)^N argument;
section number from memory, unconfirmed).

*Grid search* with $m$ values per coordinate ($N = m^D$ trials) when the objective depends on
$k$ of the $D$ coordinates only and its best region is a box of side $s = q^{1/k}$ at a
uniformly random position (on the torus, so that no edge is special): the grid's projection on
each important coordinate is just $m$ equally spaced values, and an interval of length $s$ at a
uniform position contains one of them with probability $m\,\min(s, 1/m)$ (sympy integrates the
indicator over one grid cell); the coordinates are independent, so
``grid_hit_probability`` $= \min(1, m\,q^{1/k})^k$. With $k < D$ the grid spends $m^D$ trials
on $m^k$ distinct settings of what matters; random search spends all $N$ of them.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.random_search._symbols import best_fraction, grid_points, important, trials
from analytic.references import cite

FORMULAS = Formulas("random_search")

_FRACTION = (("best_fraction", sp.Interval.Lopen(0, 1)),)


@FORMULAS.register("random_hit_probability")
def _random_hit_probability() -> Formula:
    i = sp.Symbol("i", integer=True, positive=True)
    miss_all = sp.Product(1 - best_fraction, (i, 1, trials)).doit()
    return Formula(
        expr=1 - miss_all, params=(best_fraction, trials), domains=_FRACTION,
        evaluate_as=-expm1(trials * log1p(-best_fraction)),
        source=cite("bergstra2012", "sec. 2 (random search: 1 - (1 - q)^N)"), derived=True,
        derivation="sympy Product over N independent trials of the miss probability 1 - q",
        conditions=("trials independent and uniform over the space; success = landing in a region of volume "
                    "best_fraction",),
        description="probability that random search with N trials lands in the best fraction q",
    )


def _interval_hits_a_grid_point() -> sp.Expr:
    """P(an interval of length s at a uniform position on the circle contains one of m equally spaced
    points) = m * integral over one cell of width 1/m of the indicator, s <= 1/m (sympy)."""
    s, m, u = sp.Symbol("s", positive=True), sp.Symbol("m", positive=True), sp.Symbol("u", real=True)
    # in one cell [0, 1/m) with its grid point at 0 (mod 1/m), the interval [u, u + s) contains the next
    # point 1/m when u >= 1/m - s
    inside = sp.integrate(1, (u, 1 / m - s, 1 / m))
    return sp.Min(1, m * inside).subs({s: best_fraction ** (1 / important), m: grid_points})


@FORMULAS.register("grid_hit_probability")
def _grid_hit_probability() -> Formula:
    per_coordinate = _interval_hits_a_grid_point()
    return Formula(
        expr=per_coordinate**important, params=(best_fraction, grid_points, important), domains=_FRACTION,
        source=cite("bergstra2012", "sec. 2 (grid search when few hyperparameters matter)"), derived=True,
        derivation="sympy integrate of the indicator that a uniformly placed interval of length q^(1/k) covers a "
                   "grid value, over one grid cell; independent over the k important coordinates",
        conditions=("grid_points values per coordinate, equally spaced on the torus [0, 1); the best region is a "
                    "box of side best_fraction^(1/important) in the important coordinates at a uniform position",),
        description="probability that a grid with m values per coordinate lands in the best fraction q when k "
                    "coordinates matter",
    )
