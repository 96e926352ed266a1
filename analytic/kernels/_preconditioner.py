r"""A low-rank kernel factor from a few kernel columns: :func:`pivoted_cholesky`, and the
preconditioner it gives conjugate gradients, :func:`low_rank_preconditioner`.

Greedy pivoted Cholesky (Harbrecht, Peters, Schneider 2012, "On the low-rank approximation
by the pivoted Cholesky decomposition", Appl. Numer. Math. 62, Algorithm 1): with the
residual diagonal $d = \operatorname{diag}(K - L_j L_j^T)$, step $j$ picks the pivot
$i = \arg\max d$, computes the one kernel column $K_{:,i}$ and appends
$\ell = (K_{:,i} - L_j L_{j,i:}^T)/\sqrt{d_i}$. After $k$ steps $L$ is (n, k) and
$K - LL^T$ is positive semi-definite with trace $\sum d$: the $k$ columns are all the
kernel ever computed (n k entries), never the n x n matrix.

As a preconditioner (Gardner et al. 2018, arXiv:1809.11165v6, sec. 4, use the same factor
with the noise variance as shift) $P = LL^T + D$; the kernel here has no noise term, so D is
the residual diagonal itself, floored at 0.3 of its mean (:func:`low_rank_preconditioner`;
the floor is our choice, from the measurements there), applied by the Woodbury identity in
O(n k) per application.

Measured (float64, depth-2 ReLU NTK, sigma_w 1.4, sigma_b 0.1, Gaussian inputs in d = 10,
y = sin x_1 + x_2 / 2; relative residual |y - K alpha_20| / |y| after 20 CG steps), with the
scalar shift s = mean residual diagonal: at n = 4096 (cond 6.9e4) plain CG 8.6e-2, rank 256
2.9e-3, 512 9.7e-4, 1024 9.1e-5; at n = 12,000 plain 1.0e-1, rank 512 1.2e-2, 1024 1.5e-3,
2048 1.5e-4 (the default diagonal D: 2-3e-4 and 4.3e-5 at 1024, 2048). Uniformly sampled
Nystrom landmarks of the same rank did 1.2-4x worse than the pivoted factor.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from analytic.kernels._blocked import _prepare, kernel_index, pair_block_kernels

__all__ = ["LowRankFactor", "pivoted_cholesky", "low_rank_preconditioner"]

_HIGHEST = jax.lax.Precision.HIGHEST


class LowRankFactor(NamedTuple):
    """``factor`` (n, k) with K ~ factor @ factor.T; ``pivots`` (k,) the kernel columns used,
    in order; ``residual_diagonal`` (n,) = diag(K - factor factor^T) >= 0."""

    factor: jax.Array
    pivots: jax.Array
    residual_diagonal: jax.Array


def _column(x, i, sigma_w, sigma_b, spec, which):
    """K(x, x_i) as (n,): one pair block of one column, the pair (i, i) the same point."""
    xi = jax.lax.dynamic_slice_in_dim(x, i, 1)
    return pair_block_kernels(x, xi, 0, i, sigma_w, sigma_b, spec, True)[which][:, 0]


@functools.partial(jax.jit, static_argnames=("rank", "spec", "which"))
def _pivoted_cholesky(x, sigma_w, sigma_b, *, rank, spec, which):
    n = x.shape[0]
    diagonal = jax.vmap(lambda i: _column(jax.lax.dynamic_slice_in_dim(x, i, 1), 0, sigma_w, sigma_b,
                                          spec, which)[0])(jnp.arange(n))
    tiny = jnp.finfo(x.dtype).eps * jnp.max(diagonal)

    def step(j, state):
        factor, pivots, residual = state
        i = jnp.argmax(residual)
        pivot = residual[i]
        column = _column(x, i, sigma_w, sigma_b, spec, which)
        column = column - jnp.matmul(factor, factor[i], precision=_HIGHEST)
        # a residual at round-off level: the factor is already exact; add nothing
        ok = pivot > tiny
        new = jnp.where(ok, column / jnp.sqrt(jnp.where(ok, pivot, 1)), 0)
        new = new.at[i].set(jnp.where(ok, jnp.sqrt(jnp.where(ok, pivot, 0)), 0))
        residual = jnp.maximum(residual - new ** 2, 0).at[i].set(0)
        return factor.at[:, j].set(new), pivots.at[j].set(i.astype(jnp.int32)), residual

    state = (jnp.zeros((n, rank), x.dtype), jnp.zeros(rank, jnp.int32), diagonal)
    return jax.lax.fori_loop(0, rank, step, state)


def pivoted_cholesky(x, rank: int, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
                     kernel: str = "ntk") -> LowRankFactor:
    r"""Rank-``rank`` greedy pivoted Cholesky factor of $K(X, X)$ (``kernel`` "ntk" or "nngp")
    from ``rank`` kernel columns (n x rank entries; the n x n matrix is never formed).

    ``rank`` is capped at n; once the residual diagonal is at round-off level the remaining
    columns are zero (the factor is then exact). Arguments as :func:`fc_kernels`.

    Example:
        >>> from analytic.kernels import fc_kernels
        >>> x = jax.random.normal(jax.random.key(0), (50, 3))
        >>> low = pivoted_cholesky(x, 50, 2, "relu", 1.4, 0.1)
        >>> k = fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk
        >>> bool(jnp.allclose(low.factor @ low.factor.T, k, rtol=0, atol=1e-9 * float(k.max())))
        True
    """
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank = {rank!r} is outside its valid range (integers >= 1)")
    which = kernel_index(kernel)
    x, _, sigma_w, sigma_b, _, spec = _prepare(x, None, depth, activation, sigma_w, sigma_b,
                                               parameterization, None)
    rank = min(rank, x.shape[0])
    factor, pivots, residual = _pivoted_cholesky(x, sigma_w, sigma_b, rank=rank, spec=spec, which=which)
    return LowRankFactor(factor, pivots, residual)


def low_rank_preconditioner(low: LowRankFactor, shift=None):
    r"""$v \mapsto P^{-1}v$ for $P = LL^T + D$, by the Woodbury identity (O(n k) per call):
    $P^{-1}v = D^{-1}(v - L (I + L^T D^{-1} L)^{-1} L^T D^{-1} v)$.

    ``shift`` None: $D = \operatorname{diag}(\max(d_i, 0.3\,\bar d))$ from the residual
    diagonal $d = \operatorname{diag}(K - LL^T)$ and its mean $\bar d$ (the pivots'
    rows have $d_i = 0$; the floor keeps P well conditioned). A number: $D = s I$. Either is
    floored at ``sqrt(eps) * max diag(LL^T)``: with a (nearly) exact factor a smaller D
    would let the Woodbury form divide the factor's round-off by D.
    Measured (float64, the module docstring's problem, 20 CG steps, rank 2048): relative
    residual 5.7e-5 (floor 0.1), 4.3e-5 (floor 0.3) vs 1.5e-4 for s = the mean at n = 12,000;
    2.9e-4 (floor 0.3) vs 2.5e-3 (mean) at n = 24,000.
    Accepts (n,) or (n, m) right-hand sides.
    """
    if shift is not None and not float(shift) > 0:
        raise ValueError(f"shift = {shift!r} is outside its valid range (0, oo)")
    factor = low.factor
    given = jnp.asarray(-1.0 if shift is None else shift, factor.dtype)
    cholesky, diagonal = _woodbury_setup(factor, low.residual_diagonal, given)
    # the arrays are arguments, not closed-over constants (jit would copy constants into the program)
    return functools.partial(_woodbury, factor, cholesky, diagonal)


_FLOOR = 0.3  # of the mean residual diagonal: the best of {0.1, 0.3, scalar mean} measured


@jax.jit
def _woodbury_setup(factor, residual_diagonal, given):
    """(Cholesky factor of I + L^T D^-1 L, D); ``given`` < 0 selects the default D."""
    scale = jnp.max(jnp.sum(factor ** 2, axis=1))
    floor = jnp.sqrt(jnp.finfo(factor.dtype).eps) * scale
    default = jnp.maximum(residual_diagonal, _FLOOR * jnp.mean(residual_diagonal))
    diagonal = jnp.maximum(jnp.where(given > 0, given, default), floor)
    gram = jax.lax.dot_general(factor, factor / diagonal[:, None], (((0,), (0,)), ((), ())),
                               precision=_HIGHEST)
    inner = gram + jnp.eye(factor.shape[1], dtype=factor.dtype)
    return jnp.linalg.cholesky(inner), diagonal


@jax.jit
def _woodbury(factor, cholesky, diagonal, v):
    scaled = v / (diagonal[:, None] if v.ndim == 2 else diagonal)
    projected = jax.lax.dot_general(factor, scaled, (((0,), (0,)), ((), ())), precision=_HIGHEST)
    solved = jax.scipy.linalg.cho_solve((cholesky, True), projected)
    return scaled - jnp.matmul(factor, solved, precision=_HIGHEST) / (diagonal[:, None] if v.ndim == 2
                                                                          else diagonal)
