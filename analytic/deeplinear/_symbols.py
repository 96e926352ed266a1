"""Symbols of the deep-linear-network family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

s = Symbol("s", positive=True)  # a singular value of the input-output correlation Sigma^yx
u0 = Symbol("u0", positive=True)  # initial two-layer mode strength
uf = Symbol("uf", positive=True)  # target two-layer mode strength for a learning time
tau = Symbol("tau", positive=True)  # time constant (1 / learning rate)
N = Symbol("N", positive=True, integer=True)  # number of weight matrices (depth)
sigma0 = Symbol("sigma0", positive=True)  # initial singular value of the end-to-end map
u = Symbol("u", positive=True)  # mode strength of a two-layer network (product of layer strengths)
sigma = Symbol("sigma", positive=True)  # a singular value of the end-to-end map W_N ... W_1
sigmaf = Symbol("sigmaf", positive=True)  # target value of sigma for a learning time
