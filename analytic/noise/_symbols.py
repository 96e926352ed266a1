"""Symbols of the noise family alone (shared ones, ``eta``, ``lam``, ``t``, are in ``analytic.symbols``).

The stationary covariance is written in the eigenbasis of the Hessian ``H``: entry
``(i, j)`` couples the curvatures ``lam_i`` and ``lam_j`` of two eigen-directions, and
``noise_cov`` is the entry ``C_ij`` of the per-example gradient-noise covariance in that
basis (a mini-batch of ``batch_size`` examples has covariance ``C / batch_size``).
``noise`` is the same Symbol (name and assumptions) as ``analytic.bilevel``'s: the
gradient-noise variance of one eigen-direction.
"""

from sympy import Symbol

lam_i = Symbol("lam_i", positive=True)  # curvature of eigen-direction i
lam_j = Symbol("lam_j", positive=True)  # curvature of eigen-direction j
noise_cov = Symbol("noise_cov", real=True)  # C_ij: gradient-noise covariance (per example) in H's eigenbasis
noise = Symbol("noise", positive=True)  # gradient-noise variance (per example) of one eigen-direction
batch_size = Symbol("batch_size", positive=True)  # examples per stochastic-gradient step (>= 1)
temperature = Symbol("temperature", positive=True)  # Langevin temperature: the Gibbs density is exp(-U / T)
n_data = Symbol("n_data", positive=True)  # N, the number of data points of the posterior exp(-N L)
dim = Symbol("dim", positive=True)  # D, the number of parameters (as bootstrap.dim: one Symbol per name)
noise_trace = Symbol("noise_trace", positive=True)  # Tr C, the trace of the per-example noise covariance
