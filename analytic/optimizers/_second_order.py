r"""Damped Newton / natural gradient on least squares, one Hessian eigen-direction at a time.

Model statement: for the squared loss $L = \frac1{2n}\lVert Xw-y\rVert^2$ the Fisher
(= Gauss-Newton) matrix is the Hessian $H = X^\top X/n$, so the damped natural-gradient
step is $w \leftarrow w - \eta (H + \delta I)^{-1}\nabla L(w)$ (Martens 2014,
arXiv:1412.1193v11, sec. 9 and sec. 10 (damping)). Along an eigenvector of $H$ with
eigenvalue $\lambda$ the error $e$ sees $\tfrac12\lambda e^2$ and the curvature
$\lambda + \delta$; sympy reads the per-step multiplier off that update.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.optimizers._symbols import damping
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("optimizers")


def natural_gradient_factor(step: sp.Expr, eigenvalue: sp.Expr, damp: sp.Expr) -> sp.Expr:
    """The multiplier of a mode error under one damped natural-gradient step."""
    e = sp.Symbol("e", real=True)
    gradient = sp.diff(eigenvalue * e**2 / 2, e)
    curvature = sp.diff(eigenvalue * e**2 / 2, e, 2) + damp
    return sp.simplify((e - step * gradient / curvature) / e)


@FORMULAS.register("natural_gradient_rate")
def _natural_gradient_rate() -> Formula:
    return Formula(
        expr=sp.Abs(natural_gradient_factor(eta, lam, damping)),
        params=(eta, lam, damping),
        source=cite("martens2014", "sec. 9 (Gauss-Newton = Fisher for squared loss), sec. 10"),
        derived=True,
        derivation="|e'/e| for e' = e - eta (d2L/de2 + damping)^-1 dL/de with L = lam e^2 / 2",
        conditions=("per-mode contraction; at damping = 0 it is |1 - eta| for every lam > 0: "
                    "independent of the condition number",),
        constraints=(sp.Gt(lam + damping, 0),),
        description="per-step contraction of one Hessian mode under damped natural gradient "
                    "(damped Newton) on least squares",
    )
