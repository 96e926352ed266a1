"""Symbols of the momentum family alone (shared ones are in ``analytic.symbols``)."""

# The interval [mu, L] of Hessian eigenvalues, created once with the linear-iteration engine.
from analytic._iteration_engine import L, mu  # noqa: F401  (mu: strong convexity; L: smoothness)
