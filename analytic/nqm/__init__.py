r"""The noisy quadratic model (NQM): SGD, heavy-ball momentum and preconditioning.

Model statement (Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse 2019,
"Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a Noisy
Quadratic Model", arXiv:1907.04164v2, sec. 3). The loss is separable,
$L(\theta) = \tfrac12\sum_i h_i\theta_i^2$, and a mini-batch of size $B$ returns
the gradient $g_i = h_i\theta_i + \xi_i$ with $\mathbb E\,\xi_i = 0$,
$\operatorname{Var}\xi_i = c_i/B$, independent across steps and dimensions (the
paper takes $c_i = h_i$; here $c$ stays general). The optimiser, per dimension, is
preconditioned heavy-ball momentum

$$\theta_{t+1} = \theta_t - \alpha h^{-p} g_t + \beta(\theta_t - \theta_{t-1}),$$

which is SGD at $\beta = p = 0$. Every dimension evolves on its own, so every
Formula is per dimension; a spectrum is a sum over dimensions.

What sympy derives, from that update rule alone (``_moments``): the closed linear
system of the second moments (``nqm.second_moment_step``); for SGD its solution by
``rsolve`` (``nqm.sgd_mean``, ``nqm.sgd_expected_loss``); the stability limit (Jury
criterion on the mean recursion, ``nqm.max_stable_lr``); the steady-state losses as
fixed points (``nqm.{sgd,momentum,preconditioned}_steady_state_loss``). Composites:
the exact loss curve over a spectrum (``_curves``: :func:`expected_loss_curve`) and
steps to a target loss tuned per batch size, with the critical batch size of
McCandlish, Kaplan, Amodei et al. 2018, arXiv:1812.06162v1, sec. 2.2 (``_steps``).

Example:
    >>> from analytic import nqm
    >>> nqm.sgd_steady_state_loss(alpha=0.5, h=1.0, c=1.0, B=4.0)   # alpha c / (2 B (2 - alpha h))
    Array(0.04166667, dtype=float64)
    >>> nqm.max_stable_lr(beta=0.5, p=0.0, h=2.0)   # 2 (1 + beta) / h
    Array(1.5, dtype=float64)
"""

from analytic._registry import Formulas
from analytic.nqm import _moments
from analytic.nqm import _symbols as symbols
from analytic.nqm._curves import check_hyperparameters, check_spectrum, expected_loss_curve
from analytic.nqm._moments import SOURCE, mean_characteristic_polynomial, moment_matrix
from analytic.nqm._steps import (TunedSteps, critical_batch_size, learning_rate_grid, steps_to_target,
                                 tuned_steps_to_target)

__all__ = ["FORMULAS", "SOURCE", "expected_loss_curve", "moment_matrix", "mean_characteristic_polynomial",
           "check_spectrum", "check_hyperparameters", "steps_to_target", "TunedSteps", "learning_rate_grid",
           "tuned_steps_to_target", "critical_batch_size", "symbols"]

FORMULAS = Formulas.merge(_moments.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
