"""Symbols of the linear-regression family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

lam_min = Symbol("lam_min", positive=True)  # smallest Hessian eigenvalue
lam_max = Symbol("lam_max", positive=True)  # largest Hessian eigenvalue
gamma = Symbol("gamma", positive=True)  # aspect ratio d / n
r2 = Symbol("r2", nonnegative=True)  # signal strength ||beta||^2
sigma2 = Symbol("sigma2", nonnegative=True)  # label-noise variance
ridge = Symbol("ridge", positive=True)  # ridge penalty (lambda of ridge regression)
rho = Symbol("rho", real=True)  # correlation between two features
scale = Symbol("scale", positive=True)  # ratio of two feature scales
