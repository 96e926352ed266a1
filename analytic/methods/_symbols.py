"""Symbols of the methods family: the interval ``[mu, L]`` and QHM's discount ``nu``."""

import sympy as sp

from analytic.symbols import L, mu, z  # noqa: F401  (created once, in analytic.symbols)

nu = sp.Symbol("nu", nonnegative=True)  # QHM immediate discount factor, in [0, 1]
