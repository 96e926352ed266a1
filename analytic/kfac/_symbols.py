"""Symbols of the kfac family alone (``eta`` is shared; ``depth`` has the glossary's name).

The Fisher entry of a linear layer is a fourth moment $E[a_i a_j g_k g_l]$ of the layer's
input $a$ and its back-propagated output gradient $g$; for jointly Gaussian $(a, g)$ it is a
function of second moments only: the input moment $E[a_i a_j]$ (``input_moment``), the gradient
moment $E[g_k g_l]$ (``gradient_moment``) and the four cross moments $E[a_i g_k]$ (``cross_ik``)
and so on. Covariances can be negative: all are real.
"""

from sympy import Symbol

input_moment = Symbol("input_moment", real=True)  # E[a_i a_j]: an entry of K-FAC's factor A
gradient_moment = Symbol("gradient_moment", real=True)  # E[g_k g_l]: an entry of K-FAC's factor G
cross_ik = Symbol("cross_ik", real=True)  # E[a_i g_k]: cross moment of input i and output gradient k
cross_jl = Symbol("cross_jl", real=True)  # E[a_j g_l]
cross_il = Symbol("cross_il", real=True)  # E[a_i g_l]
cross_jk = Symbol("cross_jk", real=True)  # E[a_j g_k]
depth = Symbol("depth", integer=True, positive=True)  # weight matrices of the deep linear network
