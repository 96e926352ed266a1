r"""Sharpness: the top eigenvalue of a loss Hessian, from Hessian-vector products.

The Hessian is never formed. A Hessian-vector product is forward-over-reverse
differentiation, $Hv = \frac{d}{d\epsilon}\nabla L(\theta + \epsilon v)\big|_{0}$
(``jax.jvp`` of ``jax.grad``), which costs about two gradient evaluations; Lanczos
iteration on it gives the extreme eigenvalues (Golub and Van Loan, "Matrix
Computations", sec. 10.1). Parameters may be any pytree; they are flattened with
``jax.flatten_util.ravel_pytree``.

A preconditioned sharpness $\lambda_{\max}(P^{-1}H)$ (adaptive optimisers with a
diagonal preconditioner $P$) is the top eigenvalue of the symmetric
$P^{-1/2} H P^{-1/2}$, which has the same spectrum; pass ``preconditioner`` = the
diagonal of $P$ (a pytree like the parameters, or a flat vector).

Example:
    >>> import jax.numpy as jnp
    >>> loss = lambda w: 0.5 * (3.0 * w[0] ** 2 + w[1] ** 2)
    >>> float(sharpness(loss, jnp.zeros(2), iterations=10).eigenvalue)
    3.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

__all__ = ["Sharpness", "hessian_vector_product", "sharpness"]


class Sharpness(NamedTuple):
    """Top Hessian eigenvalue, its eigenvector (flat), and the Lanczos residual norm."""

    eigenvalue: jax.Array
    eigenvector: jax.Array
    residual: jax.Array  # |H v - lam v|: how well converged the pair is


def hessian_vector_product(loss: Callable[..., jax.Array], params, *args) -> Callable[[jax.Array], jax.Array]:
    """``v -> H v`` for the Hessian of ``loss(params, *args)`` in ``params``; ``v`` flat."""
    flat, unravel = ravel_pytree(params)

    def flat_grad(x):
        return ravel_pytree(jax.grad(loss)(unravel(x), *args))[0]

    def product(v):
        return jax.jvp(flat_grad, (flat,), (v.astype(flat.dtype),))[1]

    return product


@functools.partial(jax.jit, static_argnames=("loss", "iterations"))
def _lanczos_top(loss, params, args, scale, start, iterations):
    hvp = hessian_vector_product(loss, params, *args)

    def operator(v):  # P^{-1/2} H P^{-1/2}: same spectrum as P^{-1} H, symmetric
        return scale * hvp(scale * v)

    n = start.shape[0]
    k = min(iterations, n)
    q0 = start / jnp.linalg.norm(start)
    basis = jnp.zeros((k + 1, n), start.dtype).at[0].set(q0)

    def step(carry, j):
        basis, alphas, betas = carry
        w = operator(basis[j])
        a = jnp.vdot(basis[j], w)
        # Full reorthogonalisation (k is small): keeps the Ritz values honest.
        w = w - basis.T @ (basis @ w)
        w = w - basis.T @ (basis @ w)
        b = jnp.linalg.norm(w)
        safe = jnp.where(b > 0, b, 1.0)
        basis = basis.at[j + 1].set(jnp.where(b > 0, w / safe, 0.0))
        return (basis, alphas.at[j].set(a), betas.at[j].set(b)), None

    init = (basis, jnp.zeros(k, start.dtype), jnp.zeros(k, start.dtype))
    (basis, alphas, betas), _ = jax.lax.scan(step, init, jnp.arange(k))
    tridiagonal = jnp.diag(alphas) + jnp.diag(betas[:-1], 1) + jnp.diag(betas[:-1], -1)
    values, vectors = jnp.linalg.eigh(tridiagonal)
    top = vectors[:, -1]
    vector = basis[:k].T @ top
    residual = jnp.linalg.norm(operator(vector) - values[-1] * vector)
    return Sharpness(values[-1], vector, residual)


def sharpness(loss: Callable[..., jax.Array], params, args: tuple = (), iterations: int = 20,
              key: jax.Array | None = None, preconditioner=None) -> Sharpness:
    r"""Top eigenvalue of the Hessian of ``loss(params, *args)`` in ``params`` (Lanczos on HVPs).

    ``params`` is any pytree; ``args`` (data, labels, ...) are traced, so one
    compilation serves every call with the same shapes. ``loss`` is a static
    argument of the jitted computation: pass the same function object each time
    (a module-level function), not a fresh closure, or every call recompiles.
    ``iterations`` Lanczos steps (exact once it reaches the parameter count).
    ``preconditioner``: the positive diagonal of ``P`` (pytree like ``params`` or a
    flat vector) for $\lambda_{\max}(P^{-1}H)$. Returns :class:`Sharpness`.
    """
    if not isinstance(iterations, int) or isinstance(iterations, bool) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    flat, _ = ravel_pytree(params)
    if not jnp.issubdtype(flat.dtype, jnp.floating):
        raise TypeError(f"params must be floating point, got dtype {flat.dtype}")
    if preconditioner is None:
        scale = jnp.ones_like(flat)
    else:
        diag = ravel_pytree(preconditioner)[0] if not isinstance(preconditioner, jax.Array) \
            else preconditioner.ravel()
        if diag.shape != flat.shape:
            raise ValueError(f"preconditioner must match params in size: {diag.shape} vs {flat.shape}")
        if not isinstance(diag, jax.core.Tracer) and not bool(jnp.all(diag > 0)):
            raise ValueError("preconditioner must be positive everywhere (the diagonal of P), "
                             f"got minimum {float(jnp.min(diag))}")
        scale = 1.0 / jnp.sqrt(diag.astype(flat.dtype))
    key = jax.random.key(0) if key is None else key
    start = jax.random.normal(key, flat.shape, flat.dtype)
    return _lanczos_top(loss, params, tuple(args), scale, start, iterations=iterations)
