r"""Conjugate gradient on a quadratic: the Chebyshev min-max error and its bound.

CG on $\tfrac12 x^\top A x - b^\top x$ ($A$ symmetric positive definite, condition number
$\kappa$) picks, at step $t$, the polynomial $p$ of degree $t$ with $p(0) = 1$ that minimises
the $A$-norm of the error $e_t = p(A) e_0$. Over all spectra in $[\mu, L]$ the worst case of
$\min_p \max_\lambda |p(\lambda)|$ is $1/T_t\big(\tfrac{\kappa+1}{\kappa-1}\big)$, with $T_t$ the
Chebyshev polynomial.

What sympy derives here:

* $T_t$ from its recurrence $T_{t+2} = 2xT_{t+1} - T_t$, $T_0 = 1$, $T_1 = x$ (``rsolve``), at
  $x = (s + 1/s)/2$: $T_t = (s^t + s^{-t})/2$; with $s = 1/r$,
  $r = \tfrac{\sqrt\kappa-1}{\sqrt\kappa+1}$, $x = \tfrac{\kappa+1}{\kappa-1}$ (``simplify``), so
  ``cg_minimax_error`` $= 1/T_t = 2r^t/(1 + r^{2t})$;
* ``cg_error_bound``: dropping $r^{2t}$ gives the textbook bound
  $\lVert e_t\rVert_A \le 2r^t\lVert e_0\rVert_A$ (Nocedal & Wright 2006, eq. (5.36), equation
  number from memory, unconfirmed); its excess over the min-max value is the factor $1 + r^{2t}$;
* ``cg_residual_bound``: $\lVert r_t\rVert_2 \le \sqrt{L}\lVert e_t\rVert_A$ and
  $\lVert r_0\rVert_2 \ge \sqrt{\mu}\lVert e_0\rVert_A$ give a further factor $\sqrt\kappa$.

The min-max value is *attained* (our derivation, checked numerically): on the $t+1$
Chebyshev-Lobatto points $\lambda_j = \tfrac{L+\mu}2 + \tfrac{L-\mu}2\cos(j\pi/t)$ with initial
error components $e_{0,j}^2 \propto w_j/\lambda_j^2$ ($w_j = \tfrac12$ at the two ends, 1
inside), $p^\star = T_t(\cdot)/T_t(x)$ equioscillates and is orthogonal to every $\lambda s(\lambda)$
of degree $\le t$ under the weights $e_{0,j}^2\lambda_j$ (discrete Chebyshev orthogonality), so
CG's step $t$ error is exactly $1/T_t$. In exact arithmetic CG also terminates after as many
steps as $A$ has distinct eigenvalues (Hestenes & Stiefel 1952; Nocedal & Wright Theorem 5.4).

$r$ is written $(\kappa - 1)/(\sqrt\kappa + 1)^2$ (no cancellation near $\kappa = 1$) and evaluated
through $t\log r$ (``log1p`` for large $\kappa$, where $r$ itself rounds to 1): $1/T_t = 1/\cosh(t\log r)$.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import kappa, t

FORMULAS = Formulas("second_order")

_s = sp.Symbol("s", positive=True)  # the larger root of z^2 - 2 x z + 1 (s = 1/r > 1)
_r = sp.Symbol("r", positive=True)  # the Chebyshev ratio as a symbol during the derivation
_KAPPA = {"kappa": sp.Interval(1, sp.oo)}
_CONDITIONS = ("CG on a symmetric positive-definite quadratic with eigenvalues in [mu, L], kappa = L/mu",
               "t steps from any x_0; exact arithmetic")


def chebyshev_ratio() -> sp.Expr:
    """``r = (sqrt(kappa) - 1)/(sqrt(kappa) + 1)`` written as ``(kappa - 1)/(sqrt(kappa) + 1)^2``."""
    return (kappa - 1) / (sp.sqrt(kappa) + 1) ** 2


def chebyshev_polynomial_in_s() -> sp.Expr:
    """``T_t((s + 1/s)/2)`` from the three-term recurrence (sympy ``rsolve``): ``(s^t + s^-t)/2``."""
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    x = (_s + 1 / _s) / 2
    solution = sp.rsolve(f(n + 2) - 2 * x * f(n + 1) + f(n), f(n), {f(0): 1, f(1): x})
    return sp.simplify(solution).subs(n, t)


def minimax_in_r() -> sp.Expr:
    """``1/T_t`` at ``s = 1/r``, as ``2 r^t / (1 + r^(2t))`` (no overflow for large t)."""
    return sp.factor(sp.powsimp(sp.expand(1 / chebyshev_polynomial_in_s().subs(_s, 1 / _r) * _r**t)) / _r**t)


def log_ratio_times_t() -> sp.Expr:
    r"""$t\log r$ without overflow or cancellation: $\log((\kappa - 1)/(\sqrt\kappa + 1)^2)$ for $\kappa < 4$
    (where $r$ is computed accurately), ``log1p``$(-2/(\sqrt\kappa + 1))$ beyond (where $r$ rounds to 1 for
    $\kappa > 10^{32}$ but $\log r pprox -2/\sqrt\kappa$ does not)."""
    small = sp.log(chebyshev_ratio())
    large = log1p(-2 / (sp.sqrt(kappa) + 1))
    return t * sp.Piecewise((small, kappa < 4), (large, True))


def _stable(expr: sp.Expr, form: sp.Expr) -> sp.Expr:
    """``form`` for kappa > 1; the sympy ``expr`` at kappa = 1 (r = 0, where log r = -oo)."""
    return sp.Piecewise((form, kappa > 1), (expr, True))


@FORMULAS.register("cg_minimax_error")
def _cg_minimax_error() -> Formula:
    r = chebyshev_ratio()
    if sp.simplify((1 / r + r) / 2 - (kappa + 1) / (kappa - 1)) != 0:  # x = (s + 1/s)/2 at s = 1/r
        raise AssertionError("(1/r + r)/2 is not (kappa + 1)/(kappa - 1)")
    expr = minimax_in_r().subs(_r, r)
    return Formula(
        expr=expr, params=(kappa, t), domains=_KAPPA, evaluate_as=_stable(expr, 1 / sp.cosh(log_ratio_times_t())), source=cite("nocedal2006", "sec. 5.1, eqs. (5.34)-(5.36)"),
        derived=True, derivation="sympy rsolve of T_{t+2} = 2x T_{t+1} - T_t at x = (s + 1/s)/2, s = 1/r, "
        "(1/r + r)/2 = (kappa+1)/(kappa-1) by simplify; 1/T_t",
        conditions=_CONDITIONS + ("attained on the Chebyshev-Lobatto spectrum with e_0j^2 ~ w_j / lam_j^2",),
        description="worst-case CG A-norm error ratio |e_t|_A/|e_0|_A = 1/T_t((kappa+1)/(kappa-1))",
    )


@FORMULAS.register("cg_error_bound")
def _cg_error_bound() -> Formula:
    bound = sp.cancel(minimax_in_r() * (1 + _r ** (2 * t)))  # drop the r^(2t) of the denominator
    return Formula(
        expr=bound.subs(_r, chebyshev_ratio()), params=(kappa, t), domains=_KAPPA,
        evaluate_as=_stable(bound.subs(_r, chebyshev_ratio()), 2 * sp.exp(log_ratio_times_t())),
        source=cite("nocedal2006", "sec. 5.1, eq. (5.36) (number unconfirmed)"), derived=True,
        derivation="1/T_t = 2 r^t/(1 + r^(2t)) <= 2 r^t (cg_minimax_error with 1 + r^(2t) >= 1)",
        conditions=_CONDITIONS, description="Chebyshev bound 2 r^t on CG's A-norm error ratio",
    )


@FORMULAS.register("cg_residual_bound")
def _cg_residual_bound() -> Formula:
    expr = sp.sqrt(kappa) * _cg_error_bound().expr
    return Formula(
        expr=expr, params=(kappa, t), domains=_KAPPA,
        evaluate_as=_stable(expr, 2 * sp.exp(log_ratio_times_t() + sp.log(kappa) / 2)),
        source=cite("nocedal2006", "sec. 5.1 (A-norm to 2-norm)"), derived=True,
        derivation="|r_t|_2 <= sqrt(L) |e_t|_A, |r_0|_2 >= sqrt(mu) |e_0|_A, times cg_error_bound",
        conditions=_CONDITIONS, description="bound 2 sqrt(kappa) r^t on CG's residual ratio |r_t|_2/|r_0|_2",
    )
