"""Symbols of the games family alone (shared ones, such as ``eta``, are in ``analytic.symbols``)."""

from sympy import Symbol

from analytic.symbols import mu, z  # noqa: F401  (created once: mu as momentum's, z the charpoly variable)

sigma = Symbol("sigma", positive=True)  # a singular value of the coupling matrix A of x^T A y
momentum = Symbol("momentum", real=True)  # heavy-ball coefficient; negative momentum has momentum < 0
# mu: strong monotonicity of mu/2 |x|^2 + x^T A y - mu/2 |y|^2 (the smallest curvature, as momentum's mu)
