r"""Normalisation, weight decay and dropout: scale invariance, rotational equilibrium, dropout ridge.

Model statements.

* Scale invariance (a linear layer followed by batch or layer norm): $L(cw) = L(w)$, so
  $g\perp w$ and $|g|\propto 1/|w|$; without weight decay GD grows the norm by exactly
  $|w_{t+1}|^2 = |w_t|^2 + \eta^2|g_t|^2$ and the effective learning rate $\eta/|w|^2$
  decays (Arora, Li, Lyu 2019, arXiv:1812.03981v2).
* With weight decay the norm and the angular update settle: per step,
  $\sqrt{2\eta\lambda/(1+\beta)}$ for PyTorch-form momentum (Wan et al. 2021,
  arXiv:2006.08419v4), $\sqrt{2\eta\lambda(1-\beta)/(1+\beta)}$ for EMA momentum, and
  to leading order $\sqrt{2\eta\lambda(1-\beta_1)/(1+\beta_1)}$ for AdamW (Kosson,
  Messmer, Jaggi 2024, arXiv:2305.17212v4), derived from the stationary second-moment
  recursions.
* The time to reach it: $\lVert w\rVert^4$ relaxes to its equilibrium at rate
  $4\eta\lambda/(1-\beta)$ per step (PyTorch-form momentum; exactly exponential in SGD's
  flow limit with a stationary scale-free gradient norm). For AdamW the exact norm balance
  $E\lVert w'\rVert^2 = E\lVert w\rVert^2$ gives the equilibrium norm from the measured
  $E\lVert u\rVert^2$ and $E\langle w, u\rangle/\lVert w\rVert$ of its direction $u$.
* Dropout with drop probability $p$ and inverted scaling on least squares adds the ridge
  $\frac{p}{1-p}\sum_j (X^\top X)_{jj}w_j^2$ (Srivastava et al. 2014, sec. 9.1;
  Wager, Wang, Liang 2013, arXiv:1307.1493v2).

Modules: ``_scale_invariance`` (norm growth, equilibria, AdamW balance), ``_relaxation``
(time to equilibrium), ``_dropout`` (dropout ridge and
its fixed point), ``_symbols``.

Example:
    >>> from analytic import normalization
    >>> normalization.equilibrium_angular_update.expr
    sqrt(2)*sqrt(eta)*sqrt(wd)/sqrt(beta + 1)
    >>> normalization.equilibrium_angular_update(eta=0.1, wd=5e-4, beta=0.9)
    Array(0.00725476, dtype=float64)
    >>> normalization.equilibrium_relaxation_rate(eta=0.5, wd=4e-3, beta=0.0)
    Array(0.008, dtype=float64)
    >>> normalization.dropout_ridge_penalty.expr
    p/(1 - p)
    >>> normalization.dropout_ridge_penalty(p=0.5)
    Array(1., dtype=float64)
"""

from analytic._registry import Formulas
from analytic.normalization import _dropout, _relaxation, _scale_invariance
from analytic.normalization import _symbols as symbols
from analytic.normalization._dropout import dropout_fixed_point

__all__ = ["FORMULAS", "dropout_fixed_point", "symbols"]

FORMULAS = Formulas.merge(_scale_invariance.FORMULAS, _relaxation.FORMULAS, _dropout.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
