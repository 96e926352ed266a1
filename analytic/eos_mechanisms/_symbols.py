"""Symbols of the eos_mechanisms family (``eta`` is in ``analytic.symbols``).

On the minimalist loss ``L(x, y) = (1 - x^2 y^2)^2 / 4``: ``product`` is ``p = x y`` (the
valley of minima is ``p = +-1``), ``imbalance`` is ``d = x^2 - y^2`` (conserved by gradient
flow, shrunk by GD while it oscillates). The self-stabilisation model of Damian, Nichani &
Lee: ``displacement`` x and ``sharpness_excess`` y, ``sharpening_rate`` alpha and
``stabilisation_strength`` beta (see ``_self_stabilisation``).
"""

from sympy import Symbol

product = Symbol("product", real=True)  # p = x y
imbalance = Symbol("imbalance", real=True)  # d = x^2 - y^2

# Damian, Nichani & Lee's self-stabilisation model (coordinates about a reference point theta*
# with top Hessian eigenvector u and grad S = nabla^3 L[u, u], grad S_perp its part orthogonal to u)
displacement = Symbol("displacement", real=True)  # x = u . (theta - theta*)
sharpness_excess = Symbol("sharpness_excess", real=True)  # y = S(theta*) - 2/eta + grad S_perp . (theta - theta*)
sharpening_rate = Symbol("sharpening_rate", real=True)  # alpha = -grad L . grad S_perp (progressive sharpening)
stabilisation_strength = Symbol("stabilisation_strength", positive=True)  # beta = |grad S_perp|^2
