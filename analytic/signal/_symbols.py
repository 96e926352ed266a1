"""Symbols of the signal-propagation family alone (``sigma_w``, ``sigma_b`` are the kernels family's)."""

from sympy import Symbol

fan_in = Symbol("fan_in", positive=True, integer=True)  # inputs of a layer
fan_out = Symbol("fan_out", positive=True, integer=True)  # outputs of a layer
chi = Symbol("chi", positive=True)  # per-layer multiplier of a perturbation (chi_1, chi_c, chi_q)
layers = Symbol("layers", nonnegative=True, integer=True)  # number of layers a signal crosses
slope0 = Symbol("slope0", positive=True)  # |phi'(0)|, the activation's slope at the origin
moment = Symbol("moment", positive=True, integer=True)  # k of the k-th moment of a spectrum
