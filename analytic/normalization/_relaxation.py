r"""How fast a scale-invariant weight reaches its norm equilibrium under weight decay.

Model statement. SGD with weight decay $\lambda$ (``wd``) on a scale-invariant weight,
$x = \lVert w\rVert^2$ and the scale-free gradient norm $G^2 = \lVert g\rVert^2\lVert w\rVert^2$:
since $g\perp w$, one step gives exactly $x_{t+1} = (1-\eta\lambda)^2x_t + \eta^2G^2/x_t$.

* Flow limit (first order in $\eta\lambda$): $\dot x = -2\eta\lambda x + \eta^2G^2/x$, so
  $\frac{d}{dt}x^2 = -4\eta\lambda\,x^2 + 2\eta^2G^2$: with $G^2$ stationary, $\lVert w\rVert^4$
  relaxes *exactly* exponentially to its equilibrium, at rate $4\eta\lambda$ per step
  (``sympy.dsolve`` of the ODE; the rate is read off the solution).
* Discrete map: its linearisation at the fixed point multiplies a deviation by
  $2(1-\eta\lambda)^2 - 1$ per step, whose $-\log$ is $4\eta\lambda + 6\eta^2\lambda^2 + \dots$.
* PyTorch-form heavy ball $v \leftarrow \beta v + g + \lambda w$, $w \leftarrow w - \eta v$: with
  $A=\lVert w\rVert^2$, $B=\langle w, v\rangle$, $C=\lVert v\rVert^2$ and temporally white noise,
  the mean recursions are $C' = \beta^2C + G^2/A + \lambda^2A + 2\beta\lambda B$,
  $B' = \beta B + \lambda A - \eta C'$, $A' = A - 2\eta(\beta B + \lambda A) + \eta^2C'$.
  $B$ and $C$ relax in $O(1/(1-\beta))$ steps; solving their stationary equations at given
  $A$ and keeping the leading order in $(\eta, \lambda)$, the drift of $A$ is
  $-2\frac{\eta}{1-\beta}\lambda A + \left(\frac{\eta}{1-\beta}\right)^2G^2/A$: SGD with the
  step $\eta/(1-\beta)$, so the rate is $4\eta\lambda/(1-\beta)$. The EMA form is the
  PyTorch form with step $\eta(1-\beta)$: its rate is $4\eta\lambda$ for every $\beta$.

The equilibrium itself is Wan et al. 2021 (arXiv:2006.08419v4) and Kosson et al. 2024
(arXiv:2305.17212v4); both discuss how the norm approaches it, but the form of the rate and
its section and equation there are unconfirmed: the derivation here is self-contained.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.normalization._symbols import gw_sq, wd
from analytic.references import cite
from analytic.symbols import beta, eta, t

FORMULAS = Formulas("normalization")


def _inverse_drift_rate() -> tuple[sp.Expr, tuple[sp.Symbol, sp.Symbol]]:
    """Rate at which x^2 relaxes under dx/dt = -K1 x + K2 / x (K1, K2 > 0), from sympy.dsolve;
    returned with (K1, K2) to substitute."""
    K1, K2 = sp.symbols("K1 K2", positive=True)
    x = sp.Function("x")
    solutions = sp.dsolve(sp.Eq(x(t).diff(t), -K1 * x(t) + K2 / x(t)))
    square = sp.expand(solutions[-1].rhs ** 2)
    rate = sp.simplify(-sp.diff(square, t) / (square - K2 / K1))  # d log(x^2 - K2/K1) / dt
    if rate.has(t) or not rate.is_positive:
        raise ArithmeticError(f"x^2 - K2/K1 is not a decaying exponential: -d log / dt = {rate}")
    return rate, (K1, K2)


def sgd_discrete_multiplier() -> sp.Expr:
    """Per-step factor of a small deviation of |w|^2 from its fixed point under SGD with weight
    decay: the derivative of x -> (1 - eta wd)^2 x + eta^2 G^2 / x at its positive fixed point."""
    A = sp.Symbol("A", positive=True)
    step = (1 - eta * wd) ** 2 * A + eta**2 * gw_sq / A
    fixed = [r for r in sp.solve(sp.Eq(A, step), A)
             if r.subs({eta: sp.Rational(1, 10), wd: sp.Rational(1, 100), gw_sq: 1}) > 0]
    return sp.expand(sp.simplify(sp.diff(step, A).subs(A, fixed[0])))


def heavy_ball_norm_drift() -> tuple[sp.Expr, sp.Expr]:
    """(k1, k2) of the drift dA/dt = -k1 A + k2 / A of A = |w|^2 under PyTorch-form heavy ball,
    B = <w, v> and C = |v|^2 at their stationary values given A, leading order in (eta, wd)."""
    A = sp.Symbol("A", positive=True)
    B, C = sp.symbols("B C", real=True)
    C_next = beta**2 * C + gw_sq / A + wd**2 * A + 2 * beta * wd * B  # <v, g> = <w, g> = 0
    w_dot_v_next = beta * B + wd * A
    B_next = w_dot_v_next - eta * C_next
    A_next = A - 2 * eta * w_dot_v_next + eta**2 * C_next
    quasi_static = sp.solve([sp.Eq(B, B_next), sp.Eq(C, C_next)], [B, C], dict=True)[0]
    drift = sp.simplify((A_next - A).subs(quasi_static))
    small = sp.Symbol("small", positive=True)  # eta -> small eta, wd -> small wd
    leading = sp.series(drift.subs({eta: small * eta, wd: small * wd}), small, 0, 3).removeO()
    times_A = sp.Poly(sp.cancel(leading.subs(small, 1) * A), A)  # k2 - k1 A^2
    if set(times_A.monoms()) - {(0,), (2,)}:
        raise ArithmeticError(f"the leading drift is not -k1 A + k2 / A: {leading}")
    k1 = sp.factor(-times_A.coeff_monomial(A**2))
    k2 = sp.factor(times_A.coeff_monomial(1))
    return k1, k2


@FORMULAS.register("equilibrium_relaxation_rate")
def _equilibrium_relaxation_rate() -> Formula:
    generic, (K1, K2) = _inverse_drift_rate()
    k1, k2 = heavy_ball_norm_drift()
    rate = sp.factor(generic.subs({K1: k1, K2: k2}))
    sgd_rate = sp.factor(generic.subs({K1: 2 * eta * wd, K2: eta**2 * gw_sq}))  # SGD's own flow
    if sp.simplify(rate.subs(beta, 0) - sgd_rate) != 0:
        raise ArithmeticError(f"heavy ball at beta = 0 ({rate.subs(beta, 0)}) should be SGD ({sgd_rate})")
    small = sp.Symbol("small", positive=True)
    discrete = sp.series(-sp.log(sgd_discrete_multiplier().subs(wd, small * wd)), small, 0, 2)
    if sp.simplify(discrete.removeO().subs(small, 1) - sgd_rate) != 0:
        raise ArithmeticError(f"-log of the discrete multiplier starts {discrete}, not {sgd_rate}")
    numerator, denominator = sp.fraction(rate)  # write as 4 eta wd / (1 - beta)
    return Formula(
        expr=sp.expand(-numerator) / sp.expand(-denominator),
        params=(eta, wd, beta),
        source=cite("wan2021", "approach to the equilibrium (section and equation unconfirmed; "
                                     "derived here)"),
        derived=True,
        derivation="mean |w|^2, <w, v>, |v|^2 recursions of heavy ball (sympy.solve for the fast "
                   "<w, v>, |v|^2 at given |w|^2, series to leading order in eta, wd) give "
                   "d|w|^2/dt = -k1 |w|^2 + k2/|w|^2; sympy.dsolve: |w|^4 - |w*|^4 ~ exp(-2 k1 t). "
                   "At beta = 0 equal to SGD's flow and to -log of the discrete linearisation "
                   "2 (1 - eta wd)^2 - 1 at first order",
        conditions=("v <- beta v + g + wd w, w <- w - eta v (PyTorch form; beta = 0 is SGD); the EMA "
                    "form has rate 4 eta wd", "scale-invariant w; scale-free gradient norm "
                    "|g|^2 |w|^2 stationary and temporally white",
                    "rate per step of |w|^4 - (equilibrium)^2; leading order in eta wd and in "
                    "4 eta wd / (1 - beta)^2 (the relaxation slow against the momentum memory)"),
        domains={"beta": sp.Interval.Ropen(0, 1)},
        description="rate per step at which |w|^4 of a scale-invariant weight relaxes to its "
                    "weight-decay equilibrium",
    )
