r"""SGD's implicit regulariser: the modified loss of minibatch SGD with random shuffling.

Smith, Dherin, Barrett, De 2021 (arXiv:2101.12176v1, sec. 2; equation number
unconfirmed): one epoch of SGD visits the $m$ minibatch losses $L_k$ (the full loss
$L = \frac1m\sum_k L_k$) in a uniformly random order, $\theta \leftarrow \theta - \eta\nabla L_{\pi(k)}$.
Averaged over the order, the epoch map matches, to $O(\eta^2)$, the time-$m\eta$ flow of
$$\tilde L_{\rm SGD} = L + \frac{\eta}{4m}\sum_k\lVert\nabla L_k\rVert^2
= L + \frac\eta4\lVert\nabla L\rVert^2 + \frac{\eta}{4m}\sum_k\lVert\nabla L_k - \nabla L\rVert^2,$$
GD's modified loss plus the minibatch-gradient variance. sympy derives it
(:func:`sgd_modified_loss`): every permutation's epoch map to order $\eta^2$ (chain
rule: a step at $\theta + \eta a_1$ moves by $-\eta(g + \eta H a_1)$), their mean, the
$\eta^2$ coefficient of the flow map of $-\nabla L - \eta\nabla R$ matched to it, and the
potential $R$ of the matched field checked by differentiation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.implicit._backward_error import _checked
from analytic.implicit._symbols import w1, w2
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("implicit")

__all__ = ["sgd_modified_loss", "LEAST_SQUARES_BATCHES"]


def sgd_modified_loss(minibatch_losses: Sequence, params) -> sp.Expr:
    r"""$L + \frac{\eta}{4m}\sum_k|\nabla L_k|^2$ for SGD over the ``minibatch_losses`` $L_k$, shuffled each epoch.

    Derived (see the module docstring); at most 5 minibatches (all $m!$ orders are
    averaged symbolically).

    Example:
        >>> import sympy as sp
        >>> from analytic.implicit import sgd_modified_loss
        >>> w = sp.Symbol("w", real=True)
        >>> sp.expand(sgd_modified_loss([(w - 1)**2 / 2, (w + 1)**2 / 2], [w]))   # L = w^2/2 + 1/2
        eta*w**2/4 + eta/4 + w**2/2 + 1/2
    """
    if isinstance(minibatch_losses, (str, sp.Basic)) or not isinstance(minibatch_losses, Sequence):
        raise TypeError(f"minibatch_losses must be a sequence of sympy expressions, got {minibatch_losses!r}")
    if not 1 <= len(minibatch_losses) <= 5:
        raise ValueError(f"minibatch_losses must hold 1 to 5 losses (m! orders are averaged), "
                         f"got {len(minibatch_losses)}")
    checked = [_checked(loss, params) for loss in minibatch_losses]
    params = checked[0][1]
    losses = [loss for loss, _ in checked]
    m = len(losses)
    gradients = [sp.Matrix([sp.diff(loss, p) for p in params]) for loss in losses]
    hessians = [g.jacobian(params) for g in gradients]
    second = sp.zeros(len(params), 1)  # mean over orders of the eta^2 coefficient of the epoch map
    orders = list(itertools.permutations(range(m)))
    for order in orders:
        first_order = sp.zeros(len(params), 1)
        for k in order:  # theta + eta a1 + eta^2 a2 -> minus eta (g_k + eta H_k a1)
            second -= hessians[k] * first_order
            first_order -= gradients[k]
    second = second / len(orders)
    full = sum(losses, sp.S.Zero) / m
    full_gradient = sp.Matrix([sp.diff(full, p) for p in params])
    # flow of -grad L - eta grad R for time m eta: eta^2 coefficient = -m grad R + m^2/2 H_L grad L
    matched = (sp.Rational(1, 2) * m**2 * full_gradient.jacobian(params) * full_gradient - second) / m
    regulariser = sum((g.dot(g) for g in gradients), sp.S.Zero) / (4 * m)
    if any(sp.simplify(sp.diff(regulariser, p) - matched[i]) != 0 for i, p in enumerate(params)):
        raise ValueError("the matched second-order field is not grad(sum_k |grad L_k|^2 / (4m)) for these losses")
    return full + eta * regulariser


# A fixed small least-squares problem: 6 examples in 2 features, 3 minibatches of 2.
LEAST_SQUARES_BATCHES = (
    ((1.0, 0.5), (0.2, -1.0)), ((-0.8, 1.2), (1.5, 0.3)), ((0.3, 1.1), (-1.0, 0.9)),  # features
)
LEAST_SQUARES_TARGETS = ((1.0, -0.5), (0.7, 1.4), (-0.2, 0.6))


def least_squares_minibatch_losses() -> list[sp.Expr]:
    """L_k(w) = |X_k w - y_k|^2 / (2 B) for the fixed problem above (rational coefficients)."""
    losses = []
    for features, targets in zip(LEAST_SQUARES_BATCHES, LEAST_SQUARES_TARGETS):
        residuals = [sp.nsimplify(f[0]) * w1 + sp.nsimplify(f[1]) * w2 - sp.nsimplify(t)
                     for f, t in zip(features, targets)]
        losses.append(sum(r**2 for r in residuals) / (2 * len(residuals)))
    return losses


@FORMULAS.register("sgd_least_squares_modified_loss")
def _sgd_least_squares_modified_loss() -> Formula:
    return Formula(
        expr=sp.expand(sgd_modified_loss(least_squares_minibatch_losses(), (w1, w2))), params=(eta, w1, w2),
        source=cite("smith2021", "sec. 2 (modified loss of random-shuffling SGD; eq. number unconfirmed)"),
        derived=True,
        derivation="sympy: epoch maps of all 3! minibatch orders to O(eta^2), averaged, matched to the flow map "
                   "of -grad L - eta grad R for time 3 eta; R = sum_k |grad L_k|^2 / 12 checked",
        conditions=("the fixed 6 x 2 least-squares problem implicit.LEAST_SQUARES_BATCHES in 3 minibatches of 2",
                    "the mean SGD iterate (over shuffles) stays O(eta^2) from its flow at fixed time"),
        description="modified loss L + eta/(4m) sum_k |grad L_k|^2 of shuffled minibatch SGD on a small least squares",
    )
