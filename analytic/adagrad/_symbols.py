"""Symbols of the adagrad family alone (``eta``, ``lam``, ``t`` are shared)."""

from sympy import Symbol

accumulator0 = Symbol("accumulator0", positive=True)  # AdaGrad's initial sum of squared gradients G_0
start = Symbol("start", positive=True)  # the initial distance x_0 > 0 of one coordinate from its minimiser
current = Symbol("current", positive=True)  # the distance x(t) reached, 0 < current <= start
decay = Symbol("decay", positive=True)  # RMSprop's EMA factor for the squared gradient, in (0, 1)
offset = Symbol("offset", nonnegative=True)  # RMSprop's epsilon added to the root of the EMA
radius = Symbol("radius", positive=True)  # half-width R of the box [-R, R]^d of online linear optimisation
diameter = Symbol("diameter", positive=True)  # l_inf diameter D of the domain (2 R for the box)
gradient_norm_sum = Symbol("gradient_norm_sum", nonnegative=True)  # sum_i |g_{1:T,i}|_2
gradient_scale = Symbol("gradient_scale", positive=True)  # standard deviation of one coordinate's linear loss
