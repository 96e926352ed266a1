r"""Jitted composites of the momentum Formulas: stability, regimes, exact step counts.

Plain JAX functions built on :mod:`analytic.momentum`'s Formulas (re-exported there):

* :func:`spectral_radius` (method, alpha, beta, lam): dispatch to the method's Formula;
* :func:`is_stable`: spectral radius < 1 (the stability region in (alpha, beta));
* :func:`regime`: sign of the discriminant, +1 real roots, 0 double root, -1 complex;
* :func:`steps_to_eps` (method, kappa, eps): smallest integer t with the tuned
  method's slowest-mode error $\le \varepsilon$, counting the $(1 + a t)$ prefactor
  of a double root that the leading-order ``*_steps`` Formulas leave out.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

METHODS = ("gd", "heavy_ball", "nesterov")
_MOMENTUM = ("heavy_ball", "nesterov")


def _formula(name: str):
    import analytic  # deferred: analytic.momentum imports this module

    return analytic.get(f"momentum.{name}")


def _check_method(method: str, allowed: tuple[str, ...]) -> None:
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")


def spectral_radius(method: str, alpha, beta, lam):
    r"""$\max|z|$ of the per-mode iteration matrix of ``method`` (checked inputs).

    Example:
        >>> spectral_radius("nesterov", alpha=0.5, beta=0.5, lam=1.0)  # complex: sqrt(0.25)
        Array(0.5, dtype=float32)
    """
    _check_method(method, _MOMENTUM)
    return _formula(f"{method}_spectral_radius")(alpha=alpha, beta=beta, lam=lam)


def is_stable(method: str, alpha, beta, lam):
    """True where every root lies strictly inside the unit disc (the mode converges)."""
    return spectral_radius(method, alpha, beta, lam) < 1


def regime(method: str, alpha, beta, lam):
    """+1 two real roots, 0 a double root, -1 complex roots (sign of the discriminant)."""
    _check_method(method, _MOMENTUM)
    return jnp.sign(_formula(f"{method}_discriminant")(alpha=alpha, beta=beta, lam=lam))


def steps_to_eps(method: str, kappa, eps):
    r"""Iterations for the tuned ``method`` to bring its slowest mode to relative error eps.

    The smallest integer $t$ with $|x_t / x_0| \le \varepsilon$ for the slowest
    eigen-mode started at rest (``momentum.<method>_slowest_mode_error``): $\mu$ for
    GD at step $2/(\mu+L)$ and for Nesterov at $\alpha = 1/L$,
    $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$; $L$ for heavy ball at its optimum. The
    error is $\ge 1$ before its transient peak and decreasing after it, so the set
    $\{t : \text{error} \le \varepsilon\}$ is $[T, \infty)$; $T$ is found by doubling
    then integer bisection (``lax`` loops, vectorised over kappa and eps). Returns
    whole numbers in the inputs' float dtype.

    Example:
        >>> steps_to_eps("heavy_ball", kappa=100.0, eps=1e-6)
        Array(95., dtype=float32)
    """
    _check_method(method, METHODS)
    error = _formula(f"{method}_slowest_mode_error")
    leading = _formula(f"{method}_steps")
    leading.check_arguments(kappa=kappa, eps=eps)  # kappa > 1, 0 < eps < 1, finite
    return _count(error.jax, jnp.asarray(kappa), jnp.asarray(eps))


@functools.partial(jax.jit, static_argnums=0)
def _count(error, kappa, eps):
    kappa, eps = jnp.broadcast_arrays(kappa, eps)
    dtype = jnp.result_type(kappa.dtype, eps.dtype, float)
    kappa, eps = kappa.astype(dtype), eps.astype(dtype)

    def below(n):
        return error(kappa, n) <= eps

    def grow(hi):
        return jnp.where(below(hi), hi, 2 * hi)

    hi = jax.lax.while_loop(lambda h: ~jnp.all(below(h)), grow, jnp.ones_like(kappa))
    lo = jnp.zeros_like(hi)  # error(0) = 1 > eps

    def bisect(_, bounds):
        lo, hi = bounds
        mid = jnp.floor((lo + hi) / 2)
        ok = below(mid)
        return jnp.where(ok, lo, mid), jnp.where(ok, mid, hi)

    _, hi = jax.lax.fori_loop(0, int(np.log2(np.finfo(np.float32).max)) + 2, bisect, (lo, hi))
    return hi
