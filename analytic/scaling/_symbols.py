"""Symbols of the scaling-law family alone (shared ones, ``alpha`` and ``beta``, are in
``analytic.symbols``).

The names are the papers' (Hoffmann et al. 2022; Kaplan et al. 2020). ``N`` is a
parameter count, a positive integer, with the same assumptions as the depth ``N`` of the
deep-linear family (one name, one set of assumptions across the catalogue). The papers'
``B``, the data coefficient of the Chinchilla law, is the Symbol ``B_data`` (importable
here as ``B``): the NQM's ``B`` is a batch size, and one Symbol means one thing; the
keyword ``B=`` still works on every scaling Formula (``RENAMED`` below). The batch-size
trade-off names its batch size ``batch``.
"""

from sympy import Symbol

N = Symbol("N", positive=True, integer=True)  # model parameters
D = Symbol("D", positive=True)  # training tokens (samples)
C = Symbol("C", positive=True)  # training compute in FLOPs, C = 6 N D
E = Symbol("E", nonnegative=True)  # irreducible loss
A = Symbol("A", positive=True)  # coefficient of the model-size term A / N^alpha
B = Symbol("B_data", positive=True)  # coefficient of the data term B / D^beta (the papers' B)
alpha_N = Symbol("alpha_N", positive=True)  # Kaplan et al. 2020 model-size exponent
alpha_D = Symbol("alpha_D", positive=True)  # Kaplan et al. 2020 data exponent
N_c = Symbol("N_c", positive=True)  # Kaplan et al. 2020 model-size scale
D_c = Symbol("D_c", positive=True)  # Kaplan et al. 2020 data scale
batch = Symbol("batch", positive=True)  # batch size in the steps/examples trade-off
B_noise = Symbol("B_noise", positive=True)  # McCandlish et al. critical batch size
grad_sq = Symbol("grad_sq", positive=True)  # |G|^2, squared norm of the true gradient
grad_curvature = Symbol("grad_curvature", positive=True)  # G^T H G
noise_curvature = Symbol("noise_curvature", positive=True)  # tr(H Sigma), Sigma the per-example covariance
steps_ratio = Symbol("steps_ratio", positive=True)  # S / S_min (> 1)
decay = Symbol("decay", positive=True)  # spectrum lam_k ~ k^-decay of the random-feature model
target_decay = Symbol("target_decay", positive=True)  # target signal lam_k E[w_k^2] ~ k^-target_decay

# The papers' ``B`` is the Symbol ``B_data`` (the NQM's ``B`` is a batch size: one Symbol, one
# meaning). Every scaling Formula still accepts the keyword ``B=`` (analytic._registry).
RENAMED = {"B": "B_data"}
