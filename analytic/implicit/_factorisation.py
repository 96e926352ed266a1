r"""Scalar factorisation $L(w_1, w_2) = (w_1 w_2 - y)^2$: modified loss and balance drift.

The smallest non-convex model with a conservation law: under gradient flow
$\frac{d}{dt}(w_1^2 - w_2^2) = -2 w_1\partial_1 L + 2 w_2\partial_2 L = 0$ (the
balancedness of Arora, Cohen, Hazan 2018, arXiv:1802.06509v2, and Du, Hu, Lee 2018,
arXiv:1806.00900v2, for two scalar layers); under GD it drifts by an $O(\eta^2)$
amount per step that sympy derives exactly.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.implicit._backward_error import modified_loss
from analytic.implicit._symbols import w1, w2, w3, y
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("implicit")


def _loss() -> sp.Expr:
    return (w1 * w2 - y) ** 2


@FORMULAS.register("factorisation_loss")
def _factorisation_loss() -> Formula:
    return Formula(
        expr=_loss(), params=(w1, w2, y), source=cite("barrett2021", "sec. 4 (two-parameter model)"),
        derived=False, derivation="stated: the model statement (w1 w2 - y)^2",
        description="scalar factorisation loss (its gradient flow is the eta -> 0 limit of GD)",
    )


@FORMULAS.register("factorisation_modified_loss")
def _factorisation_modified_loss() -> Formula:
    return Formula(
        expr=modified_loss(_loss(), (w1, w2), order=1), params=(eta, w1, w2, y),
        source=cite("barrett2021", "eq. (1) / Theorem 3.1"), derived=True,
        derivation="backward error analysis (analytic.implicit.modified_loss): Taylor matching of the "
                   "modified flow to GD at order eta^2, then its potential by sympy.integrate",
        conditions=("GD with step eta stays O(eta^2) from this loss's gradient flow at fixed time, "
                    "O(eta) from the plain flow",),
        description="modified loss L + eta/4 |grad L|^2 of scalar factorisation",
    )


@FORMULAS.register("factorisation_balance_drift")
def _factorisation_balance_drift() -> Formula:
    balance = w1**2 - w2**2
    step = {w1: w1 - eta * sp.diff(_loss(), w1), w2: w2 - eta * sp.diff(_loss(), w2)}
    drift = sp.factor(sp.expand(balance.subs(step, simultaneous=True) - balance))
    return Formula(
        expr=drift, params=(eta, w1, w2, y),
        source=cite("du2018", "Theorem 2.1 (balancedness under gradient flow)"), derived=True,
        derivation="sympy: (w1^2 - w2^2) after one GD step minus before, expanded and factored "
                   "(the O(eta) terms cancel: the flow conserves it)",
        conditions=("exact per-step change of w1^2 - w2^2 under GD at (w1, w2)",),
        description="per-step drift of the balance w1^2 - w2^2 under GD",
    )


def _chain_loss() -> sp.Expr:
    return (w3 * w2 * w1 - y) ** 2 / 2


@FORMULAS.register("chain_balance_drift")
def _chain_balance_drift() -> Formula:
    r"""Per-step change of the balances $(w_2^2 - w_1^2,\ w_3^2 - w_2^2)$ of a depth-3 chain under GD.

    The scalar case of $W_{i+1}^\top W_{i+1} - W_iW_i^\top$; sympy finds the $O(\eta)$ terms
    cancel (gradient flow conserves both) and the change is
    $\eta^2\big((\partial_{i+1}L)^2 - (\partial_i L)^2\big)$, as for matrices,
    $\eta^2(\nabla_{i+1}^\top\nabla_{i+1} - \nabla_i\nabla_i^\top)$.
    """
    weights = (w1, w2, w3)
    step = {w: w - eta * sp.diff(_chain_loss(), w) for w in weights}
    drifts = []
    for lower, upper in zip(weights, weights[1:]):
        balance = upper**2 - lower**2
        change = sp.expand(balance.subs(step, simultaneous=True) - balance)
        if change.coeff(eta, 1) != 0:
            raise ValueError(f"the O(eta) change of {balance} does not vanish: {change.coeff(eta, 1)}")
        drifts.append(sp.factor(change))
    return Formula(
        expr=tuple(drifts), params=(eta, w1, w2, w3, y),
        source=cite("arora2018", "Theorem 1 (balancedness conserved by gradient flow)"), derived=True,
        derivation="sympy: (w_{i+1}^2 - w_i^2) after one GD step on (w3 w2 w1 - y)^2 / 2 minus before, expanded "
                   "(the O(eta) terms cancel) and factored: eta^2 ((dL/dw_{i+1})^2 - (dL/dw_i)^2)",
        conditions=("exact per-step change under GD at (w1, w2, w3)",),
        description="per-step drift of the balances w2^2 - w1^2 and w3^2 - w2^2 of a depth-3 chain under GD",
    )
