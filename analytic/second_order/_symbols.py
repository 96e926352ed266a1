"""Symbols of the second_order family alone (``kappa``, ``t``, ``mu``, ``L``, ``lam`` are shared).

``sufficient_decrease`` is Armijo's constant (``alpha`` of Boyd & Vandenberghe, ``c1`` of Nocedal &
Wright; not named ``alpha``, which the catalogue uses for a step size), ``shrink`` the backtracking
factor (their ``beta``; ``beta`` is the momentum coefficient here).
"""

from sympy import Symbol

sufficient_decrease = Symbol("sufficient_decrease", positive=True)  # Armijo constant, in (0, 1/2)
shrink = Symbol("shrink", positive=True)  # backtracking factor, in (0, 1)
rayleigh = Symbol("rayleigh", positive=True)  # Rayleigh quotient g^T H g / g^T g of the gradient
step = Symbol("step", positive=True)  # an accepted backtracking step size
cubic = Symbol("cubic", real=True)  # third derivative f''' of the one-dimensional objective
error = Symbol("error", real=True)  # the distance x - x* of a Newton iterate from the minimiser
damping = Symbol("damping", nonnegative=True)  # Levenberg damping added to the Hessian
