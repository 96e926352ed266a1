"""Symbols of the catapult family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

lam0 = Symbol("lam0", positive=True)  # NTK eigenvalue at initialisation
f = Symbol("f", real=True)  # network output on the training example
y = Symbol("y", real=True)  # label of the training example
n = Symbol("n", positive=True)  # width of the uv model (u, v in R^n)
