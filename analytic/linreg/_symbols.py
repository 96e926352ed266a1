"""Symbols of the linear-regression family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

from analytic.symbols import r2, sigma2  # shared with bootstrap  # noqa: F401 (re-exported)

lam_min = Symbol("lam_min", positive=True)  # smallest Hessian eigenvalue
lam_max = Symbol("lam_max", positive=True)  # largest Hessian eigenvalue
gamma = Symbol("gamma", positive=True)  # aspect ratio d / n
ridge = Symbol("ridge", positive=True)  # ridge penalty (lambda of ridge regression)
rho = Symbol("rho", real=True)  # correlation between two features
scale = Symbol("scale", positive=True)  # ratio of two feature scales
