"""Symbols of the infinite_depth family: x_{l+1} = x_l + (branch_scale / depth^depth_exponent) W_l phi(x_l).

``W_l`` has independent N(0, sigma_w^2 / width) entries, drawn independently for each of the
``depth`` layers; ``width`` is the dimension of x.
"""

from sympy import Symbol

from analytic.symbols import sigma_w  # noqa: F401  weight standard deviation times sqrt(width), as in kernels

branch_scale = Symbol("branch_scale", positive=True)  # alpha: the residual branches' multiplier
depth = Symbol("depth", integer=True, positive=True)  # number of residual blocks L
depth_exponent = Symbol("depth_exponent", positive=True)  # p: the branches are scaled by depth^-p
width = Symbol("width", integer=True, positive=True)  # dimension n of the residual stream
