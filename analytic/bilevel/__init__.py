r"""Bilevel optimisation: hypergradients of ridge regression, and short-horizon bias.

Ridge hypergradients (``_ridge``, ``_hypergradient``). Inner problem: ridge regression
$\hat w(\rho) = \arg\min_w \tfrac1{2n}\lVert Xw - y\rVert^2 + \tfrac\rho2\lVert w\rVert^2$;
outer: a validation loss $L_{\rm val}(w) = \tfrac1{2n_v}\lVert X_v w - y_v\rVert^2$. Per
eigen-mode of $H = X^\top X/n$ (curvature ``lam``, $a = \lambda + \rho$,
$r = 1 - \eta a$), sympy derives the sensitivity $dw/d\rho$ three ways: exact by the
implicit function theorem ($-b/a^2$; Bengio 2000), through $T$ unrolled GD steps
(``rsolve`` then ``diff``; bias $\tfrac{b}{a^2}r^T - \eta T r^{T-1}(w_0 - b/a)$), and
by backpropagating through the last $K$ steps only (Shaban et al. 2019, AISTATS;
bias $\to \tfrac{b}{a^2}r^K$). :func:`ridge_hypergradient` sums the modes on data.

Short-horizon bias (``_greedy``; Wu, Ren, Liao, Grosse 2018, arXiv:1803.02021v1,
sec. 3, equation numbers unconfirmed): on the noisy quadratic model the greedy
(one-step-optimal) learning rate is $\sum_i\lambda_i^2 m_i / \sum_i(\lambda_i^3 m_i +
\lambda_i\sigma_i^2)$, in one dimension $\lambda m_0/(\lambda^2 m_0(t+1) + \sigma^2)$;
with several curvatures it decays faster than the schedule optimal over the whole
horizon (:func:`greedy_schedule`; the check finds the latter numerically).

Example:
    >>> from analytic import bilevel
    >>> bilevel.ift_sensitivity.expr
    -b/(lam + ridge)**2
    >>> bilevel.unrolled_sensitivity(eta=0.5, lam=1.0, ridge=1.0, b=2.0, w0=0.0, T=1)  # w_1 = eta b
    Array(0., dtype=float64)
    >>> bilevel.greedy_schedule_1d.expr
    lam*m0/(lam**2*m0*t + lam**2*m0 + noise)
"""

from analytic._registry import Formulas
from analytic.bilevel import _greedy, _ridge
from analytic.bilevel import _symbols as symbols
from analytic.bilevel._greedy import greedy_lr, greedy_schedule
from analytic.bilevel._hypergradient import METHODS, ridge_hypergradient

__all__ = ["FORMULAS", "METHODS", "ridge_hypergradient", "greedy_lr", "greedy_schedule", "symbols"]

FORMULAS = Formulas.merge(_ridge.FORMULAS, _greedy.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
