"""Symbols of the wide-network kernels family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

from analytic.symbols import q, sigma_b, sigma_w  # shared with signal and infinite_depth  # noqa: F401

k11 = Symbol("k11", positive=True)  # variance of the first pre-activation
k22 = Symbol("k22", positive=True)  # variance of the second pre-activation
k12 = Symbol("k12", real=True)  # covariance of the pair
angle = Symbol("angle", nonnegative=True)  # angle between two pre-activations, in [0, pi]
