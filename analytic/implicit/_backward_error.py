r"""Backward error analysis of gradient descent, for a loss the user writes in sympy.

GD $\theta_{k+1} = \theta_k - \eta\nabla L(\theta_k)$ is, to higher order in $\eta$,
the time-$\eta$ map of a *modified* flow $\dot\theta = f_0 + \eta f_1 + \eta^2 f_2 + \dots$
(Barrett and Dherin 2021, arXiv:2009.11162v3, sec. 3 and Theorem 3.1). sympy finds the
$f_k$ by matching Taylor series: the flow map of a field $F$ is
$\theta + \sum_{j\ge1} \frac{h^j}{j!} (F\cdot\nabla)^{j-1} F$, and the coefficient of
$\eta^{n+1}$ must vanish for $n \ge 1$ (GD has no such term), which fixes $f_n$
from $f_0, \dots, f_{n-1}$. The result for every loss:

* $f_0 = -\nabla L$;
* $f_1 = -\tfrac12 H\nabla L = -\nabla\big(\tfrac14|\nabla L|^2\big)$, so to first order GD
  follows the gradient flow of $\tilde L = L + \frac{\eta}{4}|\nabla L|^2$;
* $f_2 = -\tfrac13 H^2\nabla L - \tfrac1{12}\nabla^3L[\nabla L, \nabla L]$ (not a gradient in
  general: :func:`modified_loss` stops at order 1, :func:`modified_flow` goes on).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from analytic.symbols import eta

__all__ = ["modified_flow", "modified_loss"]


def _checked(loss, params) -> tuple[sp.Expr, tuple[sp.Symbol, ...]]:
    if isinstance(params, sp.Symbol):
        params = (params,)
    if not isinstance(params, Sequence) or not params or not all(isinstance(p, sp.Symbol) for p in params):
        raise TypeError(f"params must be a non-empty sequence of sympy Symbols, got {params!r}")
    if len(set(params)) != len(params):
        raise ValueError(f"params must be distinct, got {params!r}")
    try:
        loss = sp.sympify(loss)
    except (sp.SympifyError, TypeError) as err:
        raise TypeError(f"loss must be a sympy expression, got {loss!r}") from err
    if not isinstance(loss, sp.Expr) or isinstance(loss, sp.MatrixBase):
        raise TypeError(f"loss must be a scalar sympy expression, got {type(loss).__name__}")
    if eta in loss.free_symbols:
        raise ValueError(f"the loss must not contain the step size symbol {eta}: it is the modified "
                         f"flow's expansion parameter")
    if not loss.free_symbols & set(params):
        raise ValueError(f"loss {loss} does not depend on any of params {params}")
    return loss, tuple(params)


def _flow_map_series(field: sp.Matrix, params, order: int) -> sp.Matrix:
    """theta(eta) - theta for the flow of ``field`` (which may contain eta), to O(eta**order)."""
    term, total = field, sp.zeros(len(params), 1)
    for j in range(1, order + 1):
        total += eta**j / sp.factorial(j) * term
        term = term.jacobian(params) * field  # (F . grad) applied to the previous term
    # Everything is polynomial in eta: truncate by coefficients (sympy.series is far slower).
    def truncate(e):
        e = sp.expand(e)
        return sum((e.coeff(eta, k) * eta**k for k in range(order + 1)), sp.S.Zero)

    return total.applyfunc(truncate)


def modified_flow(loss, params, order: int = 1) -> tuple[sp.Expr, ...]:
    r"""The modified vector field $f_0 + \eta f_1 + \dots + \eta^{order} f_{order}$ of GD on ``loss``.

    ``loss``: a sympy expression; ``params``: the Symbols GD updates (others are
    constants). Returns one expression per parameter, in ``eta`` and the symbols of
    the loss. GD and the time-``eta`` map of this flow agree to $O(\eta^{order+2})$.
    """
    loss, params = _checked(loss, params)
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 3:
        raise ValueError(f"order must be an integer in [0, 3], got {order!r}")
    gradient = sp.Matrix([sp.diff(loss, p) for p in params])
    gd_step = -eta * gradient  # GD: theta_{k+1} - theta_k, exactly
    field = -gradient  # f_0
    for n in range(1, order + 1):
        mismatch = _flow_map_series(field, params, n + 1) - gd_step
        coefficient = mismatch.applyfunc(lambda e: sp.expand(e).coeff(eta, n + 1))
        field = field - eta**n * coefficient  # f_n cancels the eta**(n+1) mismatch at first order
    return tuple(sp.collect(sp.expand(e), eta) for e in field)


def modified_loss(loss, params, order: int = 1) -> sp.Expr:
    r"""$\tilde L$ whose gradient flow GD follows to $O(\eta^{order+1})$ per unit time.

    ``order=1``: $L + \frac{\eta}{4}|\nabla L|^2$ (Barrett and Dherin 2021,
    arXiv:2009.11162v3, eq. (1)), derived here: sympy matches the first-order
    field $f_1$ by :func:`modified_flow` and checks that it is $-\nabla$ of
    $\frac14|\nabla L|^2$. ``order=0`` returns the loss. Higher orders raise: the second-order field is
    not a gradient for a general loss (see the module docstring).

    Example:
        >>> import sympy as sp
        >>> from analytic.implicit import modified_loss
        >>> a, b = sp.symbols("a b", real=True)
        >>> sp.factor(modified_loss(a**2 * b**2, [a, b]) - a**2 * b**2)
        a**2*b**2*eta*(a**2 + b**2)
    """
    loss, params = _checked(loss, params)
    if order == 0:
        return loss
    if order != 1:
        raise ValueError(f"order must be 0 or 1 for a modified loss (the order-2 field is not a gradient "
                         f"in general; use modified_flow), got {order!r}")
    field = sp.Matrix(modified_flow(loss, params, order=1))
    first = field.applyfunc(lambda e: sp.expand(e).coeff(eta, 1))
    # The potential of -f_1: |grad L|^2 / 4, since grad(|g|^2 / 4) = H g / 2; sympy checks it.
    gradient = [sp.diff(loss, p) for p in params]
    correction = sum(g**2 for g in gradient) / 4
    if any(sp.simplify(sp.diff(correction, p) + first[i]) != 0 for i, p in enumerate(params)):
        raise ValueError("the first-order modified field is not -grad(|grad L|^2 / 4) for this loss")
    return loss + eta * sp.factor(sp.expand(correction))
