"""Symbols of the bilevel family alone (shared ones, ``eta``, ``lam``, ``t``, are in ``analytic.symbols``).

``lam`` is an eigenvalue of the inner Hessian ``H = X^T X / n`` (the curvature of one
mode); ``ridge`` is the ridge penalty (the hyperparameter, lambda of ridge regression;
the same Symbol, name and assumptions, as ``analytic.linreg``'s).
"""

from sympy import Symbol

ridge = Symbol("ridge", positive=True)  # ridge penalty: the hyperparameter of the outer problem
b = Symbol("b", real=True)  # one mode's component of X^T y / n (the linear term of the inner loss)
w0 = Symbol("w0", real=True)  # one mode's component of the GD starting point
T = Symbol("T", integer=True, nonnegative=True)  # number of unrolled inner GD steps
K = Symbol("K", integer=True, positive=True)  # number of last steps truncated backprop differentiates
noise = Symbol("noise", positive=True)  # gradient-noise variance of one NQM dimension
second_moment = Symbol("second_moment", nonnegative=True)  # E[theta^2] of one NQM dimension
m0 = Symbol("m0", positive=True)  # initial E[theta^2] of the one-dimensional NQM
