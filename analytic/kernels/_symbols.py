"""Symbols of the wide-network kernels family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

k11 = Symbol("k11", positive=True)  # variance of the first pre-activation
k22 = Symbol("k22", positive=True)  # variance of the second pre-activation
k12 = Symbol("k12", real=True)  # covariance of the pair
q = Symbol("q", positive=True)  # pre-activation variance (diagonal of the kernel)
sigma_w = Symbol("sigma_w", nonnegative=True)  # weight standard deviation
sigma_b = Symbol("sigma_b", nonnegative=True)  # bias standard deviation
angle = Symbol("angle", nonnegative=True)  # angle between two pre-activations, in [0, pi]
