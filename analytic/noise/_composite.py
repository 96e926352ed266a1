"""Stationary covariance of SGD for a whole Hessian: the per-entry Formulas in H's eigenbasis."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from analytic.formula import Formula

_METHODS = ("discrete", "continuous")


def _symmetric(name: str, value, size: int | None = None) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or (size is not None and a.shape[0] != size):
        raise ValueError(f"{name} must be a square matrix{'' if size is None else f' of size {size}'}, "
                         f"got shape {a.shape}")
    if not np.all(np.isfinite(a)) or not np.allclose(a, a.T, rtol=1e-12, atol=1e-12 * np.abs(a).max()):
        raise ValueError(f"{name} must be a finite symmetric matrix, got {a.tolist()}")
    return a


def stationary_covariance(hessian, noise_covariance, learning_rate: float, batch_size: float = 1.0,
                          method: str = "discrete", *, formula: Formula | None = None) -> jnp.ndarray:
    r"""Stationary covariance of constant SGD on $\tfrac12\theta^\top H\theta$ with noise covariance $C/S$.

    ``method="discrete"``: the exact chain (``noise.sgd_covariance``, the discrete Lyapunov
    equation); ``"continuous"``: the Ornstein-Uhlenbeck approximation (``noise.ou_covariance``).
    $H = U\,\mathrm{diag}(\lambda)U^\top$ (positive definite), $\tilde C = U^\top C U$, the Formula
    gives $\tilde\Sigma_{ij}$ from $(\lambda_i, \lambda_j, \tilde C_{ij})$, and $\Sigma = U\tilde\Sigma U^\top$.
    ``formula`` overrides the per-entry Formula (negative controls).

    Example:
        >>> from analytic import noise
        >>> noise.stationary_covariance([[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], 0.5)
        Array([[0.25      , 0.        ],
               [0.        , 0.33333333]], dtype=float64)
    """
    from analytic.noise import _stationary

    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
    h = _symmetric("hessian", hessian)
    c = _symmetric("noise_covariance", noise_covariance, h.shape[0])
    curvatures, basis = np.linalg.eigh(h)
    if curvatures[0] <= 0:
        raise ValueError(f"hessian must be positive definite, got eigenvalues {curvatures.tolist()}")
    if formula is None:
        formula = _stationary._sgd_covariance() if method == "discrete" else _stationary._ou_covariance()
    rotated = basis.T @ c @ basis
    lam_i, lam_j = np.meshgrid(curvatures, curvatures, indexing="ij")
    formula.check_arguments(eta=learning_rate, lam_i=lam_i, lam_j=lam_j, noise_cov=rotated, batch_size=batch_size)
    values = dict(eta=learning_rate, lam_i=lam_i, lam_j=lam_j, noise_cov=rotated, batch_size=batch_size)
    entries = formula.jax(*(jnp.asarray(values[name], dtype=jnp.float64) for name in formula.param_names))
    return jnp.asarray(basis) @ entries @ jnp.asarray(basis).T
