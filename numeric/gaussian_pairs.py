r"""Gaussian pair expectations $E[f(u) f(v)]$ by deterministic quadrature, for checking dual maps.

For $(u, v)$ centred Gaussian with variances $k_{11}, k_{22}$ and covariance $k_{12}$, write
$u = \sqrt{k_{11}}\, z_1$, $v = c z_1 + s z_2$ with $c = k_{12}/\sqrt{k_{11}}$,
$s = \sqrt{k_{22} - c^2}$ and $z_1, z_2$ independent standard normals. Then

- ReLU, $E[\mathrm{relu}(u)\mathrm{relu}(v)] = \int_0^\infty \varphi(z_1)\sqrt{k_{11}} z_1\,
  m(c z_1, s)\, dz_1$ with the one-dimensional mean $m(a, s) = E[\mathrm{relu}(a + s z)] =
  a\Phi(a/s) + s\varphi(a/s)$;
- its derivative (the step function), $E[\theta(u)\theta(v)] = \int_0^\infty \varphi(z_1)
  \Phi(c z_1 / s)\, dz_1$;
- erf and erf', smooth: a tensor Gauss-Hermite rule in $(z_1, z_2)$.

The ReLU integrands are smooth on $z_1 > 0$ (the kink of the outer factor is the end point), so
Gauss-Legendre on $[0, 40]$ converges geometrically; nothing here uses a closed form of the
two-dimensional expectation. :func:`pair_expectation` returns the value at ``order`` nodes and at
``2 * order``: their difference is the discretisation error the caller states. numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

__all__ = ["pair_expectation", "FUNCTIONS"]

FUNCTIONS = ("relu", "relu_derivative", "erf", "erf_derivative")
_UPPER = 40.0  # phi(40) ~ 1e-348: the tail beyond is below float64


def _split(k11, k22, k12):
    k11, k22, k12 = (np.asarray(v, dtype=float) for v in (k11, k22, k12))
    if np.any(k11 <= 0) or np.any(k22 <= 0):
        raise ValueError(f"variances k11, k22 must be > 0, got {k11!r}, {k22!r}")
    if np.any(k12**2 > k11 * k22 * (1 + 1e-12)):
        raise ValueError(f"k12 = {k12!r} must satisfy k12^2 <= k11 k22 (a covariance)")
    c = k12 / np.sqrt(k11)
    s = np.sqrt(np.maximum(k22 - c**2, 0.0))
    return k11, c, s


def _half_line(order: int):
    nodes, weights = np.polynomial.legendre.leggauss(order)
    z = (nodes + 1) * _UPPER / 2
    return z, weights * _UPPER / 2 * np.exp(-z**2 / 2) / math.sqrt(2 * math.pi)


def _relu_mean(a, s):
    """E[relu(a + s z)], z ~ N(0, 1); the limit a_+ at s = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(s > 0, a / np.where(s > 0, s, 1.0), 0.0)
        value = a * special.ndtr(r) + s * np.exp(-r**2 / 2) / math.sqrt(2 * math.pi)
    return np.where(s > 0, value, np.maximum(a, 0.0))


def _step_mean(a, s):
    """P(a + s z > 0); the step theta(a) at s = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = special.ndtr(a / np.where(s > 0, s, 1.0))
    return np.where(s > 0, value, (a > 0).astype(float))


def _one(kind: str, k11, c, s, order: int) -> np.ndarray:
    if kind in ("relu", "relu_derivative"):
        z, w = _half_line(order)
        z = z.reshape((-1,) + (1,) * np.ndim(k11))
        w = w.reshape(z.shape)
        if kind == "relu":
            return np.sum(w * np.sqrt(k11) * z * _relu_mean(c * z, s), axis=0)
        return np.sum(w * _step_mean(c * z, s), axis=0)
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)  # weight exp(-z^2/2)
    weights = weights / math.sqrt(2 * math.pi)
    shape = (-1, 1) + (1,) * np.ndim(k11)
    z1, z2 = nodes.reshape(shape), nodes.reshape((1, -1) + (1,) * np.ndim(k11))
    w = weights.reshape(shape) * weights.reshape((1, -1) + (1,) * np.ndim(k11))
    u, v = np.sqrt(k11) * z1, c * z1 + s * z2
    if kind == "erf":
        values = special.erf(u) * special.erf(v)
    else:
        values = 4 / math.pi * np.exp(-u**2 - v**2)
    return np.sum(w * values, axis=(0, 1))


def pair_expectation(kind: str, k11, k22, k12, order: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """E[f(u) f(v)] for ``kind`` in :data:`FUNCTIONS`, at ``order`` and at ``2 * order`` nodes.

    Arrays broadcast. Returns ``(value at 2 * order, value at order)``: the first is the
    estimate, and their difference bounds its discretisation error (geometric convergence).
    """
    if kind not in FUNCTIONS:
        raise ValueError(f"kind must be one of {FUNCTIONS}, got {kind!r}")
    if not isinstance(order, int) or not 8 <= order <= 2000:
        raise ValueError(f"order must be an integer in [8, 2000], got {order!r}")
    k11, c, s = _split(k11, k22, k12)
    k11, c, s = np.broadcast_arrays(k11, c, s)
    return _one(kind, k11, c, s, 2 * order), _one(kind, k11, c, s, order)
