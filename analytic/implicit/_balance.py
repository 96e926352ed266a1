r"""Balancedness of a deep linear network under GD: the exact per-step drift, for matrices.

For $L = \tfrac1{2n}\lVert W_N\cdots W_1X - Y\rVert^2$ the layer gradients are
$\nabla_i = (W_N\cdots W_{i+1})^\top E\,(W_{i-1}\cdots W_1X)^\top$ with
$E = (W_N\cdots W_1X - Y)/n$, so $W_{i+1}^\top\nabla_{i+1} = \nabla_iW_i^\top$. A GD step
therefore changes $D_i = W_{i+1}^\top W_{i+1} - W_iW_i^\top$ by exactly
$$\Delta D_i = \eta^2\big(\nabla_{i+1}^\top\nabla_{i+1} - \nabla_i\nabla_i^\top\big),$$
the first-order terms cancelling (gradient flow conserves $D_i$: Arora, Cohen, Hazan
2018, arXiv:1802.06509v2, Theorem 1; Du, Hu, Lee 2018, arXiv:1806.00900v2). Over a
fixed time $T = t\eta$ the accumulated drift is $O(\eta)$. The scalar depth-3 case is
the Formula ``implicit.chain_balance_drift`` (derived by sympy); this composite writes
the gradients out by the product rule above (no autodiff).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

__all__ = ["deep_linear_balance_drift"]


def _product(matrices, size):
    return functools.reduce(lambda acc, w: w @ acc, matrices, jnp.eye(size))


def deep_linear_balance_drift(weights, x, y, eta):
    r"""$\eta^2(\nabla_{i+1}^\top\nabla_{i+1} - \nabla_i\nabla_i^\top)$ for each adjacent pair of ``weights``.

    ``weights``: W_1 (h_1, d), ..., W_N; ``x`` (d, n), ``y`` (k, n).

    Example:
        >>> import numpy as np
        >>> from analytic.implicit import deep_linear_balance_drift
        >>> w = [np.array([[1.0]]), np.array([[2.0]])]   # (w2 w1 - 1)^2/2: grads r w2 = 2, r w1 = 1 (r = 1)
        >>> round(float(deep_linear_balance_drift(w, np.array([[1.0]]), np.array([[1.0]]), 0.1)[0][0, 0]), 12)  # eta^2 (1 - 4)
        -0.03
    """
    weights = [jnp.asarray(w, dtype=jnp.result_type(float)) for w in weights]
    x, y = jnp.asarray(x, weights[0].dtype), jnp.asarray(y, weights[0].dtype)
    if len(weights) < 2 or any(w.ndim != 2 for w in weights):
        raise ValueError(f"weights must be at least two matrices, got shapes {[jnp.shape(w) for w in weights]}")
    return _drift(weights, x, y, eta)


@jax.jit
def _drift(weights, x, y, eta):
    """:func:`deep_linear_balance_drift` on validated arrays, as one compiled program."""
    error = (_product(weights, x.shape[0]) @ x - y) / x.shape[1]
    gradients = []
    for i in range(len(weights)):
        above = _product(weights[i + 1:], weights[i].shape[0])
        below = _product(weights[:i], x.shape[0]) @ x
        gradients.append(above.T @ error @ below.T)
    return tuple(eta**2 * (upper.T @ upper - lower @ lower.T) for lower, upper in zip(gradients, gradients[1:]))
