r"""Backtracking (Armijo) line search for gradient descent on a quadratic.

Backtracking from step 1 (Boyd & Vandenberghe 2004, Algorithm 9.2): while
$f(x - s g) > f(x) - c\,s\,\lVert g\rVert^2$ set $s \leftarrow \beta s$ (``sufficient_decrease``
$c \in (0, \tfrac12)$, ``shrink`` $\beta \in (0, 1)$). On $f = \tfrac12 x^\top H x - b^\top x$
with $\mu I \preceq H \preceq L I$ and the gradient's Rayleigh quotient
$q = g^\top H g/g^\top g$, $f(x - s g) - f(x) = -s\lVert g\rVert^2 + \tfrac{s^2}{2} q\lVert g\rVert^2$.

What sympy derives here:

* ``armijo_step_threshold``: the Armijo condition holds exactly for $s \le 2(1 - c)/q$
  (``solve`` of the equality); the accepted step is the largest $\beta^j \le \min(1, 2(1-c)/q)$;
* ``armijo_min_step``: since $q \le L$, every accepted step is at least
  $\min(1, 2\beta(1 - c)/L)$: sharper than Boyd & Vandenberghe's $\min(1, \beta/L)$ (sec. 9.3.1,
  for any $L$-smooth $f$), which a quadratic allows because its Taylor expansion is exact;
  attained when $g$ is an $L$-eigenvector and $2(1-c)/L$ is just below a power of $\beta$;
* ``armijo_contraction``: with an accepted step $s$, $f(x^+) - f^\star \le (1 - 2\mu c s)(f(x) - f^\star)$
  (Armijo's decrease and $\lVert g\rVert^2 \ge 2\mu(f - f^\star)$, B&V eq. (9.9));
  attained in one dimension when $s$ is exactly the threshold $2(1 - c)/\mu$;
* ``armijo_rate_bound``: the contraction at the smallest accepted step,
  $1 - 2\mu c\min(1, 2\beta(1-c)/L)$ per step, so $f(x_k) - f^\star \le (\cdot)^k (f(x_0) - f^\star)$
  (B&V eq. (9.19) with the quadratic's step bound). It is a bound, not attained (its two
  ingredients are tight for different gradients): the check reports its slack.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.second_order._symbols import rayleigh, shrink, step, sufficient_decrease
from analytic.symbols import L, mu

FORMULAS = Formulas("second_order")

_OPEN_UNIT = sp.Interval.open(0, 1)
_DECREASE = {"sufficient_decrease": sp.Interval.open(0, sp.Rational(1, 2))}
_DOMAINS = {**_DECREASE, "shrink": _OPEN_UNIT}
_QUADRATIC = "gradient descent with backtracking from step 1 on a quadratic with mu I <= H <= L I"


def armijo_gap(step_size) -> sp.Expr:
    """``f(x - s g) - f(x) + c s |g|^2`` divided by ``|g|^2`` on a quadratic (<= 0: Armijo holds)."""
    return -step_size + step_size**2 / 2 * rayleigh + sufficient_decrease * step_size


@FORMULAS.register("armijo_step_threshold")
def _armijo_step_threshold() -> Formula:
    roots = [root for root in sp.solve(sp.Eq(armijo_gap(step), 0), step) if root != 0]
    (threshold,) = roots
    return Formula(
        expr=threshold, params=(rayleigh, sufficient_decrease), domains=_DECREASE,
        source=cite("boyd2004", "sec. 9.2, Algorithm 9.2 (backtracking)"), derived=True,
        derivation="sympy solve of -s + s^2 q/2 + c s = 0 (Armijo with equality on a quadratic), s != 0",
        conditions=(_QUADRATIC, "q = g^T H g / g^T g of the current gradient; Armijo holds iff s <= threshold"),
        description="largest step satisfying Armijo's condition along -g on a quadratic",
    )


@FORMULAS.register("armijo_min_step")
def _armijo_min_step() -> Formula:
    threshold = _armijo_step_threshold().expr.subs(rayleigh, L)  # the smallest threshold: q = L
    return Formula(
        expr=sp.Min(1, shrink * threshold), params=(L, sufficient_decrease, shrink), domains=_DOMAINS,
        source=cite("boyd2004", "sec. 9.3.1 (step bound min(1, beta/M); here the quadratic's)"), derived=True,
        derivation="threshold(q) >= threshold(L) for q <= L; backtracking stops within a factor shrink of it",
        conditions=(_QUADRATIC,), description="smallest step backtracking can accept on the quadratic",
    )


@FORMULAS.register("armijo_contraction")
def _armijo_contraction() -> Formula:
    # f+ - f* <= f - f* - c s |g|^2 and |g|^2 >= 2 mu (f - f*): ratio <= 1 - 2 mu c s
    gap, gradient_sq = sp.symbols("gap gradient_sq", positive=True)
    ratio = sp.expand((gap - sufficient_decrease * step * gradient_sq).subs(gradient_sq, 2 * mu * gap) / gap)
    return Formula(
        expr=ratio, params=(mu, sufficient_decrease, step), domains=_DECREASE,
        source=cite("boyd2004", "sec. 9.3.1, eqs. (9.9) and (9.19)"), derived=True,
        derivation="Armijo: f+ <= f - c s |g|^2; strong convexity: |g|^2 >= 2 mu (f - f*) (sympy substitution)",
        conditions=(_QUADRATIC, "s the accepted step of this iteration"),
        description="bound on (f(x+) - f*)/(f(x) - f*) after a step s accepted by Armijo's test",
    )


@FORMULAS.register("armijo_rate_bound")
def _armijo_rate_bound() -> Formula:
    rate = _armijo_contraction().expr.subs(step, _armijo_min_step().expr)
    return Formula(
        expr=rate, params=(mu, L, sufficient_decrease, shrink), domains=_DOMAINS,
        source=cite("boyd2004", "sec. 9.3.1, eq. (9.19) (with the quadratic's step bound)"), derived=True,
        derivation="armijo_contraction at the smallest accepted step armijo_min_step",
        conditions=(_QUADRATIC,), description="linear rate bound per step of GD with backtracking",
        constraints=(sp.Le(mu, L),),
    )
