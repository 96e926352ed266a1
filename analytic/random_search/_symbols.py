"""Symbols of the random_search family: a search over the unit cube [0, 1)^hyperparameters.

The objective depends on ``important`` of the ``hyperparameters`` coordinates only; its best
``best_fraction`` of the cube is a box of side ``best_fraction^(1/important)`` in those
coordinates (at a uniformly random place, on the torus). Random search draws ``trials``
uniform points; a grid has ``grid_points`` values per coordinate (``grid_points^hyperparameters``
trials).
"""

from sympy import Symbol

best_fraction = Symbol("best_fraction", positive=True)  # q: volume of the region counted as a success
trials = Symbol("trials", integer=True, positive=True)  # N: points random search evaluates
grid_points = Symbol("grid_points", integer=True, positive=True)  # m: grid values per hyperparameter
important = Symbol("important", integer=True, positive=True)  # k: hyperparameters the objective depends on
