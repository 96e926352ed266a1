"""Symbols of the eos_mechanisms family (``eta`` is in ``analytic.symbols``).

On the minimalist loss ``L(x, y) = (1 - x^2 y^2)^2 / 4``: ``product`` is ``p = x y`` (the
valley of minima is ``p = +-1``), ``imbalance`` is ``d = x^2 - y^2`` (conserved by gradient
flow, shrunk by GD while it oscillates).
"""

from sympy import Symbol

product = Symbol("product", real=True)  # p = x y
imbalance = Symbol("imbalance", real=True)  # d = x^2 - y^2
