r"""Adaptive and second-order optimisers: Adam's stability threshold and noise floor, natural gradient.

Model statements.

* Adam / RMSprop with a frozen diagonal preconditioner $P$ and EMA momentum
  $m \leftarrow \beta_1 m + (1-\beta_1)g$, $\theta \leftarrow \theta - \eta P^{-1}m$: on a
  quadratic, each eigen-direction of $P^{-1}H$ (eigenvalue $\lambda$) is a 2x2 linear
  recursion; its characteristic polynomial has a root at $-1$ exactly when
  $\lambda = (2+2\beta_1)/((1-\beta_1)\eta)$ (38/eta at beta1 = 0.9): the threshold on the
  preconditioned sharpness (Cohen et al. 2022, arXiv:2207.14484v2, sec. 2).
* Adam under stationary white gradient noise with $\beta_2\to1$: the per-coordinate update
  has RMS $\eta\sqrt{(1-\beta_1)/(1+\beta_1)}$ (stationary AR(1) variance; Kingma and Ba
  2014, arXiv:1412.6980v9, Algorithm 1 is the update rule).
* Damped natural gradient (= damped Gauss-Newton for squared loss) on least squares:
  per-mode contraction $|1-\eta\lambda/(\lambda+\delta)|$, which at $\delta = 0$ does not
  depend on $\lambda$, hence not on the condition number (Martens 2014,
  arXiv:1412.1193v11, sec. 9-10).
* With finite $\beta_2$, to first order in $1-\beta_2$ (Gaussian noise):
  $\eta\sqrt{\beta_2(1-\beta_1)/(1+\beta_1)}$.
* Learning-rate schedules on the noisy quadratic model (Zhang et al. 2019,
  arXiv:1907.04164v2): the NQM moment map composed with any schedule gives the exact
  expected loss; the best step-decay point for a budget; in one dimension the optimal decay
  step in closed form, independent of the budget.

Modules: ``_adam`` (EMA-momentum iteration matrix, threshold, noise RMS),
``_second_order`` (natural gradient), ``_schedules`` (schedules on the NQM), ``_symbols``.

Example:
    >>> from analytic import optimizers
    >>> optimizers.adam_sharpness_threshold(eta=0.5, beta1=0.9)   # 38 / eta
    Array(76., dtype=float64)
    >>> optimizers.adam_sharpness_threshold.expr
    (2*beta1 + 2)/(eta*(1 - beta1))
    >>> optimizers.natural_gradient_rate(eta=0.5, lam=[0.01, 1.0, 100.0], damping=0.0)
    Array([0.5, 0.5, 0.5], dtype=float64)
"""

from analytic._registry import Formulas
from analytic.optimizers import _adam, _schedules, _second_order
from analytic.optimizers import _symbols as symbols
from analytic.optimizers._schedules import StepDecay, best_step_decay, scheduled_expected_loss

__all__ = ["FORMULAS", "symbols", "scheduled_expected_loss", "StepDecay", "best_step_decay"]

FORMULAS = Formulas.merge(_adam.FORMULAS, _second_order.FORMULAS, _schedules.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
