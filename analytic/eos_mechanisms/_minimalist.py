r"""The minimalist edge-of-stability example $L(x, y) = \tfrac14(1 - x^2y^2)^2$ (Zhu et al., ICLR 2023).

Model statement: GD with learning rate $\eta$ on $L$,
$x' = x + \eta(1 - x^2y^2)\,x y^2$, $y' = y + \eta(1 - x^2y^2)\,x^2 y$.
Write $p = xy$ (``product``), $d = x^2 - y^2$ (``imbalance``), $s = x^2 + y^2 = \sqrt{d^2 + 4p^2}$,
$r = 1 - p^2$. What sympy derives from the update rule alone:

* ``valley_sharpness``: on the valley of minima $p = \pm1$ the Hessian is
  $2\nabla p\nabla p^\top$ (``hessian`` at $(x, 1/x)$, ``eigenvals``), so the sharpness is
  $2(x^2 + x^{-2}) = 2s = 2\sqrt{d^2 + 4}$: the flattest minimum ($d = 0$) has sharpness 4.
* ``imbalance_factor``: $d' = d\,(1 - \eta^2 r^2 p^2)$ exactly (``expand`` of $x'^2 - y'^2$).
  Gradient flow conserves $d$; GD shrinks it only while it is off the valley ($r \ne 0$).
  This is the mechanism: while GD oscillates across the valley, the imbalance, and with it
  the sharpness $2\sqrt{d^2+4}$ of the nearest minimum, decreases.
* ``product_multiplier``: the product map $p' = p\,(1 + \eta r s + \eta^2 r^2p^2)$ (sympy
  shows $(p, s)$ is a closed two-dimensional map) has the valley as a line of fixed points
  with multiplier $\partial p'/\partial p|_{p=1} = 1 - 2\eta s$: a minimum is stable iff
  $2s < 2/\eta$, i.e. its sharpness is below the stability threshold; above it $p$ flips
  sign of its offset every step and the two-step map $F\circ F$ has a period-2 orbit.
* ``edge_imbalance``: the minimum with sharpness exactly $2/\eta$ (the "$\eta$-EoS minimum"
  of Zhu et al.) has $d^2 = \eta^{-2} - 4$ (``solve``); it exists iff $\eta < 1/2$. Started
  near the valley at $|d_0| > $ ``edge_imbalance`` (sharpness above $2/\eta$), GD oscillates,
  $|d|$ shrinks until the nearest minimum is stable, and GD converges with sharpness just
  below $2/\eta$ (Zhu et al., sec. 3-4, their Theorem 1; numbering not confirmed against a
  pinned version). For $\eta > 1/2$ no minimum is stable: GD cannot converge.
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic._registry import Formulas
from analytic.eos_mechanisms._symbols import imbalance, product
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("eos_mechanisms")

_x, _y = sp.symbols("x y", positive=True)  # the two weights (dummies of the derivation)
_s = sp.Symbol("s", positive=True)  # x^2 + y^2 (a dummy)
_SOURCE = "sec. 3 (the loss (1 - x^2 y^2)^2 / 4 and its GD dynamics)"


def _root_d2_plus_4() -> sp.Expr:
    """sqrt(d^2 + 4) without overflow of d^2: |d| itself once 4/d^2 is below round-off."""
    return sp.Piecewise((sp.Abs(imbalance), sp.Abs(imbalance) > sp.Float(1e100)),
                        (sp.sqrt(imbalance**2 + 4), True))


def _loss():
    return (1 - _x**2 * _y**2) ** 2 / 4


@functools.cache
def _gd_step() -> tuple[sp.Expr, sp.Expr]:
    loss = _loss()
    return _x - eta * sp.diff(loss, _x), _y - eta * sp.diff(loss, _y)


@FORMULAS.register("valley_sharpness")
def _valley_sharpness() -> Formula:
    hessian = sp.hessian(_loss(), (_x, _y)).subs(_y, 1 / _x)
    top = max(hessian.eigenvals(), key=lambda e: sp.limit(e, _x, 1))
    top = sp.simplify(top)
    # 2 (x^2 + x^-2) written through d = x^2 - x^-2: (x^2 + x^-2)^2 = d^2 + 4
    assert sp.simplify(top - 2 * (_x**2 + _x**-2)) == 0
    assert sp.simplify((top / 2) ** 2 - (_x**2 - _x**-2) ** 2 - 4) == 0
    return Formula(
        expr=2 * sp.sqrt(imbalance**2 + 4), params=(imbalance,), source=cite("zhu2023", _SOURCE),
        derived=True, derivation="sympy hessian of L at (x, 1/x), eigenvals: 2 (x^2 + x^-2) = 2 sqrt(d^2 + 4)",
        conditions=("at a minimum x y = 1 (by symmetry also x y = -1)",),
        evaluate_as=2 * _root_d2_plus_4(),
        description="sharpness of the minimum with imbalance d = x^2 - y^2 on the valley x y = 1",
    )


@FORMULAS.register("imbalance_factor")
def _imbalance_factor() -> Formula:
    x1, y1 = _gd_step()
    ratio = sp.factor(sp.expand(x1**2 - y1**2)) / (_x**2 - _y**2)
    ratio = sp.expand(sp.cancel(ratio)).subs(_x, product / _y)
    ratio = sp.factor(sp.expand(ratio))
    return Formula(
        expr=ratio, params=(eta, product), source=cite("zhu2023", _SOURCE), derived=True,
        derivation="sympy expand of x'^2 - y'^2 for one GD step, divided by x^2 - y^2, in p = x y",
        conditions=("exact for one GD step from any (x, y) with x^2 != y^2",),
        description="d'/d: the factor by which one GD step multiplies the imbalance x^2 - y^2",
    )


@functools.cache
def _product_map() -> sp.Expr:
    """p' = x' y' in p and s = x^2 + y^2 (sympy checks that x, y enter only through p and s)."""
    x1, y1 = _gd_step()
    new = sp.expand(x1 * y1)
    candidate = product * (1 + eta * (1 - product**2) * _s + eta**2 * (1 - product**2) ** 2 * product**2)
    assert sp.expand(candidate.subs({product: _x * _y, _s: _x**2 + _y**2}) - new) == 0
    return candidate


@FORMULAS.register("product_multiplier")
def _product_multiplier() -> Formula:
    multiplier = sp.expand(sp.diff(_product_map(), product).subs(product, 1))
    sharpness = 2 * _s  # on the valley
    threshold = sp.solve(sp.Eq(multiplier, -1), _s)
    assert threshold == [1 / eta] and sp.simplify(sharpness.subs(_s, threshold[0]) - 2 / eta) == 0
    expr = multiplier.subs(_s, sp.sqrt(imbalance**2 + 4))
    return Formula(
        evaluate_as=1 - 2 * eta * _root_d2_plus_4(),
        expr=expr, params=(eta, imbalance), source=cite("zhu2023", _SOURCE), derived=True,
        derivation="sympy diff of the product map p' = p (1 + eta r s + eta^2 r^2 p^2) at p = 1, s = sqrt(d^2 + 4)",
        conditions=("linearisation at a minimum x y = 1 with s frozen (s moves at second order in p - 1)",),
        description="dp'/dp at a minimum: 1 - 2 eta sqrt(d^2 + 4); the minimum is stable iff it is > -1",
    )


@FORMULAS.register("edge_imbalance")
def _edge_imbalance() -> Formula:
    roots = sp.solve(sp.Eq(_valley_sharpness().expr, 2 / eta), imbalance)
    (root,) = [r for r in roots if sp.simplify(r.subs(eta, sp.Rational(1, 4))) > 0]
    return Formula(
        expr=sp.simplify(root), params=(eta,), source=cite("zhu2023", "sec. 4 (the eta-EoS minimum)"), derived=True,
        derivation="sympy solve of valley_sharpness = 2/eta for d > 0",
        conditions=("exists for eta < 1/2 (the flattest minimum has sharpness 4)",),
        domains={"eta": sp.Interval.open(0, sp.Rational(1, 2))},
        evaluate_as=sp.sqrt((1 - 2 * eta) * (1 + 2 * eta)) / eta,  # 1/eta^2 - 4 without cancellation near 1/2
        description="|x^2 - y^2| of the minimum whose sharpness is exactly 2/eta (the edge of stability)",
    )
