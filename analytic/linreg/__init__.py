r"""Linear regression: gradient-descent spectra, rates, conditioning, double descent.

Model statement. Loss $L(w) = \frac{1}{2n}\lVert Xw - y\rVert^2$ with Hessian
$H = X^\top X/n$, eigenpairs $(\lambda_i, v_i)$ and minimiser $w^*$. Then
$L(w) = L^* + \tfrac12 (w-w^*)^\top H (w-w^*)$, so along $v_i$ the error
$e_i = v_i^\top(w-w^*)$ sees the one-dimensional loss $\tfrac12\lambda_i e_i^2$.
Gradient descent $w_{t+1} = w_t - \eta\nabla L(w_t)$ therefore acts on each mode
separately; every formula below is derived by sympy from that per-mode loss.

Sources: the GD facts are textbook (Nesterov 2004, "Introductory Lectures on
Convex Optimization", sec. 1.2.3; Goh 2017, "Why Momentum Really Works", section
"First Steps: Gradient Descent"). Double descent: Hastie, Montanari, Rosset,
Tibshirani 2019, "Surprises in High-Dimensional Ridgeless Least Squares
Interpolation", arXiv:1903.08560v5, Theorem 1 (ridgeless, isotropic) and
Theorem 5 / eq. (16) (ridge, isotropic); Marchenko and Pastur 1967 for the
Stieltjes transform.

Modules: ``_gradient_descent`` (per-mode GD and gradient flow, rates, conditioning),
``_double_descent`` (ridge and min-norm risk), ``_loss_curves`` (whole-spectrum
curves), ``_symbols``.

Example:
    >>> from analytic import linreg
    >>> linreg.optimal_lr(lam_min=1.0, lam_max=3.0)   # 2 / (1 + 3)
    Array(0.5, dtype=float64)
    >>> linreg.critical_lr.expr
    2/lam_max
"""

from analytic._registry import Formulas
from analytic.linreg import _double_descent, _gradient_descent
from analytic.linreg import _symbols as symbols
from analytic.linreg._loss_curves import gd_loss_curve, gf_loss_curve

__all__ = ["FORMULAS", "gd_loss_curve", "gf_loss_curve", "symbols"]

FORMULAS = Formulas.merge(_gradient_descent.FORMULAS, _double_descent.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
