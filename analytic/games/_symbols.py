"""Symbols of the games family alone (shared ones, such as ``eta``, are in ``analytic.symbols``)."""

from sympy import Symbol

from analytic._iteration_engine import z  # noqa: F401  (the charpoly variable, complex; created once)

sigma = Symbol("sigma", positive=True)  # a singular value of the coupling matrix A of x^T A y
momentum = Symbol("momentum", real=True)  # heavy-ball coefficient; negative momentum has momentum < 0
mu = Symbol("mu", positive=True)  # strong monotonicity of mu/2 |x|^2 + x^T A y - mu/2 |y|^2 (as momentum's mu)
