r"""The ideal world: online SGD on linear regression with fresh Gaussian samples, in closed form.

Model statement. Features $x \sim N(0, I_d)$, labels $y = x^\top w^\star + \xi$ with
$\xi \sim N(0, \sigma^2)$ (``sigma2``), $\lVert w^\star\rVert^2 = r_2$ (``r2``). SGD with
learning rate $\eta$ and batch size $B$ from $w_0 = 0$ draws $B$ fresh samples per step:
$w' = w - \tfrac{\eta}{B}\sum_b x_b(x_b^\top w - y_b)$. The error $e = w - w^\star$ obeys
$e' = (I - \tfrac{\eta}{B}S)e + \tfrac{\eta}{B}\sum_b \xi_b x_b$ with $S = \sum_b x_b x_b^\top$,
and the test risk is $E(x^\top w - y)^2 = \lVert e\rVert^2 + \sigma^2$.

Second moments. With $m = E\lVert e\rVert^2$: $E S = B I$ and, by Isserlis' theorem
$E[x x^\top M x x^\top] = 2M + \mathrm{tr}(M) I$ for symmetric $M$, so
$\mathrm{tr}\,E[S M S] = B(B-1)\,\mathrm{tr}M + B(d+2)\,\mathrm{tr}M$; the noise adds
$\eta^2\sigma^2 d/B$ and the cross terms vanish ($\xi$ is independent and centred). The
trace therefore closes on itself:
$$m_{t+1} = a\,m_t + c,\qquad a = 1 - 2\eta + \eta^2\,\frac{B+d+1}{B} = (1-\eta)^2 + \eta^2\frac{d+1}{B},
\qquad c = \frac{\eta^2\sigma^2 d}{B}.$$
sympy builds this recurrence from the moments above and solves it (``rsolve``):
$m_T = a^T r_2 + c\,(1 - a^T)/(1 - a)$ (``ideal_excess_risk``), whose limit is the floor
$c/(1-a) = \eta\sigma^2 d/(2B - \eta(B+d+1))$ (``ideal_stationary_risk``), reached only for
$a < 1$, i.e. below ``max_learning_rate`` $= 2B/(B+d+1)$ (sympy ``solve`` of $a = 1$).
This is the "ideal world" of Nakkiran, Neyshabur, Sedghi (arXiv:2010.08127v2, sec. 2 and
their appendix on the linear setting; equation numbers unconfirmed): the same SGD as the
real world, on the population loss.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.bootstrap._symbols import T, batch_size, dim, r2, sigma2
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("bootstrap")

_m = sp.Symbol("m", nonnegative=True)  # E |w - w*|^2 at the current step (a dummy of the derivation)
_a, _c = sp.symbols("a c", real=True)  # the recurrence's factor and constant (dummies)
_ATLEAST_ONE = {"dim": sp.Interval(1, sp.oo), "batch_size": sp.Interval(1, sp.oo)}
_SETTING = ("x ~ N(0, I_dim), y = x.w* + N(0, sigma2) noise, |w*|^2 = r2, SGD from w = 0 with fresh "
            "samples every step (the ideal world)",)


@functools.cache
def _trace_recurrence() -> tuple[sp.Expr, sp.Expr]:
    """(a, c) of m_{t+1} = a m_t + c, expanded from the second moments of one SGD step."""
    mean_s_m = batch_size * _m  # tr E[S] M = B tr M
    # tr E[S M S]: B(B-1) pairs of distinct samples (E x x^T = I) + B equal pairs (Isserlis: 2M + tr(M) I)
    mean_sms = batch_size * (batch_size - 1) * _m + batch_size * (2 * _m + dim * _m)
    noise = batch_size * sigma2 * dim  # tr E[sum_b xi_b^2 x_b x_b^T]
    m_next = _m - 2 * eta / batch_size * mean_s_m + (eta / batch_size) ** 2 * (mean_sms + noise)
    m_next = sp.expand(m_next)
    return sp.factor(m_next.coeff(_m, 1)), sp.factor(m_next.coeff(_m, 0))


@FORMULAS.register("ideal_contraction")
def _ideal_contraction() -> Formula:
    factor, _ = _trace_recurrence()
    return Formula(
        expr=factor, params=(eta, batch_size, dim), source=cite("nakkiran2021", "sec. 2 (the Ideal World)"),
        derived=True, derivation="tr of E[(I - eta/B S) M (I - eta/B S)] with E S = B I and Isserlis' "
        "E[x x^T M x x^T] = 2M + tr(M) I; the coefficient of tr M (sympy expand)",
        conditions=_SETTING, domains=_ATLEAST_ONE,
        # a sum of squares (no cancellation); the ratio (d + 1)/B first, so eta^2 d cannot overflow alone
        evaluate_as=(1 - eta) ** 2 + eta**2 * sp.UnevaluatedExpr((dim + 1) / batch_size),
        description="a: the factor of E|w - w*|^2 per SGD step in the ideal world",
    )


@FORMULAS.register("max_learning_rate")
def _max_learning_rate() -> Formula:
    factor, _ = _trace_recurrence()
    roots = [r for r in sp.solve(sp.Eq(factor, 1), eta) if r != 0]
    (root,) = roots
    return Formula(
        expr=sp.factor(root), params=(batch_size, dim), source=cite("nakkiran2021", "sec. 2 (the Ideal World)"),
        derived=True, derivation="sympy solve of ideal_contraction = 1 for eta (the nonzero root)",
        conditions=_SETTING, domains=_ATLEAST_ONE,
        description="the largest learning rate at which the ideal world's E|w - w*|^2 stays bounded",
    )


@functools.cache
def _solution() -> sp.Expr:
    """m_T from rsolve of m_{t+1} = a m_t + c, m_0 = r2, with a and c substituted."""
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    solved = sp.rsolve(f(n + 1) - _a * f(n) - _c, f(n), {f(0): r2})
    factor, constant = _trace_recurrence()
    return solved.subs(n, T).subs({_a: factor, _c: constant})


def _stable_excess_risk() -> sp.Expr:
    r"""$r_2 a^T + c(1 - a^T)/(1-a)$ with $a^T = e^{T\log a}$, $\log a = \mathrm{log1p}(-\eta g)$,
    $g = 2 - \eta(B + d + 1)/B$ (so $1 - a = \eta g$ exactly), and $1 - a^T = -\mathrm{expm1}(T\log a)$:
    no cancellation near $\eta \to 0$ or $a \to 1$ ($a > 0$ always, a sum of squares)."""
    gap = 2 - eta * sp.UnevaluatedExpr((batch_size + dim + 1) / batch_size)
    log_a = log1p(-eta * gap)
    constant = eta * sigma2 * sp.UnevaluatedExpr(dim / batch_size)  # c / eta
    return r2 * sp.exp(T * log_a) - sp.UnevaluatedExpr(constant / gap) * expm1(T * log_a)


@FORMULAS.register("ideal_excess_risk")
def _ideal_excess_risk() -> Formula:
    return Formula(
        expr=_solution(), params=(eta, batch_size, dim, sigma2, r2, T),
        source=cite("nakkiran2021", "sec. 2 (the Ideal World)"), derived=True,
        derivation="sympy rsolve of m_{t+1} = a m_t + c, m_0 = r2 (a, c from the second moments)",
        conditions=_SETTING + ("the test risk is this plus sigma2",), domains=_ATLEAST_ONE,
        evaluate_as=_stable_excess_risk(),
        description="E|w_T - w*|^2 of online SGD (fresh samples each step) from w_0 = 0",
    )


@FORMULAS.register("ideal_stationary_risk")
def _ideal_stationary_risk() -> Formula:
    factor, constant = _trace_recurrence()
    return Formula(
        expr=sp.factor(constant / (1 - factor)), params=(eta, batch_size, dim, sigma2),
        source=cite("nakkiran2021", "sec. 2 (the Ideal World)"), derived=True,
        derivation="fixed point c / (1 - a) of the trace recurrence (sympy factor)",
        conditions=_SETTING + ("a limit only below max_learning_rate",), domains=_ATLEAST_ONE,
        evaluate_as=eta * sigma2 * sp.UnevaluatedExpr(dim / batch_size)
        / (2 - eta * sp.UnevaluatedExpr((batch_size + dim + 1) / batch_size)),
        description="the ideal world's excess-risk floor as T -> oo (learning rate below max_learning_rate)",
    )
