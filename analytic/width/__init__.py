r"""Width: finite-width fluctuations of deep networks at initialisation.

A bias-free MLP in NTK parameterisation of ``depth`` weight matrices and ``width`` units
per hidden layer (ReLU with $\sigma_w^2 = 2$, or linear). Sympy derives, from the layer
recursion of fourth moments (``_fluctuations``): the excess kurtosis of the output, exact at
finite width, $3[(1 + c/n)^{L-1} - 1]$ ($c = 5$ ReLU, $2$ linear); the relative variance of
the empirical NTK $\Theta(x, x)$ over random initialisations, exact for linear networks and
under the gradient-independence step for ReLU; and their leading coefficients in $L/n$
($4/3$ and $11/3$ for the NTK, $6$ and $15$ for the kurtosis): the ratio depth/width, not
depth alone, sets them (Hanin & Nica 2019, arXiv:1909.05989v1; Roberts, Yaida & Hanin 2021,
arXiv:2106.10165v2).

Example:
    >>> from analytic import width
    >>> width.output_excess_kurtosis_relu.expr
    3*(1 + 5/width)**(depth - 1) - 3
    >>> round(float(width.ntk_relative_variance_linear(width=2, depth=2)), 12)  # (a + b)/2, a, b ~ chi2_2/2
    0.5
    >>> width.ntk_variance_coefficient_relu.expr
    11/3
"""

from analytic._registry import Formulas
from analytic.width import _fluctuations
from analytic.width import _symbols as symbols
from analytic.width._fluctuations import ACTIVATIONS, unit_moments

__all__ = ["FORMULAS", "ACTIVATIONS", "unit_moments", "symbols"]

FORMULAS = Formulas.merge(_fluctuations.FORMULAS)
FORMULAS.publish(globals())
