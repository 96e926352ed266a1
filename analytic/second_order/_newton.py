r"""Newton and damped Newton on a quadratic plus a small cubic term.

One coordinate of $f(e) = \tfrac{\lambda}{2}e^2 + \tfrac{c}{6}e^3$ (``lam`` the curvature at
the minimiser $e = 0$, ``cubic`` $c = f'''$): the damped Newton step
$e^+ = e - f'(e)/(f''(e) + \delta)$ (Levenberg damping ``damping`` $\delta \ge 0$; Martens 2010,
sec. 4.1, uses it with a trust-region rule) is, by sympy,

$$e^+ = \frac{e\,(c e + 2\delta)}{2(\lambda + c e + \delta)},$$

quadratic convergence $e^+ \approx \tfrac{c}{2\lambda}e^2$ at $\delta = 0$ and a linear rate
$\delta/(\lambda + \delta)$ for $\delta > 0$. A separable objective (diagonal Hessian plus
cubic terms) moves every coordinate by this map. Hessian-free (truncated) Newton (Martens 2010)
solves $(H + \delta I)s = -g$ by CG with Hessian-vector products; with a full inner solve it is
this map; with $K$ inner CG steps on a Hessian of condition number $\kappa$ its error
contracts, near the minimiser, by at most ``cg_error_bound`` $2r^K$ in the $H$-norm per outer step.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.second_order._symbols import cubic, damping, error
from analytic.symbols import lam

FORMULAS = Formulas("second_order")


def cubic_objective() -> sp.Expr:
    """``lam/2 e^2 + cubic/6 e^3``: one coordinate, minimiser at 0 (a local one when ``cubic != 0``)."""
    return lam / 2 * error**2 + cubic / 6 * error**3


@FORMULAS.register("damped_newton_error")
def _damped_newton_error() -> Formula:
    f = cubic_objective()
    update = sp.factor(error - sp.diff(f, error) / (sp.diff(f, error, 2) + damping))
    # the same, with the ratio formed first: e * (c e) overflows at |e| ~ 1e300 where the result does not
    stable = error * sp.UnevaluatedExpr((cubic * error + 2 * damping) / (2 * (cubic * error + damping + lam)))
    return Formula(
        expr=update, evaluate_as=stable, params=(lam, cubic, damping, error), source=cite("martens2010", "sec. 4.1 (damping)"),
        derived=True, derivation="sympy: e - f'(e)/(f''(e) + damping) for f = lam e^2/2 + cubic e^3/6, factored",
        conditions=("one coordinate of a separable quadratic-plus-cubic objective",
                    "lam + cubic e + damping > 0 (a descent step)"),
        constraints=(sp.Gt(lam + cubic * error + damping, 0),),
        description="the next error of (damped) Newton on lam e^2/2 + cubic e^3/6",
    )
