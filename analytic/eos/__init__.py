r"""The edge of stability: the sharpness at which GD and momentum stop being stable.

On a quadratic with top Hessian eigenvalue (sharpness) $S$, GD with rate $\eta$ is
stable exactly when $S < 2/\eta$; heavy ball with momentum $\beta$ when
$S < (2+2\beta)/\eta$; Nesterov when $S < (2+2\beta)/((1+2\beta)\eta)$. Each is
derived by sympy as the $\lambda$ where the per-mode iteration matrix has eigenvalue
$-1$. Cohen, Kaur, Li, Kolter, Talwalkar 2021 (arXiv:2103.00065v3) observe that
full-batch GD on neural networks sharpens progressively until $S$ reaches the
threshold and then hovers there while the loss keeps falling non-monotonically.
The sharpness of a trained network is measured by ``numeric.sharpness``.

Modules: ``_stability`` (iteration matrices, characteristic polynomials, thresholds).

Example:
    >>> from analytic import eos
    >>> eos.gd_sharpness_threshold.expr
    2/eta
    >>> eos.heavy_ball_sharpness_threshold(eta=0.1, beta=0.9)
    Array(38., dtype=float64)
"""

from analytic._registry import Formulas
from analytic.eos import _stability
from analytic.eos._stability import METHODS, characteristic_polynomial, iteration_matrix

__all__ = ["FORMULAS", "METHODS", "characteristic_polynomial", "iteration_matrix"]

FORMULAS = Formulas.merge(_stability.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
