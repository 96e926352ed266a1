"""Symbols of the implicit-regularisation family alone (shared ones are in ``analytic.symbols``).

The factors are ``w1``, ``w2`` (real; ``u`` is taken, positive, by deeplinear).
"""

from sympy import Symbol

w1 = Symbol("w1", real=True)  # first factor of the scalar factorisation w1 w2 ~ y
w2 = Symbol("w2", real=True)  # second factor
y = Symbol("y", real=True)  # the target of the scalar factorisation
w3 = Symbol("w3", real=True)  # third factor of the depth-3 scalar chain w3 w2 w1 ~ y
