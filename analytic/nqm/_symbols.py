"""Symbols of the noisy-quadratic-model family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

h = Symbol("h", positive=True)  # curvature of one dimension
c = Symbol("c", nonnegative=True)  # gradient-noise scale of one dimension
B = Symbol("B", positive=True)  # batch size (>= 1)
p = Symbol("p", real=True)  # preconditioning power
theta_sq = Symbol("theta_sq", nonnegative=True)  # E[theta_t^2] in one dimension
theta_cross = Symbol("theta_cross", real=True)  # E[theta_t theta_{t-1}]
theta_prev_sq = Symbol("theta_prev_sq", nonnegative=True)  # E[theta_{t-1}^2]
