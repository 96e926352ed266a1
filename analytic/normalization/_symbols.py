"""Symbols of the normalization family alone (shared ones are in ``analytic.symbols``)."""

from sympy import Symbol

wd = Symbol("wd", nonnegative=True)  # weight-decay coefficient
beta1 = Symbol("beta1", nonnegative=True)  # Adam's first-moment coefficient (as in optimizers)
p = Symbol("p", real=True)  # dropout *drop* probability, in [0, 1)
w_sq = Symbol("w_sq", nonnegative=True)  # |w_t|^2 of a scale-invariant weight
g_sq = Symbol("g_sq", nonnegative=True)  # |g_t|^2, the squared gradient norm at w_t
gw_sq = Symbol("gw_sq", positive=True)  # |g|^2 |w|^2: the scale-free squared gradient norm
u_sq = Symbol("u_sq", positive=True)  # E|u|^2: AdamW's update direction m_hat / sqrt(v_hat)
u_radial = Symbol("u_radial", real=True)  # E<w, u> / |w|: its component along w (any sign)
