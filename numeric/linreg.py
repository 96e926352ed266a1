"""Least squares trained directly: GD trajectories, designed spectra, min-norm risk.

Independent of ``analytic``: nothing here knows a closed form. Loss
``L(w) = ||X w - y||^2 / (2 n)``; GD ``w <- w - eta * grad L(w)``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "GDTrajectory", "gd_least_squares", "design_with_spectrum", "hessian_eigenvalues",
    "condition_number", "standardize_features", "whiten_features", "correlated_design",
    "RiskEstimate", "min_norm_risk", "ridge_risk", "spectral_ridge_risk",
]


class GDTrajectory(NamedTuple):
    """``losses[t]`` and ``weights[t]`` for t = 0..steps; ``diverged`` if non-finite or growing."""

    losses: jax.Array
    weights: jax.Array
    diverged: jax.Array
    growth_rate: jax.Array  # sqrt(losses[-1] / losses[-2]): per-step growth of the error


def _check_positive(name: str, value) -> None:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


@jax.jit
def _all_finite(a):
    return jnp.all(jnp.isfinite(a))  # one program per shape, not one per operation


def _check_matrix(name: str, value, ndim: int) -> jax.Array:
    a = jnp.asarray(value)
    if a.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {a.shape}")
    if not isinstance(a, jax.core.Tracer) and not bool(_all_finite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def least_squares_loss(X, y, w):
    r = X @ w - y
    return 0.5 * jnp.mean(r**2)


@functools.partial(jax.jit, static_argnames="steps")
def _gd_scan(X, y, w0, eta, steps):
    n = X.shape[0]

    def step(w, _):
        grad = X.T @ (X @ w - y) / n
        w_next = w - eta * grad
        return w_next, (least_squares_loss(X, y, w_next), w_next)

    _, (losses, weights) = jax.lax.scan(step, w0, None, length=steps)
    losses = jnp.concatenate([least_squares_loss(X, y, w0)[None], losses])
    weights = jnp.concatenate([w0[None], weights])
    return losses, weights


def gd_least_squares(X, y, w0, eta, steps: int) -> GDTrajectory:
    """Full-batch GD on ``||X w - y||^2 / (2n)`` for ``steps`` steps (``lax.scan``).

    A learning rate above the stability limit is allowed: the trajectory then
    grows, ``diverged`` is set (final loss above 10x the initial, or non-finite)
    and ``growth_rate`` = sqrt(losses[-1] / losses[-2]) estimates the per-step
    factor of the error (exact once the fastest-growing mode dominates and the
    minimum loss is 0).
    """
    X = _check_matrix("X", X, 2)
    y = _check_matrix("y", y, 1)
    w0 = _check_matrix("w0", w0, 1)
    if X.shape[0] != y.shape[0] or X.shape[1] != w0.shape[0]:
        raise ValueError(f"shapes do not match: X {X.shape}, y {y.shape}, w0 {w0.shape}")
    _check_positive("eta", eta)
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    losses, weights = _gd_scan(X, y, w0, jnp.asarray(eta, X.dtype), int(steps))
    return GDTrajectory(losses, weights, *_divergence(losses))


@jax.jit
def _divergence(losses):
    """(diverged, growth_rate) of a loss curve, in one program (see :func:`gd_least_squares`)."""
    finite = jnp.isfinite(losses)
    last = losses[-1]
    diverged = ~jnp.all(finite) | (last > 10 * losses[0])
    valid = jnp.where(finite, losses, jnp.nan)
    growth = jnp.sqrt(valid[-1] / valid[-2]) if losses.shape[0] > 1 else jnp.nan
    return diverged, growth


def _random_orthogonal(key, d: int, dtype) -> jax.Array:
    q, r = jnp.linalg.qr(jax.random.normal(key, (d, d), dtype))
    return q * jnp.sign(jnp.diag(r))  # Haar measure (Mezzadri 2007)


def design_with_spectrum(key, n: int, eigenvalues, dtype=None) -> jax.Array:
    """An (n, d) design whose Hessian ``X^T X / n`` has exactly ``eigenvalues``.

    ``X = sqrt(n) U diag(sqrt(eigenvalues)) V^T`` with U (n, d) orthonormal and V
    Haar-random orthogonal; eigenvector i of H is column i of V.
    """
    eig = jnp.asarray(eigenvalues, dtype=dtype)
    if eig.ndim != 1 or eig.shape[0] > n:
        raise ValueError(f"eigenvalues must be 1-D with at most n={n} entries, got shape {eig.shape}")
    host = np.asarray(eig)
    if not np.all(np.isfinite(host)) or np.any(host < 0):
        raise ValueError(f"eigenvalues must be finite and >= 0, got {eigenvalues!r}")
    return _design(key, eig, n)


@functools.partial(jax.jit, static_argnames="n")
def _design(key, eig, n: int):
    """:func:`design_with_spectrum` after its checks, as one program per shape (not one per operation)."""
    d = eig.shape[0]
    ku, kv = jax.random.split(key)
    u, _ = jnp.linalg.qr(jax.random.normal(ku, (n, d), eig.dtype))
    v = _random_orthogonal(kv, d, eig.dtype)
    return jnp.sqrt(n) * (u * jnp.sqrt(eig)) @ v.T


def hessian_eigenvalues(X) -> jax.Array:
    """Ascending eigenvalues of ``X^T X / n``."""
    X = _check_matrix("X", X, 2)
    return jnp.linalg.eigvalsh(X.T @ X / X.shape[0])


def condition_number(X) -> float:
    """kappa = lam_max / lam_min of the Hessian ``X^T X / n`` (inf if singular)."""
    ev = hessian_eigenvalues(X)
    return float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")


def standardize_features(X) -> jax.Array:
    """Centre each column and scale it to unit variance (feature normalisation)."""
    X = _check_matrix("X", X, 2)
    centred = X - X.mean(axis=0)
    return centred / centred.std(axis=0)


def whiten_features(X) -> jax.Array:
    """Centre and decorrelate the columns: the Hessian of the result is the identity."""
    X = _check_matrix("X", X, 2)
    centred = X - X.mean(axis=0)
    ev, vec = jnp.linalg.eigh(centred.T @ centred / X.shape[0])
    if bool(ev[0] <= 0):
        raise ValueError("X has linearly dependent columns: it cannot be whitened")
    return centred @ (vec / jnp.sqrt(ev)) @ vec.T


def correlated_design(key, n: int, scale: float, rho: float, dtype=None) -> jax.Array:
    """n samples of two Gaussian features: std ``scale`` and 1, correlation ``rho``."""
    _check_positive("scale", scale)
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1), got {rho!r}")
    z = jax.random.normal(key, (n, 2), dtype or jnp.result_type(float))
    x2 = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    return jnp.stack([scale * z[:, 0], x2], axis=1)


class RiskEstimate(NamedTuple):
    """Monte Carlo mean excess risk ``||beta_hat - beta||^2`` and its standard error."""

    mean: float
    standard_error: float
    samples: np.ndarray


def _risk_samples(key, trials: int, n: int, d: int, ridge: float, r2: float, sigma2: float) -> np.ndarray:
    """``||beta_hat - beta||^2`` of ``trials`` independent draws (numpy: batched direct solves, no
    compilation: a jitted program per (n, d) cost a trace and an XLA compile per shape). The draws
    come from a numpy generator seeded by ``key``'s data: the same key, the same draws."""
    rng = np.random.default_rng(np.asarray(jax.random.key_data(key), dtype=np.uint32).ravel())
    direction = rng.standard_normal((trials, d))
    beta = np.sqrt(r2) * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    X = rng.standard_normal((trials, n, d))
    y = np.einsum("tnd,td->tn", X, beta) + np.sqrt(sigma2) * rng.standard_normal((trials, n))
    Xt = np.swapaxes(X, 1, 2)
    if ridge == 0.0:
        # Min-norm least squares: pseudo-inverse via the smaller Gram matrix.
        if d <= n:
            beta_hat = np.linalg.solve(Xt @ X, (Xt @ y[..., None]))[..., 0]
        else:
            beta_hat = (Xt @ np.linalg.solve(X @ Xt, y[..., None]))[..., 0]
    else:
        beta_hat = np.linalg.solve(Xt @ X / n + ridge * np.eye(d), Xt @ y[..., None] / n)[..., 0]
    # Isotropic test features: E_x[(x^T (beta_hat - beta))^2] = ||beta_hat - beta||^2.
    return np.sum((beta_hat - beta) ** 2, axis=1)


def _risk(key, n: int, d: int, r2: float, sigma2: float, trials: int, ridge: float) -> RiskEstimate:
    for name, v in (("n", n), ("d", d), ("trials", trials)):
        if int(v) < 1:
            raise ValueError(f"{name} must be >= 1, got {v!r}")
    if d == n and ridge == 0.0:
        raise ValueError(f"d == n = {n}: min-norm least squares has infinite expected risk there")
    for name, v in (("r2", r2), ("sigma2", sigma2)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be finite and >= 0, got {v!r}")
    samples = _risk_samples(key, int(trials), int(n), int(d), float(ridge), float(r2), float(sigma2))
    mean = float(np.mean(samples))
    se = float(np.std(samples, ddof=1) / np.sqrt(trials)) if trials > 1 else float("inf")
    return RiskEstimate(mean, se, samples)


def min_norm_risk(key, n: int, d: int, r2: float, sigma2: float, trials: int) -> RiskEstimate:
    """Excess test risk of min-norm least squares on isotropic Gaussian data.

    Each trial draws beta uniformly on the sphere of radius sqrt(r2), X with
    i.i.d. N(0, 1) entries (n, d), labels y = X beta + N(0, sigma2) noise, fits the
    minimum-norm interpolating / least-squares solution, and measures
    ``||beta_hat - beta||^2`` (the excess risk for isotropic test inputs).
    """
    return _risk(key, n, d, r2, sigma2, trials, 0.0)


def ridge_risk(key, n: int, d: int, r2: float, sigma2: float, ridge: float, trials: int) -> RiskEstimate:
    """As :func:`min_norm_risk` for the ridge fit ``(X^T X/n + ridge I)^{-1} X^T y / n``."""
    _check_positive("ridge", ridge)
    return _risk(key, n, d, r2, sigma2, trials, float(ridge))


def spectral_ridge_risk(gamma: float, r2: float, sigma2: float, ridge: float) -> float:
    """Limiting ridge risk by quadrature over the Marchenko-Pastur spectrum (no closed form used).

    The ridge fit ``(X^T X/n + ridge I)^{-1} X^T y/n`` with isotropic ``beta`` (``|beta|^2 = r2``)
    has, in the eigenbasis of ``S = X^T X / n``, the excess risk
    ``r2 ridge^2 tr((S + ridge)^-2)/d + sigma2 tr(S (S + ridge)^-2)/n`` exactly. As ``n, d -> oo``
    with ``d/n -> gamma`` the spectrum of ``S`` tends to the Marchenko-Pastur law of ratio
    gamma (density ``sqrt((b - s)(s - a)) / (2 pi gamma s)`` on ``[a, b] = [(1 -+ sqrt(gamma))^2]``,
    mass ``min(1, 1/gamma)``, and an atom ``1 - 1/gamma`` at 0 when gamma > 1), so the risk is
    ``r2 ridge^2 int dF/(s + ridge)^2 + sigma2 gamma int s dF/(s + ridge)^2``, evaluated here by
    adaptive Gauss-Kronrod quadrature (``scipy.integrate.quad``, absolute and relative error
    1e-13) after ``s = a + (b - a) sin^2(u)``, which removes the square-root end points.

    Example:
        >>> round(spectral_ridge_risk(0.5, 1.0, 0.25, 0.5), 10)
        0.2588834765
    """
    import scipy.integrate

    for name, value in (("gamma", gamma), ("r2", r2), ("sigma2", sigma2), ("ridge", ridge)):
        v = float(value)
        if not np.isfinite(v) or v < 0 or (v == 0 and name in ("gamma", "ridge")):
            raise ValueError(f"{name} must be finite and {'> 0' if name in ('gamma', 'ridge') else '>= 0'}, "
                             f"got {value!r}")
    gamma, r2, sigma2, ridge = float(gamma), float(r2), float(sigma2), float(ridge)
    a, b = (1 - np.sqrt(gamma)) ** 2, (1 + np.sqrt(gamma)) ** 2

    def integrand(u, weight):
        s = a + (b - a) * np.sin(u) ** 2
        ds = 2 * (b - a) * np.sin(u) * np.cos(u)
        density = np.sqrt((b - s) * (s - a)) / (2 * np.pi * gamma * s)
        return weight(s) / (s + ridge) ** 2 * density * ds

    def integral(weight):
        value, _ = scipy.integrate.quad(integrand, 0.0, np.pi / 2, args=(weight,), epsabs=1e-13,
                                        epsrel=1e-13, limit=200)
        return value

    atom = max(0.0, 1.0 - 1.0 / gamma)  # the zero eigenvalues when d > n: bias ridge^2/ridge^2 = 1
    bias = r2 * (ridge**2 * integral(lambda s: 1.0) + atom)
    variance = sigma2 * gamma * integral(lambda s: s)
    return bias + variance
