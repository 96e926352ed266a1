r"""MAML on quadratic tasks: the adapted parameter, the meta-gradient, its first-order approximation.

MAML (Finn, Abbeel & Levine 2017, arXiv:1703.03400v3, sec. 2.2, eq. 1) adapts the
meta-parameter $\theta$ to task $i$ by inner gradient steps on the task's *support* loss and
scores the result on its *query* loss; the meta-gradient differentiates through the
adaptation. Along one eigen-direction (scalar, or any direction where the support and query
Hessians commute), with support loss $\tfrac\lambda2(\theta - a)^2$, query loss
$\tfrac q2(\theta - b)^2$, inner learning rate $\eta$ and $k$ inner steps, sympy derives:

* ``adapted``: $\theta_k = a + c\,(\theta - a)$, $c = (1 - \eta\lambda)^k$ (``rsolve`` of
  $\theta_{j+1} = \theta_j - \eta\lambda(\theta_j - a)$);
* ``meta_gradient``: $\frac{d}{d\theta}\tfrac q2(\theta_k - b)^2 = c\,q\,(\theta_k - b)$, the
  product of the $k$ factors $1 - \eta\lambda$ times the query gradient at $\theta_k$
  (matrices: $\prod_j (I - \eta H^s)\,H^q(\theta_k - b)$, :func:`meta_gradient`);
* ``first_order_meta_gradient``: first-order MAML (sec. 5.2) drops the Jacobian
  $d\theta_k/d\theta$: $q(\theta_k - b)$; its ``first_order_bias`` is $(1 - c)\,q(\theta_k - b)$;
* for a distribution of tasks sharing $\lambda, q$ with optima of means $\mu_a, \mu_b$, the
  expected meta-loss $\tfrac q2 E(c\theta + (1-c)a - b)^2$ has ``meta_curvature``
  $q c^2$ and, where $c \ne 0$, the unique ``meta_optimum``
  $\theta^\star = \mu_a + (\mu_b - \mu_a)/c$ (sympy ``solve`` of the stationarity condition).
  Where $\eta\lambda = 1$ ($c = 0$: one step lands on $a$ whatever $\theta$ is) the meta-loss is
  flat in $\theta$: every $\theta$ is a meta-optimum.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.maml._symbols import (inner_steps, query_curvature, query_mean, query_optimum, support_mean,
                                    support_optimum, theta)
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("maml")

_TASK = "one eigen-direction: support loss lam/2 (theta - support_optimum)^2, query loss " \
        "query_curvature/2 (theta - query_optimum)^2, inner GD with learning rate eta for inner_steps steps"


def _contraction() -> sp.Expr:
    """c = (1 - eta lam)^k, and its stable form exp(k log1p(-eta lam)) where eta lam < 1."""
    return (1 - eta * lam) ** inner_steps


def _stable(expr_of_c, c_minus_one=None) -> sp.Expr:
    """``expr_of_c(c)`` with c = exp(k log1p(-eta lam)) (eta lam < 1), else the plain power."""
    log_c = inner_steps * log1p(-eta * lam)
    stable = expr_of_c(sp.exp(log_c), expm1(log_c))
    plain = expr_of_c(_contraction(), _contraction() - 1)
    return sp.Piecewise((stable, eta * lam < 1), (plain, True))


def _adapted_expr() -> sp.Expr:
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    support_gradient = sp.diff(lam / 2 * (theta - support_optimum) ** 2, theta)
    step = (theta - eta * support_gradient).subs(theta, f(n))
    return sp.rsolve(f(n + 1) - step, f(n), {f(0): theta}).subs(n, inner_steps)


def _query_loss(at) -> sp.Expr:
    return query_curvature / 2 * (at - query_optimum) ** 2


@FORMULAS.register("adapted")
def _adapted() -> Formula:
    return Formula(
        expr=_adapted_expr(), params=(theta, support_optimum, eta, lam, inner_steps),
        evaluate_as=_stable(lambda c, cm1: support_optimum + c * (theta - support_optimum)),
        source=cite("finn2017", "sec. 2.2, eq. 1 (inner update), repeated inner_steps times"), derived=True,
        derivation="sympy rsolve of theta_{j+1} = theta_j - eta lam (theta_j - support_optimum), theta_0 = theta",
        conditions=(_TASK,), description="the adapted parameter theta_k after k inner GD steps on the support loss",
    )


@FORMULAS.register("meta_gradient")
def _meta_gradient() -> Formula:
    exact = sp.diff(_query_loss(_adapted_expr()), theta)
    return Formula(
        expr=exact, params=(theta, support_optimum, query_optimum, eta, lam, query_curvature, inner_steps),
        evaluate_as=_stable(lambda c, cm1: c * query_curvature * (support_optimum + c * (theta - support_optimum)
                                                                  - query_optimum)),
        source=cite("finn2017", "sec. 2.2 (meta-objective, differentiated through the inner update)"), derived=True,
        derivation="sympy diff in theta of the query loss at the rsolve'd theta_k (chain rule through the k steps)",
        conditions=(_TASK, "= (1 - eta lam)^k query_curvature (theta_k - query_optimum)"),
        description="MAML meta-gradient d/dtheta of the query loss after k inner steps",
    )


@FORMULAS.register("first_order_meta_gradient")
def _first_order_meta_gradient() -> Formula:
    at = sp.Symbol("at", real=True)
    first_order = sp.diff(_query_loss(at), at).subs(at, _adapted_expr())  # dtheta_k/dtheta replaced by 1
    return Formula(
        expr=first_order, params=(theta, support_optimum, query_optimum, eta, lam, query_curvature,
                                             inner_steps),
        evaluate_as=_stable(lambda c, cm1: query_curvature * (support_optimum + c * (theta - support_optimum)
                                                              - query_optimum)),
        source=cite("finn2017", "sec. 5.2 (first-order approximation)"), derived=True,
        derivation="sympy: the query gradient at theta_k, with the Jacobian dtheta_k/dtheta dropped (set to 1)",
        conditions=(_TASK,), description="first-order MAML meta-gradient: the query gradient at theta_k",
    )


@FORMULAS.register("first_order_bias")
def _first_order_bias() -> Formula:
    bias = _first_order_meta_gradient().expr - _meta_gradient().expr
    return Formula(
        expr=sp.factor(bias), params=(theta, support_optimum, query_optimum, eta, lam, query_curvature, inner_steps),
        evaluate_as=_stable(lambda c, cm1: -cm1 * query_curvature * (support_optimum + c * (theta - support_optimum)
                                                                     - query_optimum)),
        source=cite("finn2017", "sec. 5.2 (first-order approximation)"), derived=True,
        derivation="sympy: first_order_meta_gradient - meta_gradient = (1 - (1 - eta lam)^k) query_curvature "
                   "(theta_k - query_optimum)",
        conditions=(_TASK, "vanishes as eta lam -> 0 (no curvature seen by the inner loop)"),
        description="bias of first-order MAML: the dropped 1 - (1 - eta lam)^k factor",
    )


def _meta_loss() -> sp.Expr:
    """E over tasks of the query loss after adaptation, optima replaced by their means plus noise."""
    da, db = sp.symbols("delta_a delta_b", real=True)  # zero-mean deviations of the optima
    loss = _query_loss(_adapted_expr()).subs({support_optimum: support_mean + da, query_optimum: query_mean + db})
    expanded = sp.expand(loss)
    # E[delta] = 0: drop the terms linear in the deviations; the quadratic ones do not depend on theta
    linear = sum(sp.diff(expanded, d).subs({da: 0, db: 0}) * d for d in (da, db))
    return sp.expand(expanded - linear).subs({da: 0, db: 0}), expanded


@FORMULAS.register("meta_curvature")
def _meta_curvature() -> Formula:
    loss, _ = _meta_loss()
    return Formula(
        expr=sp.factor(sp.diff(loss, theta, 2)), params=(eta, lam, query_curvature, inner_steps),
        evaluate_as=_stable(lambda c, cm1: query_curvature * c**2),
        source=cite("finn2017", "sec. 2.2 (meta-objective)"), derived=True,
        derivation="sympy: second theta-derivative of the expected query loss after adaptation",
        conditions=(_TASK, "tasks share lam and query_curvature; 0 where eta lam = 1: the meta-loss is flat"),
        description="curvature of the expected MAML meta-loss in theta, query_curvature (1 - eta lam)^(2k)",
    )


@FORMULAS.register("meta_optimum")
def _meta_optimum() -> Formula:
    loss, _ = _meta_loss()
    (optimum,) = sp.solve(sp.diff(loss, theta), theta)
    return Formula(
        expr=sp.simplify(optimum), params=(support_mean, query_mean, eta, lam, inner_steps),
        evaluate_as=_stable(lambda c, cm1: support_mean + (query_mean - support_mean) / c),
        source=cite("finn2017", "sec. 2.2 (meta-objective)"), derived=True,
        derivation="sympy solve of d/dtheta E[query loss after adaptation] = 0 (optima with means support_mean, "
                   "query_mean)",
        conditions=(_TASK, "tasks share lam and query_curvature; unique only where eta lam != 1 (else every theta)"),
        description="the MAML meta-optimum support_mean + (query_mean - support_mean) / (1 - eta lam)^k",
    )
