"""Symbols of the early_stopping family alone (``eta``, ``lam``, ``t`` are shared; ``ridge`` has linreg's
name and assumptions)."""

from sympy import Symbol

ridge = Symbol("ridge", positive=True)  # ridge penalty (lambda of ridge regression; the same as linreg's)
