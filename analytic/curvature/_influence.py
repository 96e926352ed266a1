r"""Influence functions (Koh & Liang 2017, eq. 2) and the exact leave-one-out change of ridge regression.

Up-weighting a training point $z_i$ by $\epsilon$ in $R(\theta) = \frac1n\sum_j\ell_j(\theta) +
\Omega(\theta)$ moves the minimiser by $d\hat\theta/d\epsilon = -H^{-1}\nabla\ell_i$ (implicit
function theorem on $\nabla R + \epsilon\nabla\ell_i = 0$, $H = \nabla^2 R$), so a test loss moves
by $\mathcal I_{\rm up,loss} = -\nabla L_{\rm test}^\top H^{-1}\nabla\ell_i$ (Koh & Liang 2017,
arXiv:1703.04730v3, eq. (2)). Removing the point is $\epsilon = -1/n$:
$$\Delta L_{\rm test} \approx \tfrac1n\,\nabla L_{\rm test}^\top H^{-1}\nabla\ell_i
   \qquad(\text{``removal\_influence''}).$$

Ridge regression, $R(w) = \frac1{2n}\lVert Xw - y\rVert^2 + \frac\rho2\lVert w\rVert^2$,
$H = X^\top X/n + \rho I$, test loss $\tfrac12(x_t^\top w - y_t)^2$: removing point $i$ gives
$H_{-i} = H - x_ix_i^\top/n$ and $w_{-i} - \hat w = H_{-i}^{-1}x_i r_i/n$ ($r_i = x_i^\top\hat w -
y_i$). Sherman-Morrison, derived here by solving $(H - x_ix_i^\top/n)\,\alpha H^{-1}x_i = x_i$ for
$\alpha$, gives $H_{-i}^{-1}x_i = H^{-1}x_i/(1 - h_i)$ with the leverage $h_i = x_i^\top H^{-1}x_i/n$.
With $c_i = r_i\,x_t^\top H^{-1}x_i$ and $q_i = c_i/(n(1 - h_i))$ the change of the test prediction,
the exact change of the (quadratic) test loss is
$$\Delta L_{\rm test} = r_t q_i + \tfrac12 q_i^2 \qquad(\text{``ridge\_loo\_test\_loss\_change''}),$$
while the influence estimate is $r_t c_i/n$. With $h_i = k_i/n$ ($k_i = O(1)$: $h_i \approx d/n$)
a sympy series in $1/n$ gives their difference's leading order
$$\Delta L_{\rm test} - \tfrac{r_t c_i}{n} = \frac{c_i(r_t k_i + c_i/2)}{n^2} + O(n^{-3})
   \qquad(\text{``ridge\_influence\_gap\_leading''}):$$
the influence estimate is $O(1/n)$ and its error $O(1/n^2)$, a relative error $O(1/n)$.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.curvature._symbols import (cross_response, influence_inner, leverage, n_train, scaled_leverage,
                                         test_residual)
from analytic.formula import Formula
from analytic.references import cite

FORMULAS = Formulas("curvature")

_eps = sp.Symbol("epsilon", real=True)  # the up-weighting of one training point
_hessian, _g_test, _g_point = sp.symbols("H g_test g_point", real=True)  # one direction of the IFT
_alpha = sp.Symbol("alpha", real=True)  # Sherman-Morrison ansatz: H_{-i}^{-1} x_i = alpha H^{-1} x_i
_shift = sp.Symbol("shift", real=True)  # the change x_t . (w_{-i} - w) of the test prediction
_RIDGE = ("ridge regression |Xw - y|^2/(2n) + ridge/2 |w|^2; quadratic test loss (x_t.w - y_t)^2/2",)
_LEVERAGE_RANGE = (("leverage", sp.Interval.Ropen(0, 1)),)


def _removal_change() -> sp.Expr:
    """First-order change of the test loss at epsilon = -1/n (IFT in one direction)."""
    # stationarity of R + eps l_i, linearised: H dtheta + g_point deps = 0
    (dtheta,) = sp.solve(sp.Eq(_hessian * sp.Symbol("dtheta") + _g_point * _eps, 0), sp.Symbol("dtheta"))
    up_weighting = sp.diff(_g_test * dtheta, _eps)  # I_up,loss = -g_test H^-1 g_point
    change = (up_weighting * (-1 / n_train)).subs(_g_test * _g_point / _hessian, influence_inner)
    return sp.simplify(change.subs(_g_point, influence_inner * _hessian / _g_test))


def _sherman_morrison_factor() -> sp.Expr:
    """alpha with (H - x x^T/n) alpha H^-1 x = x: alpha x - alpha x h = x, so alpha = 1/(1 - h)."""
    (factor,) = sp.solve(sp.Eq(_alpha * (1 - leverage), 1), _alpha)
    return factor


def _ridge_exact_change() -> sp.Expr:
    """Exact test-loss change, with q = c/(n (1 - h)) the shift of the test prediction."""
    shift = _sherman_morrison_factor() * cross_response / n_train  # x_t . H_{-i}^{-1} x_i r_i / n
    change = sp.expand((test_residual + _shift) ** 2 / 2 - test_residual**2 / 2)
    return change.subs(_shift, shift)


@FORMULAS.register("removal_influence")
def _removal_influence() -> Formula:
    return Formula(
        expr=_removal_change(), params=(influence_inner, n_train),
        source=cite("koh2017", "eq. (2), removal as epsilon = -1/n (sec. 2.1)"), derived=True,
        derivation="sympy: solve the linearised stationarity H dtheta + g_i deps = 0, differentiate "
                   "g_test . dtheta in eps, evaluate at eps = -1/n",
        conditions=("influence_inner = grad L_test^T H^-1 grad l_i at the full-data minimiser, H the "
                    "Hessian of the mean training loss plus the regulariser (positive definite)",),
        description="influence estimate of the change of a test loss when one training point is removed",
    )


@FORMULAS.register("ridge_loo_test_loss_change")
def _ridge_loo_test_loss_change() -> Formula:
    exact = _ridge_exact_change()
    q = cross_response / (n_train * (1 - leverage))
    stable = q * (test_residual + q / 2)  # the same, without the overflow of c^2 at large c
    if sp.simplify(exact - stable) != 0:
        raise AssertionError("the factored form of the exact leave-one-out change differs")
    return Formula(
        expr=sp.factor(exact), params=(test_residual, cross_response, leverage, n_train), evaluate_as=stable,
        source=cite("koh2017", "sec. 2.1 (retraining without the point), exact for ridge"), derived=True,
        derivation="sympy: Sherman-Morrison factor 1/(1 - h) by solving (H - x x^T/n) alpha H^-1 x = x, "
                   "then the quadratic test loss expanded at the shifted prediction",
        conditions=_RIDGE + ("c = r_i x_t^T H^-1 x_i, h = x_i^T H^-1 x_i / n (H of the full data), "
                             "r_t, r_i residuals of the full-data fit",),
        domains=_LEVERAGE_RANGE,
        description="exact change of the test loss when ridge regression is retrained without point i",
    )


@FORMULAS.register("ridge_influence_gap_leading")
def _ridge_influence_gap_leading() -> Formula:
    inverse_n = sp.Symbol("inverse_n", positive=True)
    gap = _ridge_exact_change() - _removal_change().subs(influence_inner, test_residual * cross_response)
    in_inverse_n = gap.subs(leverage, scaled_leverage / n_train).subs(n_train, 1 / inverse_n)
    series = sp.series(in_inverse_n, inverse_n, 0, 3).removeO()
    if series.coeff(inverse_n, 1) != 0:
        raise AssertionError("the influence estimate's error should start at order 1/n^2")
    leading = sp.factor(series.coeff(inverse_n, 2)) / n_train**2
    return Formula(
        expr=leading, params=(test_residual, cross_response, scaled_leverage, n_train),
        source=cite("koh2017", "sec. 2.1 (first-order approximation of retraining)"), derived=True,
        derivation="sympy series in 1/n of (exact ridge leave-one-out change) - (removal influence), "
                   "leverage = scaled_leverage / n; the 1/n term vanishes",
        conditions=_RIDGE + ("leading order as n grows with scaled_leverage = n h = O(1); relative "
                             "correction O(h)",),
        description="leading O(1/n^2) difference between the exact ridge leave-one-out change and the "
                    "influence estimate",
    )
