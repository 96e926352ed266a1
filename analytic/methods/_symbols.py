"""Symbols of the methods family: the interval ``[mu, L]`` and QHM's discount ``nu``."""

import sympy as sp

from analytic._iteration_engine import L, mu, z  # noqa: F401  (created once, with the linear-iteration engine)

nu = sp.Symbol("nu", nonnegative=True)  # QHM immediate discount factor, in [0, 1]
