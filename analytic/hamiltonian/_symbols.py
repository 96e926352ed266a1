"""Symbols of the hamiltonian family alone (``eta``, ``lam``, ``beta``, ``mu``, ``t`` are in ``analytic.symbols``).

``friction`` is the dissipation coefficient gamma of conformal Hamiltonian dynamics
``x' = grad k(p), p' = -grad f(x) - friction p`` (a new name: ``gamma`` means an aspect ratio
in linreg and a step decay in optimizers). ``exponent`` is b of the power objective
``f(x) = |x|^b / b`` (b > 1); ``kinetic_exponent`` is a of the kinetic energy ``|p|^a / a``;
``position_rate`` is s, the exponential rate at which ``|x|`` decays along a ray solution.
"""

from sympy import Symbol

friction = Symbol("friction", positive=True)  # gamma: dissipation of the conformal Hamiltonian flow
exponent = Symbol("exponent", positive=True)  # b of f(x) = |x|^b / b (b > 1)
kinetic_exponent = Symbol("kinetic_exponent", positive=True)  # a of k(p) = |p|^a / a (a > 1)
position_rate = Symbol("position_rate", positive=True)  # s: |x(t)| = |x(0)| e^{-s t} on a ray solution
