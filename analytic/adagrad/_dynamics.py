r"""AdaGrad's continuous-time path and RMSprop's stationary cycle on a quadratic coordinate.

AdaGrad (Duchi, Hazan & Singer 2011) on one coordinate of $\tfrac\lambda2 x^2$:
$G_{k+1} = G_k + g_k^2$, $x_{k+1} = x_k - \eta g_k/\sqrt{G_{k+1}}$, $g = \lambda x$. Its continuous-time
limit (time = steps) is $\dot x = -\eta\lambda x/S$, $\dot S = \lambda^2x^2/(2S)$ with $S = \sqrt G$.
What sympy derives:

* ``adagrad_accumulator_root``: $dS/d(x^2) = -\lambda/(4\eta)$ (the ratio of the two equations), so
  (``dsolve``) $S = \sqrt{G_0} + \lambda(x_0^2 - x^2)/(4\eta)$: the issue's formula, confirmed;
* ``adagrad_time``: the time to reach $x$, $t = \int_x^{x_0} S(u)/(\eta\lambda u)\,du$ (``integrate``)
  $= \big[(4\eta\sqrt{G_0} + \lambda x_0^2)\ln(x_0/x) - \lambda(x_0^2 - x^2)/2\big]/(4\eta^2\lambda)$:
  the effective step $\eta/S$ settles to $4\eta^2/(4\eta\sqrt{G_0} + \lambda x_0^2)$ and the approach is
  then linear, at rate $\eta\lambda/S_\infty$ per step.

RMSprop (Tieleman & Hinton 2012): $v_{k+1} = \rho v_k + (1-\rho)g_k^2$,
$x_{k+1} = x_k - \eta g_k/(\sqrt{v_{k+1}} + \epsilon)$. On a quadratic it does not converge: it settles
on the 2-cycle $x = \pm a$, where $v = \lambda^2a^2$ is stationary for every $\rho$ and the step
$\eta\lambda a/(\lambda a + \epsilon)$ must equal $2a$; ``rmsprop_cycle_amplitude`` (``solve``):
$a = \eta/2 - \epsilon/\lambda$ (for $\epsilon < \eta\lambda/2$).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.adagrad._symbols import accumulator0, current, offset, start
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("adagrad")

_LAM = {"lam": sp.Interval.open(0, sp.oo)}  # a positive curvature: the coordinate moves
_CONDITIONS = ("one coordinate of lam x^2 / 2; AdaGrad's accumulator includes the current gradient",
               "continuous-time limit (time = steps): exact as eta lam / sqrt(G) -> 0")


def _root_of_square() -> sp.Expr:
    """S as a function of X2 = x^2 (sympy dsolve of dS/dX2 = (dS/dt) / (dX2/dt))."""
    x2, s_now = sp.Symbol("X2", positive=True), sp.Symbol("S", positive=True)
    ratio = sp.simplify((lam**2 * x2 / (2 * s_now)) / (2 * (-eta * lam * x2 / s_now)))  # -lam/(4 eta)
    root = sp.Function("root")
    solution = sp.dsolve(sp.Eq(root(x2).diff(x2), ratio), root(x2), ics={root(start**2): sp.sqrt(accumulator0)})
    return solution.rhs, x2


@FORMULAS.register("adagrad_accumulator_root")
def _adagrad_accumulator_root() -> Formula:
    rhs, x2 = _root_of_square()
    # the same without overflow of lam start^2 (the difference of squares factored, ratios first)
    ratio = sp.UnevaluatedExpr
    stable = sp.sqrt(accumulator0) + ratio(ratio(lam / (4 * eta)) * (start - current)) * (start + current)
    return Formula(
        expr=sp.expand(rhs.subs(x2, current**2)), params=(eta, lam, accumulator0, start, current),
        evaluate_as=stable, domains=_LAM,
        source=cite("duchi2011", "sec. 1 (diagonal AdaGrad); continuous limit derived here"), derived=True,
        derivation="dS/d(x^2) = (lam^2 x^2/(2S)) / (-2 eta lam x^2/S) = -lam/(4 eta); sympy dsolve, S(x0^2) = sqrt(G0)",
        conditions=_CONDITIONS + ("0 < current <= start",), constraints=(sp.Le(current, start),),
        description="sqrt of AdaGrad's accumulator when the coordinate has reached distance `current`",
    )


def _stable_time() -> sp.Expr:
    r"""``adagrad_time`` without its cancellation: with $d = 1 - x/x_0$ and $L = -\log(1 - d)$ it is
    $\sqrt{G_0}L/(\eta\lambda) + x_0^2 B/(4\eta^2)$, $B = L - d + d^2/2 = d^2 + \sum_{k\ge3} d^k/k$
    (the two terms of ``expr`` cancel to $O(d^2)$ when $\sqrt{G_0}\eta \ll \lambda x_0^2$); the series
    for $d < 0.1$ (30 terms: below round-off) with ``log1p``; beyond it $L = \log x_0 - \log x$ (no rounding
    of $1 - d$, no overflow of $x_0/x$), and $(x_0/(2\eta))^2$ is squared last. Checked in tests/test_accuracy.py."""
    d = 1 - current / start
    near = d < sp.Rational(1, 10)
    log_ratio = sp.Piecewise((-log1p(-d), near), (sp.log(start) - sp.log(current), True))  # no rounding of 1 - d
    series = d**2 + sum(d**k / k for k in range(3, 31))
    bracket = sp.Piecewise((series, near), (log_ratio - d + d**2 / 2, True))
    ratio = sp.UnevaluatedExpr
    return sp.sqrt(accumulator0) * ratio(log_ratio / (eta * lam)) + ratio(start / (2 * eta)) ** 2 * bracket


@FORMULAS.register("adagrad_time")
def _adagrad_time() -> Formula:
    rhs, x2 = _root_of_square()
    u = sp.Symbol("u", positive=True)
    time = sp.integrate(rhs.subs(x2, u**2) / (eta * lam * u), (u, current, start))
    time = sp.collect(sp.expand(sp.expand_log(time, force=True)), [sp.log(start), sp.log(current)], sp.factor)
    return Formula(
        expr=time, params=(eta, lam, accumulator0, start, current), evaluate_as=_stable_time(), domains=_LAM,
        source=cite("duchi2011", "sec. 1 (diagonal AdaGrad); continuous limit derived here"), derived=True,
        derivation="t = int_current^start S(u)/(eta lam u) du with S from adagrad_accumulator_root (sympy integrate)",
        conditions=_CONDITIONS + ("0 < current <= start",), constraints=(sp.Le(current, start),),
        description="steps AdaGrad's continuous limit takes to bring the coordinate from `start` to `current`",
    )


@FORMULAS.register("rmsprop_cycle_amplitude")
def _rmsprop_cycle_amplitude() -> Formula:
    a = sp.Symbol("a", positive=True)
    step = eta * lam * a / (sp.sqrt(lam**2 * a**2) + offset)  # at the stationary EMA v = lam^2 a^2
    (amplitude,) = sp.solve(sp.Eq(step, 2 * a), a)
    return Formula(
        expr=sp.expand(amplitude), params=(eta, lam, offset), domains=_LAM,
        source=cite("tieleman2012", "(RMSprop update); stationary cycle derived here"), derived=True,
        derivation="2-cycle x = +-a with stationary EMA v = lam^2 a^2: eta lam a/(lam a + offset) = 2a (sympy solve)",
        conditions=("one coordinate of lam x^2 / 2; any EMA decay in (0, 1); offset < eta lam / 2",),
        constraints=(sp.Lt(offset, eta * lam / 2),),
        description="amplitude of the 2-cycle RMSprop settles on around a quadratic's minimiser",
    )
