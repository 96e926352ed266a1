"""Spectral bias measured directly: sphere data, Gegenbauer projections, kernel eigenvalues, wide ReLU nets.

Independent of ``analytic``: nothing here knows a closed form of an eigenvalue.

* Points on the unit sphere ``S^(d-1)``: uniform (normalised Gaussians) or, for d = 3, a
  Fibonacci lattice (near-equal-area points; a random rotation per seed), whose equal-weight
  averages are accurate quadratures of smooth functions on the sphere.
* Gegenbauer polynomials ``P_k`` of dimension d normalised to ``P_k(1) = 1`` by their
  three-term recurrence ``(k + d - 2) P_(k+1) = (2k + d - 2) t P_k - k P_(k-1)``.
* :func:`funk_hecke_quadrature`: ``lambda_k = E_t[K(t) P_k(t)]`` for the density of
  ``t = x.x'`` on the sphere, ``∝ (1 - t^2)^((d-3)/2)``, by Gauss-Legendre quadrature in the
  angle ``theta = arccos t`` (density ``∝ sin(theta)^(d-2)``, normalised by the same quadrature):
  dot-product kernels of ReLU networks are smooth in the angle, so it converges geometrically.
* :func:`gram_eigenvalues`: Monte Carlo. The Gram matrix of the empirical NTK of a random
  two-layer ReLU network on uniform points; for a unit-norm zonal harmonic ``Y`` the U-statistic
  ``sum_(i != j) K_ij Y_i Y_j / (n (n-1))`` is unbiased for the operator's eigenvalue on ``Y``.
* :func:`train_two_layer`: ``f(x) = a . relu(W x) / sqrt(width)``, NTK parameterisation,
  ``W ~ N(0, 1)``, ``a ~ N(0, 1)``, both layers trained by full-batch GD on
  ``(1/2n) sum (f - y)^2``; the second half of the neurons copies the first with ``-a``, so
  ``f_0 = 0`` and the residual starts at ``-y`` (the NTK is unchanged in distribution).
  Residuals on the training points at every step (a ``lax.scan``; ``vmap`` over seeds).
* :func:`degree_projections`: the residual's coefficient on ``P_k(x.e)`` by least squares on
  the training points (all degrees jointly, so the degrees do not leak into each other).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["sphere_points", "fibonacci_sphere", "random_rotation", "gegenbauer_values", "angle_nodes", "funk_hecke_quadrature",
           "zonal_norms", "generator", "empirical_ntk", "GramEstimate", "gram_eigenvalues", "Training", "train_two_layer", "degree_projections"]


def _whole(name: str, value, low: int) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return int(value)


def generator(key: jax.Array) -> np.random.Generator:
    """A numpy Generator seeded by a JAX PRNG key's data: the key alone determines every draw.

    The draws here are small (points, weights of a few hundred neurons); numpy makes them
    without compiling JAX's threefry kernels once per shape, which costs more CPU than the draws.
    """
    return np.random.default_rng(np.asarray(jax.random.key_data(key)).ravel().tolist())


def sphere_points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """``n`` points uniform on the unit sphere of R^d (normalised Gaussian vectors), shape (n, d)."""
    n, d = _whole("n", n, 1), _whole("d", d, 2)
    z = rng.standard_normal((n, d))
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def random_rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    """A Haar-random d x d orthogonal matrix (QR of a Gaussian matrix, signs fixed by R's diagonal)."""
    q, r = np.linalg.qr(rng.standard_normal((_whole("d", d, 2), d)))
    return q * np.sign(np.diag(r))


def fibonacci_sphere(n: int, rotation: np.ndarray | None = None) -> np.ndarray:
    """``n`` points of the Fibonacci lattice on S^2 (shape (n, 3)), optionally rotated (``x @ rotation.T``)."""
    n = _whole("n", n, 1)
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    phi = np.pi * (1 + np.sqrt(5.0)) * i
    rho = np.sqrt(1 - z * z)
    x = np.stack([rho * np.cos(phi), rho * np.sin(phi), z], axis=1)
    return x if rotation is None else x @ np.asarray(rotation).T


def gegenbauer_values(max_degree: int, d: int, t) -> jax.Array:
    """``P_0(t) .. P_max_degree(t)`` of dimension ``d`` (P_k(1) = 1), stacked on a new first axis."""
    max_degree, d = _whole("max_degree", max_degree, 0), _whole("d", d, 2)
    xp = jnp if isinstance(t, jax.Array) else np  # numpy in, numpy out (no XLA dispatch)
    t = xp.asarray(t, dtype=float)
    values = [xp.ones_like(t), t]
    for k in range(1, max_degree):
        values.append(((2 * k + d - 2) * t * values[k] - k * values[k - 1]) / (k + d - 2))
    return xp.stack(values[: max_degree + 1])


def angle_nodes(nodes: int) -> np.ndarray:
    """The points t = cos(theta) of the Gauss-Legendre rule in the angle theta on [0, pi] (any dimension)."""
    u, _ = np.polynomial.legendre.leggauss(_whole("nodes", nodes, 2))
    return np.cos(np.pi * (u + 1) / 2)


def _angle_rule(d: int, nodes: int):
    """Gauss-Legendre nodes t = cos(theta) on [0, pi] and weights of the density of x.x' (summing to 1)."""
    u, w = np.polynomial.legendre.leggauss(nodes)
    theta = np.pi * (u + 1) / 2
    density = w * np.sin(theta) ** (d - 2)
    return angle_nodes(nodes), density / density.sum()


def funk_hecke_quadrature(kernel, d: int, degrees, nodes: int = 200) -> np.ndarray:
    """``lambda_k = E[K(t) P_k(t)]``, t = x.x' of two uniform points of S^(d-1), for each of ``degrees``.

    ``kernel`` is any function of t (numpy or JAX, elementwise). Gauss-Legendre in the angle
    with ``nodes`` nodes; the same rule normalises the density (so K = 1 gives lambda_0 = 1).

    Example:
        >>> import numpy as np
        >>> from numeric import spectral_bias as sim
        >>> sim.funk_hecke_quadrature(lambda t: t**2, 3, [0, 2]).round(12)   # t^2 = 1/3 + (2/3) P_2
        array([0.33333333, 0.13333333])
    """
    d, nodes = _whole("d", d, 2), _whole("nodes", nodes, 2)
    degrees = np.asarray(degrees, dtype=int)
    t, weights = _angle_rule(d, nodes)
    polys = np.asarray(gegenbauer_values(int(degrees.max(initial=0)), d, t))[degrees]
    return polys @ (weights * np.asarray(kernel(t), dtype=float))


def zonal_norms(d: int, degrees, nodes: int = 200) -> np.ndarray:
    """``E[P_k(x.e)^2]`` over x uniform on S^(d-1) (= 1 / number of degree-k harmonics), by quadrature."""
    d, nodes = _whole("d", d, 2), _whole("nodes", nodes, 2)
    degrees = np.atleast_1d(np.asarray(degrees, dtype=int))
    t, weights = _angle_rule(d, nodes)
    polys = np.asarray(gegenbauer_values(int(degrees.max(initial=0)), d, t))[degrees]
    return polys**2 @ weights


def empirical_ntk(w: np.ndarray, a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gram matrix of the NTK of f = a.relu(W x)/sqrt(width) at (W, a): both layers' gradients."""
    pre = x @ w.T  # (n, width)
    act, gate = np.maximum(pre, 0.0), (pre > 0).astype(float)
    width = w.shape[0]
    return (x @ x.T) * ((gate * a**2) @ gate.T) / width + act @ act.T / width


class GramEstimate(NamedTuple):
    """Per degree: the mean over replicates of the U-statistic eigenvalue estimate, and its standard error."""

    mean: np.ndarray
    standard_error: np.ndarray
    replicates: np.ndarray  # (replicates, degrees)


def gram_eigenvalues(key: jax.Array, d: int, degrees, n: int = 200, width: int = 256,
                     replicates: int = 16) -> GramEstimate:
    """Monte Carlo eigenvalues of the random two-layer ReLU NTK's integral operator, per degree.

    Each replicate draws ``n`` uniform points, a network of ``width`` neurons (W ~ N(0, I_d),
    a ~ N(0, 1)) and an axis e; ``Y_k = P_k(x.e) / sqrt(E P_k^2)`` has unit norm and
    ``sum_(i != j) K_ij Y_k(x_i) Y_k(x_j) / (n (n-1))`` is unbiased for lambda_k (points and
    weights independent). The standard error is that of the mean over replicates.

    Example:
        >>> import jax
        >>> from numeric import spectral_bias as sim
        >>> est = sim.gram_eigenvalues(jax.random.key(0), 3, [0, 2], n=50, width=32, replicates=4)
        >>> est.replicates.shape
        (4, 2)
    """
    d, n, width = _whole("d", d, 2), _whole("n", n, 2), _whole("width", width, 1)
    replicates = _whole("replicates", replicates, 2)
    degrees = np.asarray(degrees, dtype=int)
    norms = zonal_norms(d, degrees)
    rng = generator(key)
    values = np.empty((replicates, degrees.size))
    for r in range(replicates):
        x = sphere_points(rng, n, d)
        w, a = rng.standard_normal((width, d)), rng.standard_normal(width)
        gram = empirical_ntk(w, a, x)
        np.fill_diagonal(gram, 0.0)  # i != j: the U-statistic
        axis = sphere_points(rng, 1, d)[0]
        harmonics = gegenbauer_values(int(degrees.max(initial=0)), d, x @ axis)[degrees] / np.sqrt(norms)[:, None]
        values[r] = np.einsum("ki,ij,kj->k", harmonics, gram, harmonics) / (n * (n - 1))
    return GramEstimate(values.mean(0), values.std(0, ddof=1) / np.sqrt(replicates), values)


class Training(NamedTuple):
    """Residuals ``f_t(x_i) - y_i`` on the training points, shape (seeds, steps + 1, n); ``diverged`` per seed."""

    residuals: np.ndarray
    diverged: np.ndarray


@functools.partial(jax.jit, static_argnames=("steps",))
def _train(w, a, x, y, learning_rate, steps):
    width = w.shape[0]
    def output(p):
        w, a = p
        return jax.nn.relu(x @ w.T) @ a / jnp.sqrt(width)

    def step(p, _):
        # the gradient of (1/2n) sum (f - y)^2, written out: f = relu(x W^T) a / sqrt(width)
        w, a = p
        pre = x @ w.T
        residual = jax.nn.relu(pre) @ a / jnp.sqrt(width) - y
        back = residual / (x.shape[0] * jnp.sqrt(width))
        grad_a = jax.nn.relu(pre).T @ back
        grad_w = ((pre > 0) * back[:, None] * a).T @ x
        return (w - learning_rate * grad_w, a - learning_rate * grad_a), residual

    final, residuals = jax.lax.scan(step, (w, a), None, length=steps)
    residuals = jnp.concatenate([residuals, (output(final) - y)[None]])
    return residuals


def train_two_layer(key: jax.Array, x, y, width: int, learning_rate: float, steps: int,
                    initialisation: str = "gaussian") -> Training:
    """Full-batch GD of the two-layer ReLU network, one independent initialisation per data set (vmapped).

    ``x``: (seeds, n, d) inputs (one data set per seed) and ``y``: (seeds, n) targets; ``key``
    draws the initial weights of every seed (antisymmetric: ``f_0 = 0``).

    Example:
        >>> import jax, numpy as np
        >>> from numeric import spectral_bias as sim
        >>> x = sim.fibonacci_sphere(8)[None]
        >>> run = sim.train_two_layer(jax.random.key(1), x, x[..., 0], 64, 0.5, 3)
        >>> run.residuals.shape, bool(np.allclose(run.residuals[:, 0], -x[..., 0], atol=1e-12))   # f_0 = 0
        ((1, 4, 8), True)
    """
    width, steps = _whole("width", width, 2), _whole("steps", steps, 1)
    if width % 2:
        raise ValueError(f"width must be even (antisymmetric initialisation, f_0 = 0), got {width}")
    if not np.isfinite(learning_rate) or learning_rate <= 0:
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.ndim != 3 or y.shape != x.shape[:2]:
        raise ValueError(f"need x (seeds, n, d) and y (seeds, n); got shapes {x.shape}, {y.shape}")
    rng = generator(key)
    seeds, half = x.shape[0], width // 2
    if initialisation == "gaussian":
        w_half, a_half = rng.standard_normal((seeds, half, x.shape[2])), rng.standard_normal((seeds, half))
    elif initialisation == "lattice":
        if x.shape[2] != 3:
            raise ValueError(f"initialisation='lattice' needs inputs in R^3, got d = {x.shape[2]}")
        w_half = np.stack([np.sqrt(3.0) * fibonacci_sphere(half, random_rotation(rng, 3)) for _ in range(seeds)])
        a_half = rng.choice([-1.0, 1.0], size=(seeds, half))
    else:
        raise ValueError(f"initialisation must be 'gaussian' or 'lattice', got {initialisation!r}")
    w = np.concatenate([w_half, w_half], axis=1)
    a = np.concatenate([a_half, -a_half], axis=1)
    residuals = jax.vmap(_train, in_axes=(0, 0, 0, 0, None, None))(w, a, x, y, float(learning_rate), steps)
    residuals = np.asarray(residuals)
    diverged = ~np.all(np.isfinite(residuals), axis=(1, 2)) | (np.max(np.abs(residuals), axis=(1, 2)) > 1e6)
    return Training(residuals, diverged)


def degree_projections(residuals, x, axis, degrees) -> jax.Array:
    """Coefficients of ``residuals`` (..., n) on ``P_k(x.axis)`` for each of ``degrees``, by least squares.

    ``x``: (n, d) and ``axis`` (d,) unit vector. One joint least-squares fit on every degree
    ``0 .. max(degrees) + 2`` (the columns need not be orthogonal on the sample, and a component
    of a neighbouring degree is fitted rather than leaked); the requested degrees are returned.
    """
    x = np.asarray(x, dtype=float)
    degrees = np.asarray(degrees, dtype=int)
    top = int(degrees.max(initial=0)) + 2
    design = gegenbauer_values(top, x.shape[1], x @ np.asarray(axis, dtype=float)).T  # (n, top + 1)
    pinv = np.linalg.pinv(design)  # (top + 1, n)
    return np.einsum("kn,...n->...k", pinv[degrees], np.asarray(residuals, dtype=float))
