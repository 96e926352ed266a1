r"""Heavy-ball and Nesterov momentum on quadratics: spectral radii, regimes, tuning, rates.

Model statement. On $f(x) = \tfrac12 (x-x^*)^\top H (x-x^*)$ with Hessian eigenvalues
$\lambda \in [\mu, L]$ and $\kappa = L/\mu$, each method is linear and acts on each
eigen-direction separately, where the error $x_k$ sees the loss $\tfrac12\lambda x^2$:

* heavy ball (Polyak 1964): $x_{k+1} = x_k - \alpha\nabla f(x_k) + \beta(x_k - x_{k-1})$;
* Nesterov: $y_k = x_k + \beta(x_k - x_{k-1})$, $x_{k+1} = y_k - \alpha\nabla f(y_k)$;
* gradient descent is heavy ball at $\beta = 0$.

Per eigenvalue, sympy forms the 2x2 iteration matrix of $(x_k, x_{k-1})$, its
characteristic polynomial $z^2 - bz + c$, the roots and the discriminant
$D = b^2 - 4c$: real roots for $D > 0$ (radius $(|b| + \sqrt D)/2$), a double root at
$D = 0$, complex roots of modulus $\sqrt c$ for $D < 0$ ($\sqrt\beta$ for heavy ball).
Tuning, worst-case rates and step counts follow.

Sources: Polyak 1964, "Some methods of speeding up the convergence of iteration
methods", USSR Comp. Math. Math. Phys. 4(5); Goh 2017, "Why Momentum Really Works",
Distill, "The Dynamics of Momentum"; Lessard, Recht, Packard 2016, "Analysis and
Design of Optimization Algorithms via Integral Quadratic Constraints",
arXiv:1408.3595v3, sec. 2 and Proposition 1; Nesterov 2004, "Introductory Lectures
on Convex Optimization", sec. 2.2.

Modules: ``_characteristic`` (the sympy algebra of one mode's iteration matrix),
``_iteration`` (per-mode radius, discriminant, regime boundaries, stability edge),
``_tuning`` (optimal and standard tunings, worst-case rates), ``_step_counts``
(iterations to a relative error), ``_symbols``.

Example:
    >>> from analytic import momentum
    >>> momentum.heavy_ball_spectral_radius(alpha=0.1, beta=0.5, lam=1.0)  # complex: sqrt(0.5)
    Array(0.70710678, dtype=float64)
    >>> momentum.heavy_ball_optimal_rate(kappa=100.0)                          # 9 / 11
    Array(0.81818182, dtype=float64)
    >>> momentum.steps_to_eps("heavy_ball", kappa=100.0, eps=1e-6)  # leading order: 68.8
    Array(95., dtype=float64)
"""

from analytic._registry import Formulas
from analytic.momentum import _iteration, _step_counts, _tuning
from analytic.momentum import _symbols as symbols
from analytic.momentum._iteration import is_stable, regime, spectral_radius
from analytic.momentum._step_counts import METHODS, steps_to_eps

__all__ = ["FORMULAS", "METHODS", "is_stable", "regime", "spectral_radius", "steps_to_eps", "symbols"]

FORMULAS = Formulas.merge(_iteration.FORMULAS, _tuning.FORMULAS, _step_counts.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
