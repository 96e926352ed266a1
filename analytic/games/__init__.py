r"""Differentiable games: rotation dynamics of min-max methods on bilinear games.

Model statement. $\min_x\max_y f(x, y) = x^\top A y$, vector field
$F(z) = (\nabla_x f, -\nabla_y f) = (Ay, -A^\top x)$. Per singular value $\sigma$ of
$A$ every method is a small linear map; sympy derives it from the update rule
(Jacobian in the state), its characteristic polynomial and its spectral radius
$\rho(\eta, \sigma)$ in every root regime (``_iteration``), then the step-size ranges
and optimal steps from those radii (``_steps``). With $a = \eta\sigma$:

* simultaneous GDA: $\rho = \sqrt{1 + a^2} > 1$, divergent for every step;
* alternating GDA: $\rho = 1$ (bounded rotation) for $a \le 2$, $> 1$ above;
* extragradient: $\rho = \sqrt{1 - a^2 + a^4} < 1$ for $a < 1$, optimal $a = 1/\sqrt2$;
* optimistic GDA: $\rho < 1$ for $a < 1/\sqrt3$, optimal $a = 1/2$ ($\rho = 1/\sqrt2$);
* alternating GDA with momentum $\beta$ (``negative_momentum_radius``): the largest
  root of $((z-1)(z-\beta))^2 + a^2 z^3$; $\beta < 0$ makes it converge.

The strongly monotone game $\mu/2\lVert x\rVert^2 + x^\top A y - \mu/2\lVert y\rVert^2$ has
the same five methods under ``{method}_monotone_radius`` (parameters ``eta``, ``mu``,
``sigma``, and ``momentum``): 2x2 methods by the same root regimes, optimistic GDA along
an eigenvalue $\mu \pm i\sigma$ of the field, negative momentum (as on the bilinear game)
through the half quartic $q(w)$ with $P(w^2) = q(w)q(-w)$, whose roots stay simple where
$P$ has double ones. E.g. simultaneous GDA: $\rho = \sqrt{(1 - \eta\mu)^2 + \eta^2\sigma^2}$,
convergent for $\eta < 2\mu/(\mu^2 + \sigma^2)$.

Sources: Korpelevich 1976 (extragradient); Daskalakis, Ilyas, Syrgkanis, Zeng 2018,
arXiv:1711.00141v2 (optimistic GDA); Gidel et al. 2019, arXiv:1807.04740v5
(alternating updates, negative momentum); Zhang and Yu 2019, arXiv:1908.05699v5
(exact conditions on bilinear games).

Example:
    >>> from analytic import games
    >>> games.extragradient_radius.expr
    sqrt(eta**4*sigma**4 - eta**2*sigma**2 + 1)
    >>> games.extragradient_radius(eta=0.5, sigma=1.0)   # sqrt(1 - 1/4 + 1/16)
    Array(0.90138782, dtype=float64)
    >>> games.optimistic_gda_max_step.expr
    sqrt(3)/(3*sigma)
"""

from analytic._registry import Formulas
from analytic.games import _iteration, _steps
from analytic.games import _symbols as symbols
from analytic.games._iteration import METHODS, characteristic_polynomial, iteration_matrix, update

__all__ = ["FORMULAS", "METHODS", "characteristic_polynomial", "iteration_matrix", "update", "symbols"]

FORMULAS = Formulas.merge(_iteration.FORMULAS, _steps.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
