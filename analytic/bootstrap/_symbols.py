"""Symbols of the bootstrap family (``eta``, ``sigma2`` and ``r2`` are in ``analytic.symbols``:
the label-noise variance and signal strength are the linear-regression family's too).

``dim`` is the number of Gaussian features d; ``batch_size`` the examples per SGD step;
``T`` the step count (a whole number: the contraction factor may be negative).
"""

from sympy import Symbol

from analytic.symbols import r2, sigma2

__all__ = ["dim", "batch_size", "T", "r2", "sigma2"]

dim = Symbol("dim", positive=True)  # number of features d (x ~ N(0, I_d))
batch_size = Symbol("batch_size", positive=True)  # examples per SGD step (>= 1)
T = Symbol("T", integer=True, nonnegative=True)  # number of SGD steps taken
