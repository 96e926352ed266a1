r"""Training an infinitely wide network: the NTK prediction of Lee et al. 2019.

Loss convention: $\mathcal L = \tfrac12\sum_{i=1}^{n}(f(x_i) - y_i)^2$ (a *sum* over the
training set), full-batch gradient descent with learning rate $\eta$, or gradient flow.
In the infinite-width limit the network stays linear in its parameters and, with
$\Theta = \Theta(X, X)$ (Lee et al. 2019, arXiv:1902.06720v4, eqs. (9), (15)-(16)),
$$f_t(X) = Y + m_t(\Theta)\,(f_0(X) - Y),\qquad
f_t(x) = f_0(x) + \Theta(x, X)\,\Theta^{-1}\,(I - m_t(\Theta))\,(Y - f_0(X)),$$
with the per-eigenvalue residual factor $m_t(\lambda) = (1-\eta\lambda)^t$ (GD, t steps:
``linreg.gd_mode_error`` with e0 = 1) or $e^{-\lambda t}$ (flow: ``linreg.gf_mode_error``).
Averaged over initialisations $E f_0 = 0$, so the mean prediction is
$\Theta(x,X)\Theta^{-1}(I - m_t(\Theta))Y$. GD is stable iff $\eta < 2/\lambda_{max}(\Theta)$
(``linreg.critical_lr``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from analytic import linreg
from analytic.formula import Formula

__all__ = ["TrainingPrediction", "infinite_width_mean", "max_learning_rate"]


class TrainingPrediction(NamedTuple):
    """Predicted outputs over time: ``train`` (T, ..., n_train), ``test`` (T, ..., n_test)."""

    train: jax.Array
    test: jax.Array


def _linreg(name: str, given: Formula | None) -> Formula:
    """The linreg Formula ``name``, unless the caller gave one (checked to be a Formula)."""
    if given is None:
        return linreg.FORMULAS[name]()
    if not isinstance(given, Formula):
        raise TypeError(f"expected a Formula in place of linreg.{name}, got {given!r}")
    return given


def _as_matrix(name: str, value, ndim: int) -> jax.Array:
    a = jnp.asarray(value)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if not isinstance(a, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(a))):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def max_learning_rate(ntk_train, *, critical_lr: Formula | None = None):
    r"""Largest stable GD learning rate $2/\lambda_{max}(\Theta(X, X))$ for the summed MSE loss.

    Above it the linearised (infinite-width) model diverges along the top eigenvector.
    ``linreg.critical_lr`` at the top eigenvalue (Lee et al. 2019, arXiv:1902.06720v4, sec. 2.4);
    ``critical_lr`` replaces that Formula.
    """
    ntk_train = _as_matrix("ntk_train", ntk_train, 2)
    lam_max = jnp.linalg.eigvalsh(ntk_train)[-1]
    return _linreg("critical_lr", critical_lr).jax(lam_max)


def infinite_width_mean(ntk_train, ntk_test_train, y_train, times, eta=None,
                        f0_train=None, f0_test=None, *, mode_error: Formula | None = None
                        ) -> TrainingPrediction:
    r"""Infinite-width network outputs on train and test points over training time.

    Args:
        ntk_train: $\Theta(X, X)$, (n, n). ntk_test_train: $\Theta(x, X)$, (m, n).
        y_train: (n,) targets. times: 1-D; GD step counts (integers) if ``eta`` is given,
            else gradient-flow times. eta: GD learning rate, or None for gradient flow.
        f0_train, f0_test: initial outputs (..., n) and (..., m) of particular networks
            (batch dimensions allowed, e.g. an ensemble); None means 0, the ensemble mean.
        mode_error: the per-eigenvalue residual Formula, in place of ``linreg.gd_mode_error``
            (GD) or ``linreg.gf_mode_error`` (flow).

    Returns ``TrainingPrediction(train, test)`` with shapes (T, ..., n) and (T, ..., m).
    Uses the eigendecomposition of $\Theta(X,X)$; $(1 - m_t(\lambda))/\lambda$ is evaluated
    with expm1/log1p, so near-zero eigenvalues give $\eta t$ (or $t$), not 0/0.
    """
    ntk_train = _as_matrix("ntk_train", ntk_train, 2)
    ntk_test_train = _as_matrix("ntk_test_train", ntk_test_train, 2)
    y_train = _as_matrix("y_train", y_train, 1)
    times = _as_matrix("times", times, 1)
    n = y_train.shape[0]
    if ntk_train.shape != (n, n) or ntk_test_train.shape[1] != n:
        raise ValueError(f"shapes do not match: ntk_train {ntk_train.shape}, ntk_test_train "
                         f"{ntk_test_train.shape}, y_train {y_train.shape}")
    if not isinstance(times, jax.core.Tracer) and bool(jnp.any(times < 0)):
        raise ValueError(f"times must be >= 0, got min {float(jnp.min(times))}")
    if eta is not None:
        e = np.asarray(eta, dtype=float)
        if e.shape != () or not np.isfinite(e) or e <= 0:
            raise ValueError(f"eta = {eta!r} is outside its valid range (0, oo)")
        if not isinstance(times, jax.core.Tracer) and not bool(jnp.all(times == jnp.round(times))):
            raise ValueError("times must be integer step counts when eta is given (GD)")
    f0_train = jnp.zeros(n, y_train.dtype) if f0_train is None else jnp.asarray(f0_train)
    f0_test = (jnp.zeros(ntk_test_train.shape[0], y_train.dtype) if f0_test is None
               else jnp.asarray(f0_test))
    if f0_train.shape[-1] != n or f0_test.shape[-1] != ntk_test_train.shape[0]:
        raise ValueError(f"f0_train {f0_train.shape} / f0_test {f0_test.shape} must end in "
                         f"{n} / {ntk_test_train.shape[0]}")
    mode_error = _linreg("gf_mode_error" if eta is None else "gd_mode_error", mode_error)
    return _predict(ntk_train, ntk_test_train, y_train, times, eta, f0_train, f0_test,
                    mode_error=mode_error)


@functools.partial(jax.jit, static_argnames=("mode_error",))
def _predict(ntk_train, ntk_test_train, y_train, times, eta, f0_train, f0_test, *, mode_error):
    lam, vec = jnp.linalg.eigh((ntk_train + ntk_train.T) / 2)
    lam = jnp.maximum(lam, 0)  # a kernel matrix is PSD; round-off can make lam slightly < 0
    t = times[:, None]
    if eta is None:
        residual = mode_error.jax(lam[None, :], t, 1.0)
        gain = jnp.where(lam > 0, -jnp.expm1(-lam * t) / jnp.where(lam > 0, lam, 1), t)
    else:
        residual = mode_error.jax(eta, lam[None, :], t, 1.0)
        contracting = eta * lam < 1
        log_factor = jnp.log1p(-jnp.where(contracting, eta * lam, 0))
        stable = -jnp.expm1(t * log_factor)
        gain = jnp.where(lam > 0, jnp.where(contracting, stable, 1 - residual)
                         / jnp.where(lam > 0, lam, 1), eta * t)
    start = jnp.einsum("ij,...j->...i", vec.T, y_train - f0_train)  # eigen-coordinates of Y - f0
    start = start[None]
    res_t = jnp.einsum("ij,t...j->t...i", vec, _expand(residual, start.ndim) * start)
    train = y_train - res_t
    proj = jnp.einsum("mi,ij->mj", ntk_test_train, vec)
    test = f0_test + jnp.einsum("mj,t...j->t...m", proj, _expand(gain, start.ndim) * start)
    return TrainingPrediction(train, test)


def _expand(per_time, ndim):
    """(T, n) -> (T, 1, ..., 1, n) to broadcast against (1, batch..., n)."""
    return per_time.reshape(per_time.shape[:1] + (1,) * (ndim - 2) + per_time.shape[1:])
