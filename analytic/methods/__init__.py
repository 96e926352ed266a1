r"""Methods the catalogue did not have, derived by :func:`analytic.linear_method`.

Each method is written once as its update rule on the one-mode quadratic
$\tfrac12\lambda x^2$; ``linear_method`` derives its iteration matrix, characteristic
polynomial, spectral radius (every root regime), Jury stability margins, critical step
and worst-case rate over $\lambda \in [\mu, L]$. The Formulas here are those
derivations, registered so that checks can declare them (``methods.qhm_spectral_radius``).

Methods: quasi-hyperbolic momentum (Ma and Yarats 2019, arXiv:1810.06801v4), ``qhm()``.

Example:
    >>> from analytic import methods
    >>> methods.qhm_critical_alpha.expr          # p(-1) = 0 solved for alpha
    -2*(beta + 1)/(lam*(2*beta*nu - beta - 1))
    >>> methods.qhm_spectral_radius(alpha=0.5, beta=0.9, nu=0.7, lam=1.0)  # complex: sqrt(det M)
    Array(0.87464278, dtype=float64)
"""

from analytic.methods import _qhm
from analytic.methods import _symbols as symbols
from analytic.methods._qhm import qhm, qhm_update

__all__ = ["FORMULAS", "qhm", "qhm_update", "symbols"]

FORMULAS = _qhm.FORMULAS
__getattr__ = FORMULAS.module_getattr(__name__)
