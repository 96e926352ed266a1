"""Symbols of the momentum family alone (shared ones are in ``analytic.symbols``)."""

from analytic.symbols import L, mu  # noqa: F401  (smallest / largest Hessian eigenvalue, created once)
