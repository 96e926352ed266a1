"""Symbols of the optimizers family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

beta1 = Symbol("beta1", nonnegative=True)  # Adam's first-moment (momentum) EMA coefficient, in [0, 1)
damping = Symbol("damping", nonnegative=True)  # Levenberg-Marquardt damping added to the curvature
beta2 = Symbol("beta2", nonnegative=True)  # Adam's second-moment EMA coefficient, in [0, 1)
gamma = Symbol("gamma", positive=True)  # step decay: the learning rate is multiplied by gamma < 1
# The noisy quadratic model's per-dimension quantities (same names and assumptions as analytic.nqm's).
h = Symbol("h", positive=True)  # curvature of one dimension
c = Symbol("c", nonnegative=True)  # gradient-noise scale of one dimension
B = Symbol("B", positive=True)  # batch size (>= 1)
