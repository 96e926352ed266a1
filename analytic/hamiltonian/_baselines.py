r"""Baselines on $f = |x|^b/b$ ($b > 2$): gradient descent and heavy ball are sublinear.

Gradient descent $x_{t+1} = x_t - \eta\nabla f(x_t)$ with a small step follows the gradient flow
$x' = -\eta x^{b-1}$; sympy's ``dsolve`` gives
$x(t) = (x_0^{2-b} + (b-2)\eta t)^{-1/(b-2)}$, so $f(x_t) \approx ((b-2)\eta t)^{-b/(b-2)}/b$ at
large $t$ (``gd_power_loss``, the $x_0 \to \infty$ limit: the leading term) and the loss is a
power law with exponent $-b/(b-2)$ (``gd_power_exponent``; $-2$ for $b = 4$): no linear
rate. Heavy ball $x_{t+1} = x_t - \eta\nabla f(x_t) + \beta(x_t - x_{t-1})$: once the steps
vary slowly, $v = x_{t+1} - x_t$ solves $v = \beta v - \eta\nabla f$, i.e. gradient descent
with the effective learning rate $\eta/(1-\beta)$ (sympy solve), hence
``heavy_ball_power_loss``: the same exponent, a smaller constant. These are the baselines of
Maddison et al. (arXiv:1809.05042v1, sec. 1 and the $x^4$ example of its introduction's
figure; figure number unconfirmed); the closed forms are derived here.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.hamiltonian._symbols import exponent
from analytic.references import cite
from analytic.symbols import beta, eta, t

FORMULAS = Formulas("hamiltonian")

_x0 = sp.Symbol("x0", positive=True)
_BEYOND_TWO = (("exponent", sp.Interval.open(2, sp.oo)), ("t", sp.Interval.open(0, sp.oo)))
_SOURCE = "sec. 1 (GD and momentum are sublinear on |x|^b, b > 2); the asymptotics are derived here"


def gradient_flow_solution() -> sp.Expr:
    """x(t) of the gradient flow x' = -eta x^(b-1), x(0) = x0 > 0 (separable: sympy integrate and solve)."""
    u, x = sp.symbols("u x", positive=True)
    elapsed = sp.integrate(u ** (1 - exponent), (u, x, _x0), conds="none") / eta  # time from x0 down to x
    (solution,) = sp.solve(sp.Eq(sp.simplify(elapsed), t), x)
    return sp.simplify(solution)


@FORMULAS.register("gd_power_loss")
def _gd_power_loss() -> Formula:
    excess = sp.Symbol("excess", positive=True)  # b - 2 > 0, so that sympy knows the sign of x0^(2-b)
    x = gradient_flow_solution().subs(exponent, 2 + excess)
    leading = sp.limit(x, _x0, sp.oo).subs(excess, exponent - 2)  # forget the start: the large-t term
    loss = sp.powsimp(sp.powdenest(leading**exponent / exponent, force=True), force=True)
    return Formula(
        expr=loss, params=(eta, exponent, t), domains=_BEYOND_TWO, source=cite("maddison2018", _SOURCE),
        derived=True,
        derivation="sympy: integrate and solve the gradient flow x' = -eta x^(b-1) from x0; the x0 -> oo limit "
                   "(leading order at large t); f = x^b / b",
        conditions=("gradient descent on f = |x|^exponent / exponent with a small learning rate",
                    "leading order as t -> oo; relative corrections O(log t / t)"),
        description="loss of gradient descent on |x|^b/b after t steps, leading order (sublinear)",
    )


@FORMULAS.register("gd_power_exponent")
def _gd_power_exponent() -> Formula:
    loss = _gd_power_loss().expr
    slope = sp.cancel(sp.expand_log(sp.log(loss), force=True).diff(t) * t)  # d log f / d log t
    return Formula(
        expr=sp.factor(slope), params=(exponent,), domains=(("exponent", sp.Interval.open(2, sp.oo)),),
        source=cite("maddison2018", _SOURCE), derived=True,
        derivation="sympy: d log f / d log t of gd_power_loss",
        conditions=("gradient descent or heavy ball on f = |x|^exponent / exponent, t -> oo",),
        description="power-law exponent of the loss of gradient descent (and heavy ball) on |x|^b/b",
    )


@FORMULAS.register("heavy_ball_power_loss")
def _heavy_ball_power_loss() -> Formula:
    v, g = sp.symbols("v g", real=True)  # a slowly varying step and the gradient
    (step,) = sp.solve(sp.Eq(v, beta * v - eta * g), v)
    effective = sp.cancel(-step / g)
    return Formula(
        expr=_gd_power_loss().expr.subs(eta, effective), params=(eta, beta, exponent, t),
        domains=(*_BEYOND_TWO, ("beta", sp.Interval.Ropen(0, 1))), source=cite("maddison2018", _SOURCE),
        derived=True,
        derivation="sympy: a slowly varying step v = beta v - eta grad f gives the effective learning rate "
                   "eta / (1 - beta); substituted in gd_power_loss",
        conditions=("heavy ball on f = |x|^exponent / exponent", "leading order as t -> oo"),
        description="loss of heavy ball on |x|^b/b after t steps, leading order (sublinear)",
    )
