"""Symbols of the momentum family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

mu = Symbol("mu", positive=True)  # smallest Hessian eigenvalue (strong convexity)
L = Symbol("L", positive=True)  # largest Hessian eigenvalue (smoothness)
