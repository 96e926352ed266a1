"""Symbols of the optimizers family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

beta1 = Symbol("beta1", nonnegative=True)  # Adam's first-moment (momentum) EMA coefficient, in [0, 1)
damping = Symbol("damping", nonnegative=True)  # Levenberg-Marquardt damping added to the curvature
