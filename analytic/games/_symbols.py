"""Symbols of the games family alone (shared ones, such as ``eta``, are in ``analytic.symbols``)."""

from sympy import Symbol

sigma = Symbol("sigma", positive=True)  # a singular value of the coupling matrix A of x^T A y
momentum = Symbol("momentum", real=True)  # heavy-ball coefficient; negative momentum has momentum < 0
z = Symbol("z")  # the variable of a characteristic polynomial (complex)
