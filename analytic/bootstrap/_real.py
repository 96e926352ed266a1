r"""The real world: SGD on the empirical loss of $n$ fixed samples, as an exact moment recursion.

Given the sample $X$ ($n \times d$), $y$, let $\hat w$ be its least-squares fit, $r = y - X\hat w$
the residuals (so $X^\top r = 0$), $\hat\Sigma = X^\top X/n$. One SGD step on a batch of $B$
indices $i_1..i_B$ drawn uniformly **with replacement** moves $e = w - \hat w$ to
$$e' = \Big(I - \tfrac{\eta}{B}\sum_b x_{i_b}x_{i_b}^\top\Big)e + \tfrac{\eta}{B}\sum_b r_{i_b}x_{i_b}.$$
Averaging over the indices (independent of $e$), with $\mu = E e$ and $M = E ee^\top$:
$$\mu' = (I - \eta\hat\Sigma)\mu,$$
$$M' = M - \eta(\hat\Sigma M + M\hat\Sigma) + \eta^2(1 - \tfrac1B)\hat\Sigma M\hat\Sigma
 + \tfrac{\eta^2}{B}\big(Q(M) + G - 2C(\mu)\big),$$
$Q(M) = \tfrac1n\sum_i (x_i^\top M x_i)\,x_ix_i^\top$ (the sample's fourth moments),
$G = \tfrac1n\sum_i r_i^2 x_ix_i^\top$ (the gradient noise at $\hat w$),
$C(\mu) = \tfrac1n\sum_i (x_i^\top\mu)\,r_i\,x_ix_i^\top$ (the cross term; the terms with
$\tfrac1n\sum_i r_ix_i = 0$ drop out). Nothing is approximated *given the sample and
with-replacement sampling*. The test risk on the population is
$E\lVert w - w^\star\rVert^2 + \sigma^2 = \mathrm{tr}M + 2\mu^\top\delta + \lVert\delta\rVert^2 + \sigma^2$,
$\delta = \hat w - w^\star$, from $w_0 = 0$ ($\mu_0 = -\hat w$, $M_0 = \hat w\hat w^\top$).

The approximation: Nakkiran et al. (arXiv:2010.08127v2, sec. 2) cycle through the sample
in epochs (without replacement). With replacement, the first epoch already reuses samples,
so the two worlds are not identical in distribution during the first $n/B$ steps; the
check measures how far epoch-cycling SGD is from this recursion. The expected real-world
risk over samples is the average of this recursion over independent samples (a Monte
Carlo over data; the recursion is exact for each).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["RealWorld", "real_world_risk", "separation_step"]


class RealWorld(NamedTuple):
    """Recorded steps and the real world's expected test risk (over SGD's sampling) there."""

    steps: np.ndarray
    test_risk: np.ndarray


def _positive(name: str, value, *, integer: bool = False, at_least: float = 0.0, strict: bool = True):
    if integer and (isinstance(value, bool) or not float(value).is_integer()):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or (v <= at_least if strict else v < at_least):
        bound = f"> {at_least:g}" if strict else f">= {at_least:g}"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return int(v) if integer else v


@functools.partial(jax.jit, static_argnames=("steps", "record_every", "batch_size"))
def _recursion(x, w_hat, residual, w_star, learning_rate, batch_size, steps, record_every, sigma2):
    n = x.shape[0]
    delta = w_hat - w_star
    cov = x.T @ x / n
    noise = (x.T * residual**2) @ x / n
    eta, inv_b = learning_rate, 1.0 / batch_size

    def risk(mu, m):
        return jnp.trace(m) + 2 * mu @ delta + delta @ delta + sigma2

    def step(state, _):
        mu, m = state
        fourth = (x.T * jnp.sum((x @ m) * x, axis=1)) @ x / n
        cross = (x.T * ((x @ mu) * residual)) @ x / n
        cov_m = cov @ m
        m = (m - eta * (cov_m + cov_m.T) + eta**2 * (1 - inv_b) * cov_m @ cov
             + eta**2 * inv_b * (fourth + noise - 2 * cross))
        m = (m + m.T) / 2  # symmetric by construction; keeps round-off from breaking it
        mu = mu - eta * cov @ mu
        return (mu, m), risk(mu, m)

    start = (-w_hat, jnp.outer(w_hat, w_hat))
    _, risks = jax.lax.scan(step, start, None, length=steps)
    return jnp.concatenate([risk(*start)[None], risks[record_every - 1::record_every]])


def real_world_risk(x, y, w_star, learning_rate, batch_size: int, steps: int, sigma2, *,
                    record_every: int = 1) -> RealWorld:
    r"""Expected test risk of SGD on the sample ``(x, y)`` at steps ``0, record_every, ..., steps``.

    ``x`` (n, d) features, ``y`` (n,) labels, ``w_star`` (d,) the population weights,
    ``sigma2`` the label-noise variance of the population (for the test risk). Batches of
    ``batch_size`` indices are drawn uniformly with replacement (see the module docstring).
    Follows the dtype of ``x`` (float64 under ``jax_enable_x64``).

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 0.0], [0.0, 1.0]]); w = np.array([1.0, -1.0])
        >>> # noise-free labels: w_hat = w*; each step contracts the sampled coordinate's error by (1 - eta)
        >>> run = real_world_risk(x, x @ w, w, learning_rate=1.0, batch_size=1, steps=1, sigma2=0.0)
        >>> [round(float(v), 6) for v in run.test_risk]   # one of the two errors zeroed: 2 -> 1
        [2.0, 1.0]
    """
    x_arr = np.asarray(x, dtype=float)
    if x_arr.ndim != 2 or x_arr.shape[0] < 1 or not np.all(np.isfinite(x_arr)):
        raise ValueError(f"x must be a finite 2-D array (samples x features), got shape {x_arr.shape}")
    n, d = x_arr.shape
    for name, value, shape in (("y", y, (n,)), ("w_star", w_star, (d,))):
        arr = np.asarray(value, dtype=float)
        if arr.shape != shape or not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} must be a finite array of shape {shape}, got shape {arr.shape}")
    learning_rate = _positive("learning_rate", learning_rate)
    batch_size = _positive("batch_size", batch_size, integer=True, at_least=1, strict=False)
    steps = _positive("steps", steps, integer=True, strict=False)
    record_every = _positive("record_every", record_every, integer=True, at_least=1, strict=False)
    sigma2 = _positive("sigma2", sigma2, strict=False)
    if steps % record_every:
        raise ValueError(f"steps = {steps} must be a multiple of record_every = {record_every}")
    dtype = jnp.asarray(x).dtype if hasattr(x, "dtype") and jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) \
        else jnp.asarray(0.0).dtype
    w_hat = np.linalg.lstsq(x_arr, np.asarray(y, dtype=float), rcond=None)[0]  # least squares (min norm if n < d)
    residual = np.asarray(y, dtype=float) - x_arr @ w_hat
    arrays = [jnp.asarray(v, dtype=dtype) for v in (x, w_hat, residual, w_star)]
    risks = _recursion(*arrays, jnp.asarray(learning_rate, dtype), batch_size, steps, record_every,
                       jnp.asarray(sigma2, dtype))
    return RealWorld(np.arange(0, steps + 1, record_every), np.asarray(risks))


def separation_step(steps, real, ideal, gap: float = 0.25):
    """The first recorded step at which ``real >= (1 + gap) * ideal`` (test risks), or ``None``.

    Between two recorded steps the crossing is placed by linear interpolation of the
    relative gap ``real / ideal - 1`` (a float); at or before the first step it is that step.

    Example:
        >>> round(separation_step([0, 10, 20], [1.0, 1.1, 1.5], [1.0, 1.0, 1.0], gap=0.25), 6)
        13.75
    """
    steps, real, ideal = (np.asarray(v, dtype=float) for v in (steps, real, ideal))
    if not (steps.shape == real.shape == ideal.shape and steps.ndim == 1):
        raise ValueError(f"steps, real and ideal must be 1-D of one length, got {steps.shape}, {real.shape}, "
                         f"{ideal.shape}")
    if not gap > 0:
        raise ValueError(f"gap must be > 0, got {gap!r}")
    relative = real / ideal - 1
    above = np.nonzero(relative >= gap)[0]
    if above.size == 0:
        return None
    k = int(above[0])
    if k == 0:
        return float(steps[0])
    fraction = (gap - relative[k - 1]) / (relative[k] - relative[k - 1])
    return float(steps[k - 1] + fraction * (steps[k] - steps[k - 1]))
