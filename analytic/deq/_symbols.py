"""Symbols of the deq family: a weight-tied scalar layer z <- f(z) = weight z + drive (or tanh of it).

``weight`` is the layer's tied weight (the parameter the gradient is taken in), ``drive``
the input injection ``x`` (``U x`` of a DEQ), ``start`` (keyword ``initial_state``) the iterate the unrolled solver
starts from, ``k`` the number of unrolled steps and ``fixed_point`` the equilibrium z*.
"""

from sympy import Symbol

weight = Symbol("weight", real=True)  # tied weight of the layer, |weight| < 1 (contraction)
drive = Symbol("drive", real=True)  # input injection x of the layer
start = Symbol("initial_state", real=True)  # z_0 of the unrolled fixed-point iteration (keyword initial_state)
k = Symbol("k", integer=True, positive=True)  # unrolled steps
fixed_point = Symbol("fixed_point", real=True)  # the equilibrium z* of the tanh layer, |z*| < 1
