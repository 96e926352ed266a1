"""Symbols of the spectral_bias family alone (shared ones, ``eta``, ``lam``, ``t``, are in ``analytic.symbols``).

``d`` is the input dimension: the data lie on the unit sphere $S^{d-1} \\subset \\mathbb R^d$
(integer, positive: the assumptions of every other Symbol named ``d`` in the catalogue).
``degree`` is the degree $k$ of a spherical harmonic. In the residual decay ``lam`` is the
curvature of one degree's mode: the kernel eigenvalue $\\lambda_k$ of that degree.
"""

from sympy import Symbol

d = Symbol("d", integer=True, positive=True)  # input dimension: data on the sphere S^(d-1) in R^d
degree = Symbol("degree", integer=True, nonnegative=True)  # degree k of a spherical harmonic
