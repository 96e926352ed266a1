r"""The catapult phase: GD above 2/lam0 on a wide network, in the solvable uv model.

Model statement (Lewkowycz, Bahri, Dyer, Sohl-Dickstein, Gur-Ari 2020,
arXiv:2003.02218v1, sec. 2): $f = v\cdot u/\sqrt n$ with $u, v\in\mathbb R^n$, one
example with label $y$, loss $\tfrac12(f-y)^2$, full-batch GD with rate $\eta$, NTK
$\lambda = (|u|^2+|v|^2)/n$. sympy substitutes one GD step into $f$ and $\lambda$ and
obtains the exact two-scalar map ``uv_map``; with $r = f - y$,

$$f' = f - \eta\lambda r + \eta^2 r^2 f/n,\qquad
  \lambda' = \lambda + \frac{\eta r}{n}(\eta r\lambda - 4f).$$

From it (label 0): the output's linear multiplier $1-\eta\lambda_0$ reaches $-1$ at
``critical_lr`` $=2/\lambda_0$ (lazy below: $\lambda$ stays at $\lambda_0$); above it
$f$ grows until $f^2/n$ is $O(1)$ and $\lambda$ falls below $2/\eta$ (the catapult),
which is possible only while $\eta\lambda < 4$: ``max_lr`` $=4/\lambda_0$ (divergent at
and above it). For a network on $m$ examples with the summed loss
$\tfrac12\sum(f-y)^2$, $\lambda_0$ is the top eigenvalue of the NTK Gram matrix (with a
mean loss the boundaries become $2m/\lambda_0$ and $4m/\lambda_0$).

Modules: ``_uv_model`` (the derivation and Formulas), ``_trajectory``
(``uv_trajectory``, ``phase``), ``_symbols``.

Example:
    >>> from analytic import catapult
    >>> catapult.critical_lr.expr, catapult.max_lr.expr
    (2/lam0, 4/lam0)
    >>> catapult.phase(eta=2.5, lam0=1.0)
    'catapult'
    >>> f, lam = catapult.uv_trajectory(eta=0.5, lam0=1.0, f0=0.5, n=100, steps=2)
    >>> lam.shape
    (3,)
"""

from analytic._registry import Formulas
from analytic.catapult import _uv_model
from analytic.catapult import _symbols as symbols
from analytic.catapult._trajectory import PHASES, phase, uv_trajectory

__all__ = ["FORMULAS", "PHASES", "phase", "symbols", "uv_trajectory"]

FORMULAS = Formulas.merge(_uv_model.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
