r"""Implicit regularisation: what gradient descent minimises besides the loss.

Backward error analysis (Barrett and Dherin 2021, "Implicit Gradient Regularization",
arXiv:2009.11162v3): GD with step $\eta$ on $L$ stays $O(\eta^2)$ close, at a fixed
time, to the gradient flow of the modified loss
$$\tilde L = L + \frac{\eta}{4}\lVert\nabla L\rVert^2,$$
while the plain flow of $L$ is only $O(\eta)$ close. ``modified_loss(loss, params)``
derives $\tilde L$ for any loss written in sympy; ``modified_flow`` gives the modified
vector field to order $\eta^3$ (``_backward_error``). On scalar factorisation
$(w_1 w_2 - y)^2$ (``_factorisation``) the catalogue holds the loss, its modified
loss, and the exact per-step drift of the balance $w_1^2 - w_2^2$ under GD, which
the flow conserves (Du, Hu, Lee 2018, arXiv:1806.00900v2). ``gradient_flow``
integrates the flow of any loss Formula by RK4 in JAX (``_flows``). SGD with random
shuffling over $m$ minibatches (Smith, Dherin, Barrett, De 2021, arXiv:2101.12176v1)
follows, on average, $L + \frac{\eta}{4m}\sum_k\lVert\nabla L_k\rVert^2$:
``sgd_modified_loss(minibatch_losses, params)`` derives it (``_sgd``).

Example:
    >>> import sympy as sp
    >>> from analytic import implicit
    >>> w = sp.Symbol("w", real=True)
    >>> implicit.modified_loss(sp.cos(w), [w])   # L + eta/4 L'^2
    eta*sin(w)**2/4 + cos(w)
    >>> implicit.factorisation_balance_drift.expr
    -4*eta**2*(w1 - w2)*(w1 + w2)*(-w1*w2 + y)**2
"""

from analytic._registry import Formulas
from analytic.implicit import _factorisation, _sgd
from analytic.implicit import _symbols as symbols
from analytic.implicit._backward_error import modified_flow, modified_loss
from analytic.implicit._balance import deep_linear_balance_drift
from analytic.implicit._flows import gradient_flow
from analytic.implicit._sgd import LEAST_SQUARES_BATCHES, LEAST_SQUARES_TARGETS, sgd_modified_loss

__all__ = ["FORMULAS", "modified_loss", "modified_flow", "gradient_flow", "sgd_modified_loss",
           "LEAST_SQUARES_BATCHES", "LEAST_SQUARES_TARGETS", "deep_linear_balance_drift", "symbols"]

FORMULAS = Formulas.merge(_factorisation.FORMULAS, _sgd.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
