r"""Stability thresholds on a quadratic: the sharpness at which an iteration matrix has radius 1.

Model statement: along a Hessian eigenvector with eigenvalue $\lambda$ (the
sharpness, for the top one) the loss is $\tfrac12\lambda x^2$ with gradient
$g(x) = \lambda x$. The methods (with rate $\eta$, momentum $\beta$):

* GD: $x_{t+1} = x_t - \eta g(x_t)$;
* heavy ball (Polyak 1964): $x_{t+1} = x_t - \eta g(x_t) + \beta(x_t - x_{t-1})$;
* Nesterov: $y_t = x_t + \beta(x_t - x_{t-1})$, $x_{t+1} = y_t - \eta g(y_t)$.

The linear-iteration engine (``linear_method``) writes each as a linear map of the state
$(x_t, x_{t-1})$ (its Jacobian is the iteration matrix $M$), takes the characteristic
polynomial $p(z) = \det(zI - M)$ and solves $p(-1) = 0$ for $\lambda$: the root leaving the unit disc as $\lambda$
grows is the real root $-1$ (the complex pair has modulus$^2$ = the constant term,
$\beta$ or $\beta(1-\eta\lambda)$, below 1 for $0 \le \beta < 1$; $z = +1$ needs
$\lambda = 0$). Cohen et al. 2021 (arXiv:2103.00065v3, sec. 2 and their appendix
on momentum) use these thresholds as the "edge of stability".
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic import _iteration_engine as engine
from analytic._linear_method import LinearMethod, linear_method
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import beta, eta, lam

__all__ = ["FORMULAS", "METHODS", "iteration_matrix", "characteristic_polynomial"]

FORMULAS = Formulas("eos")
METHODS = ("gd", "heavy_ball", "nesterov")


def _update(method: str, now: sp.Expr, before: sp.Expr) -> sp.Expr:
    """x_{t+1} of ``method`` along one eigen-direction (the model statement)."""
    gradient = engine.mode_gradient
    if method == "gd":
        return now - eta * gradient(now)
    if method == "heavy_ball":
        return now - eta * gradient(now) + beta * (now - before)
    if method == "nesterov":
        look_ahead = now + beta * (now - before)
        return look_ahead - eta * gradient(look_ahead)
    raise ValueError(f"method = {method!r} is unknown; valid: {METHODS}")


@functools.cache
def _derived(method: str) -> LinearMethod:
    """The engine's derivation from the update rule: state (x_t,) for GD (no memory), else (x_t, x_{t-1})."""
    now, before = sp.symbols("x_now x_before", real=True)
    if method == "gd":
        return linear_method({now: _update(method, now, before)}, params=(eta, lam), name=method)
    if method not in METHODS:
        _update(method, now, before)  # raises the ValueError naming the valid methods
    return linear_method({now: _update(method, now, before), before: now}, params=(eta, beta, lam),
                         name=method)


def iteration_matrix(method: str) -> sp.Matrix:
    """The 2x2 Jacobian of (x_t, x_{t-1}) -> (x_{t+1}, x_t) (GD: 1x1, it has no memory)."""
    derived = _derived(method)
    return sp.Matrix(derived.order, derived.order, derived.iteration_matrix.expr)


def characteristic_polynomial(method: str, z: sp.Symbol) -> sp.Expr:
    """det(z I - M) of the method's iteration matrix."""
    return _derived(method).characteristic_polynomial.expr.subs(engine.z, z)


def _threshold(method: str) -> Formula:
    momentum = method != "gd"
    return Formula(
        expr=_derived(method).critical(lam).expr,
        params=(eta, beta) if momentum else (eta,),
        source=cite("cohen2021", "sec. 2 (GD) and appendix on momentum (heavy ball, Nesterov)"),
        derived=True,
        derivation=f"sympy.solve of det(-I - M) = 0 for lam, M the iteration matrix of {method} "
                   "on the quadratic lam x^2/2 (an eigenvalue of M reaches -1)",
        conditions=("the method is stable on a quadratic exactly when its sharpness is below this",)
        + (("0 <= beta < 1 (the complex roots then stay inside the unit disc)",) if momentum else ()),
        domains={"beta": sp.Interval.Ropen(0, 1)} if momentum else {},
        description=f"largest stable sharpness of {method.replace('_', ' ')} (the edge of stability)",
    )


FORMULAS.register_variants("{method}_sharpness_threshold", method=METHODS)(_threshold)
