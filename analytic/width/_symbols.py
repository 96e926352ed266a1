"""Symbols of the width family (shared ones are in ``analytic.symbols``).

``width`` is the number of units per hidden layer, ``depth`` the number of weight matrices
(glossary names, the same Symbols wherever the catalogue uses them).
"""

from sympy import Symbol

width = Symbol("width", integer=True, positive=True)  # units per hidden layer, n
depth = Symbol("depth", integer=True, positive=True)  # weight matrices, L (L - 1 hidden layers)
target = Symbol("target", real=True)  # the training target y of the one-datum regression (kernel motion)
