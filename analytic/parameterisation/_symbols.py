"""Symbols of the parameterisation family alone: the abc exponents of an MLP's layers, and the width.

Yang & Hu's abc-parameterisation (arXiv:2011.14522v3, sec. 3): layer ``l`` has the weight
``W^l = width^-a_l w^l`` with trainable ``w^l`` initialised ``N(0, width^-2 b_l)`` and trained with
the learning rate ``learning_rate * width^-c_l``. ``_in`` is the input layer (fan-in the fixed input
dimension), ``_hid`` every hidden-to-hidden layer, ``_out`` the readout (fan-out 1).
"""

from sympy import Symbol

width = Symbol("width", integer=True, positive=True)  # the width n of every hidden layer (as in width, infinite_depth)
a_in = Symbol("a_in", real=True)  # input layer: multiplier exponent
b_in = Symbol("b_in", real=True)  # input layer: initialisation exponent
c_in = Symbol("c_in", real=True)  # input layer: learning-rate exponent
a_hid = Symbol("a_hid", real=True)  # hidden layers: multiplier exponent
b_hid = Symbol("b_hid", real=True)  # hidden layers: initialisation exponent
c_hid = Symbol("c_hid", real=True)  # hidden layers: learning-rate exponent
a_out = Symbol("a_out", real=True)  # readout: multiplier exponent
b_out = Symbol("b_out", real=True)  # readout: initialisation exponent
c_out = Symbol("c_out", real=True)  # readout: learning-rate exponent
