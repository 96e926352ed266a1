"""GD, heavy ball and Nesterov run directly on quadratics with prescribed spectra.

Independent of ``analytic``: nothing here knows a closed form. The problem is
``f(x) = (x - x*)^T H (x - x*) / 2`` with ``H = Q diag(eigenvalues) Q^T`` for a Haar
random orthogonal ``Q``. The optimisers are the plain update rules:

* ``gd``:         x <- x - alpha grad f(x)
* ``heavy_ball``: x_next = x - alpha grad f(x) + beta (x - x_prev)
* ``nesterov``:   y = x + beta (x - x_prev);  x_next = y - alpha grad f(y)

started at rest (x_prev = x0). Runs are ``lax.scan`` loops, vmapped over
(alpha, beta) grids and over seeds. Because f is quadratic the error dynamics are
linear, so the state is rescaled by an exact power of two whenever its norm leaves
[2^-64, 2^64], and the scale is carried as a log: rates far from 1 are measured over
long runs without overflow or underflow, in float32 or float64 alike.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["METHODS", "Quadratic", "Trajectory", "quadratic_with_spectrum", "run", "sweep",
           "seed_ensemble", "state_log_norms", "contraction_rate", "steps_to_reach", "transition_trace_det"]

METHODS = ("gd", "heavy_ball", "nesterov")


class Quadratic(NamedTuple):
    """f(x) = (x - minimiser)^T hessian (x - minimiser) / 2; eigenvectors are columns."""

    hessian: jax.Array
    eigenvalues: jax.Array
    eigenvectors: jax.Array
    minimiser: jax.Array


class Trajectory(NamedTuple):
    """A run of ``steps`` updates.

    ``log_mode_errors[t, i]`` is log |q_i^T (x_t - x*)| (t = 0..steps), the error along
    eigenvector i measured from the iterate; ``log_errors[t]`` is log ||x_t - x*||.
    ``diverged``: the error grew over the run (or became non-finite);
    ``growth_rate``: per-step factor of ||x_t - x*|| over the second half of the run.
    """

    log_mode_errors: jax.Array
    log_errors: jax.Array
    diverged: jax.Array
    growth_rate: jax.Array


def _orthogonal_from_gaussian(gaussian) -> jax.Array:
    """Q of the QR of a standard Gaussian square matrix, columns signed by diag(R): Haar (Mezzadri 2007)."""
    q, r = jnp.linalg.qr(gaussian)
    return q * jnp.sign(jnp.diag(r))


def quadratic_with_spectrum(key, eigenvalues, dtype=None) -> Quadratic:
    """A quadratic whose Hessian has exactly ``eigenvalues`` in a random orthogonal basis."""
    eig = jnp.asarray(eigenvalues, dtype=dtype)
    if not jnp.issubdtype(eig.dtype, jnp.floating):
        eig = eig.astype(jnp.result_type(float))
    if eig.ndim != 1 or eig.shape[0] < 1:
        raise ValueError(f"eigenvalues must be a non-empty 1-D array, got shape {eig.shape}")
    if not bool(jnp.all(jnp.isfinite(eig))) or bool(jnp.any(eig < 0)):
        raise ValueError(f"eigenvalues must be finite and >= 0, got {eigenvalues!r}")
    return _build_quadratic(key, eig)


@jax.jit
def _build_quadratic(key, eig) -> Quadratic:
    """One random normal draw (d^2 + d numbers) cut into the basis's Gaussian matrix and the minimiser."""
    d = eig.shape[0]
    draw = jax.random.normal(key, (d * d + d,), eig.dtype)
    q = _orthogonal_from_gaussian(draw[:d * d].reshape(d, d))
    hessian = (q * eig) @ q.T
    return Quadratic(0.5 * (hessian + hessian.T), eig, q, draw[d * d:])


def _check_step(name: str, value, low_open: bool) -> None:
    v = np.asarray(value, dtype=float)
    bad = ~np.isfinite(v) | ((v <= 0) if low_open else (v < 0))
    if bad.any():
        valid = "(0, oo)" if low_open else "[0, oo)"
        raise ValueError(f"{name} = {v[bad].flat[0]!r} is outside its valid range {valid} (finite)")


def _update(method: str, hessian, alpha, beta, x, x_prev):
    """One step on the error e = x - x* (grad f(x) = H e)."""
    if method == "gd":
        return x - alpha * (hessian @ x)
    if method == "heavy_ball":
        return x - alpha * (hessian @ x) + beta * (x - x_prev)
    if method == "nesterov":
        y = x + beta * (x - x_prev)
        return y - alpha * (hessian @ y)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")


def transition_trace_det(method: str, curvature, learning_rate, momentum) -> tuple[jax.Array, jax.Array]:
    """Trace and determinant of one eigenmode's 2x2 transition matrix, measured by one step.

    A mode with curvature ``curvature`` (learning rate ``learning_rate``, momentum ``momentum``) obeys e_{t+1} = a e_t + b e_{t-1}; one step of the method from
    (e_t, e_{t-1}) = (1, 0) gives a and from (0, 1) gives b, so the companion matrix has trace a and
    determinant -b (characteristic polynomial z^2 - a z - b). Arrays broadcast.
    """
    if method not in ("heavy_ball", "nesterov"):
        raise ValueError(f"method must be 'heavy_ball' or 'nesterov' (two-step methods), got {method!r}")
    lam, alpha, beta = jnp.broadcast_arrays(*(jnp.asarray(v, dtype=float) for v in (curvature, learning_rate, momentum)))

    def step(l, a, b, x, x_prev):
        return _update(method, l[None, None], a, b, x[None], x_prev[None])[0]

    one_step = jnp.vectorize(step)
    a = one_step(lam, alpha, beta, jnp.ones_like(lam), jnp.zeros_like(lam))
    b = one_step(lam, alpha, beta, jnp.zeros_like(lam), jnp.ones_like(lam))
    return a, -b


def _log_abs(x):
    return jnp.log(jnp.abs(x))


def _as_one_rule(method: str, beta):
    """(look_ahead, beta) of :func:`_one_rule_step` for ``method`` (gd: beta = 0; nesterov: 1)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return float(method == "nesterov"), (jnp.zeros_like(beta) if method == "gd" else beta)


def _one_rule_step(hessian, alpha, beta, look_ahead, x, x_prev):
    """The three rules as one (no compilation per method): with d = x - x_prev,
    x_next = x + beta d - alpha H (x + look_ahead beta d); look_ahead = 0 is heavy ball (and
    GD at beta = 0), look_ahead = 1 Nesterov (y = x + beta d; x_next = y - alpha H y)."""
    d = x - x_prev
    return x + beta * d - alpha * (hessian @ (x + look_ahead * beta * d))


@functools.partial(jax.jit, static_argnames=("steps",))
def _scan(look_ahead, hessian, eigenvectors, error0, alpha, beta, steps):
    big = jnp.asarray(2.0**64, error0.dtype)

    def step(carry, _):
        x, x_prev, log_scale = carry
        x_next = _one_rule_step(hessian, alpha, beta, look_ahead, x, x_prev)
        norm = jnp.linalg.norm(x_next)
        # rescale by an exact power of two (no rounding) when the norm leaves [2^-64, 2^64]
        exponent = jnp.where((norm > big) | (norm < 1 / big), jnp.frexp(norm)[1], 0)
        factor = jnp.ldexp(jnp.ones_like(norm), -exponent)
        log_scale = log_scale + exponent * jnp.log(2.0).astype(norm.dtype)
        x_next, x = x_next * factor, x * factor
        record = (_log_abs(eigenvectors.T @ x_next) + log_scale, jnp.log(jnp.linalg.norm(x_next)) + log_scale)
        return (x_next, x, log_scale), record

    init = (error0, error0, jnp.zeros((), error0.dtype))
    _, (modes, norms) = jax.lax.scan(step, init, None, length=steps)
    modes = jnp.concatenate([_log_abs(eigenvectors.T @ error0)[None], modes])
    norms = jnp.concatenate([jnp.log(jnp.linalg.norm(error0))[None], norms])
    half = steps // 2
    growth = jnp.exp((norms[-1] - norms[half]) / (steps - half))
    diverged = ~jnp.isfinite(norms[-1]) | (norms[-1] > norms[0])
    return Trajectory(modes, norms, diverged, growth)


def run(method: str, quadratic: Quadratic, alpha, beta, steps: int, initial_modes=None) -> Trajectory:
    """``steps`` updates of ``method`` from rest at x0 = x* + Q c (``c = initial_modes``).

    ``initial_modes`` (default all ones) is the initial error along each eigenvector.
    ``alpha`` > 0 and ``beta`` >= 0 may be arrays of one shape: the run is vmapped over
    them and the Trajectory fields get their shape in front. ``beta`` is ignored by
    ``gd``. Divergence is reported in the result, never raised.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if int(steps) < 2:
        raise ValueError(f"steps must be >= 2, got {steps!r}")
    _check_step("alpha", alpha, low_open=True)
    _check_step("beta", beta, low_open=False)
    dtype = quadratic.eigenvalues.dtype
    c = jnp.ones_like(quadratic.eigenvalues) if initial_modes is None else jnp.asarray(initial_modes, dtype)
    if c.shape != quadratic.eigenvalues.shape or not bool(jnp.all(jnp.isfinite(c))) or not bool(jnp.any(c != 0)):
        raise ValueError(f"initial_modes must be finite, not all zero, of shape {quadratic.eigenvalues.shape}")
    error0 = quadratic.eigenvectors @ c
    alpha, beta = jnp.broadcast_arrays(jnp.asarray(alpha, dtype), jnp.asarray(beta, dtype))
    look_ahead, beta = _as_one_rule(method, beta)
    flat = _run_flat(jnp.asarray(look_ahead, dtype), quadratic.hessian, quadratic.eigenvectors, error0,
                     alpha.ravel(), beta.ravel(), int(steps))
    return jax.tree_util.tree_map(lambda x: x.reshape(alpha.shape + x.shape[1:]), flat)


@functools.partial(jax.jit, static_argnames=("steps",))
def _run_flat(look_ahead, hessian, eigenvectors, error0, alphas, betas, steps):
    """``_scan`` vmapped over a flat list of (alpha, beta): one compiled program per grid size
    and run length, whatever the method."""
    return jax.vmap(lambda a, b: _scan(look_ahead, hessian, eigenvectors, error0, a, b, steps))(alphas, betas)


def sweep(method: str, quadratic: Quadratic, alphas, betas, steps: int, initial_modes=None) -> Trajectory:
    """Every (alpha, beta) of the grid ``alphas x betas``: fields lead with (len(alphas), len(betas))."""
    a, b = jnp.meshgrid(jnp.asarray(alphas), jnp.asarray(betas), indexing="ij")
    return run(method, quadratic, a, b, steps, initial_modes)


def seed_ensemble(method: str, keys, eigenvalues, alpha, beta, steps: int) -> Trajectory:
    """One run per key, each on its own random eigenbasis and minimiser (vmapped over keys)."""
    _check_step("alpha", alpha, low_open=True)
    _check_step("beta", beta, low_open=False)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    quadratics = jax.vmap(lambda k: quadratic_with_spectrum(k, eigenvalues))(keys)
    dtype = quadratics.eigenvalues.dtype

    def one(q):
        look_ahead, b = _as_one_rule(method, jnp.asarray(beta, dtype))
        return _scan(jnp.asarray(look_ahead, dtype), q.hessian, q.eigenvectors,
                     q.eigenvectors @ jnp.ones_like(q.eigenvalues), jnp.asarray(alpha, dtype), b, int(steps))

    return jax.vmap(one)(quadratics)


def state_log_norms(log_mode_errors) -> jax.Array:
    """log ||(e_t, e_{t-1})|| per mode from ``log_mode_errors`` (time axis -2).

    The norm of the two-step state of a mode never vanishes where e_t alone crosses
    zero (oscillating modes), so its logarithm has no -inf dips; t = 0 uses e_0 twice.
    """
    return _state_log_norms(jnp.asarray(log_mode_errors))


@jax.jit
def _state_log_norms(y):
    previous = jnp.concatenate([y[..., :1, :], y[..., :-1, :]], axis=-2)
    return 0.5 * jnp.logaddexp(2 * y, 2 * previous)


def contraction_rate(log_errors, start: int = 5, floor=None, min_points: int = 4):
    r"""Per-step asymptotic factor of a measured error sequence (last axis is time).

    Fits $\log e_t = a + p \log(1+t) + t \log\rho$ by least squares over
    ``t >= start`` and the points where ``log_errors > floor`` (``floor`` broadcast
    against the sequence: use it to drop what sits below round-off relative to the
    dominant mode), and returns $\rho$. The $\log(1+t)$ term absorbs the polynomial
    prefactor $t\rho^t$ of a double (defective) root, which a plain log-slope would
    read as a rate too large by a factor $\approx 1 + 1/t$. Fewer than ``min_points``
    valid points give NaN (the rate is not resolvable above the floor).
    """
    if any(isinstance(v, jax.core.Tracer) for v in (log_errors, floor)):  # inside a caller's jit/vmap
        y = jnp.asarray(log_errors)
        floor = jnp.broadcast_to(jnp.asarray(-jnp.inf if floor is None else floor, y.dtype), y.shape)
        return _fit_rate(y, floor, start, max(int(min_points), 4))
    y = np.asarray(log_errors)
    floor = np.broadcast_to(np.asarray(-np.inf if floor is None else floor, y.dtype), y.shape)
    # Sequences padded (with NaN: no valid point, a NaN rate, dropped) to a bucket of at least
    # 512: every batch shape of one length shares one compiled fit.
    flat_y, flat_floor = y.reshape(-1, y.shape[-1]), floor.reshape(-1, y.shape[-1])
    n = flat_y.shape[0]
    rows = int(2 ** np.ceil(np.log2(max(n, 512))))
    pad = ((0, rows - n), (0, 0))
    rates = _fit_rate(np.pad(flat_y, pad, constant_values=np.nan), np.pad(flat_floor, pad),
                      np.int32(start), np.int32(max(int(min_points), 4)))
    return np.asarray(rates)[:n].reshape(y.shape[:-1])


@jax.jit
def _fit_rate(y, floor, start, min_points):
    """:func:`contraction_rate` as one compiled program (eagerly, each op would compile alone)."""
    t = jnp.arange(y.shape[-1], dtype=y.dtype)
    ok = jnp.isfinite(y) & (t >= start) & (y > floor)
    w = ok.astype(y.dtype)
    basis = jnp.stack([jnp.ones_like(t), jnp.log1p(t), t], axis=-1)
    basis = basis / jnp.asarray([1.0, jnp.log1p(t[-1]), t[-1]], y.dtype)  # conditioning
    weighted = basis * w[..., None]
    gram = jnp.einsum("...ti,...tj->...ij", weighted, basis)
    rhs = jnp.einsum("...ti,...t->...i", weighted, jnp.where(ok, y, 0.0))
    coef = jnp.linalg.solve(gram + 1e-30 * jnp.eye(3, dtype=y.dtype), rhs[..., None])[..., 0]
    rate = jnp.exp(coef[..., 2] / t[-1])
    return jnp.where(w.sum(-1) >= min_points, rate, jnp.nan)


def steps_to_reach(log_errors, eps) -> jax.Array:
    """First t with error_t / error_0 <= eps and never above it later (-1 if never)."""
    return _steps_to_reach(jnp.asarray(log_errors), eps)


@jax.jit
def _steps_to_reach(y, eps):
    above = y - y[..., :1] > jnp.log(eps)
    last_above = y.shape[-1] - 1 - jnp.argmax(above[..., ::-1], axis=-1)
    return jnp.where(above[..., -1], -1, jnp.where(jnp.any(above, axis=-1), last_above + 1, 0))
