r"""Symbols of the curvature family alone (shared ones, ``eta``, ``lam``, ``t``, are in ``analytic.symbols``).

Gauss-Newton and Fisher: ``logit`` is a network's output $f$ read as the natural parameter of a
Bernoulli label (``label`` $y \in [0, 1]$); ``output`` and ``target`` are a regression output and
its target (squared loss).

Influence functions: ``influence_inner`` is $\nabla L_{\rm test}^\top H^{-1} \nabla \ell_i$;
``n_train`` the number of training points; for ridge regression ``test_residual`` is
$r_t = x_t^\top \hat w - y_t$, ``cross_response`` $c_i = r_i\, x_t^\top H^{-1} x_i$ and
``leverage`` $h_i = x_i^\top H^{-1} x_i / n$ (in $[0, 1)$), ``scaled_leverage`` $k_i = n h_i$.
"""

from sympy import Symbol

logit = Symbol("logit", real=True)  # network output f: the Bernoulli natural parameter (log-odds)
label = Symbol("label", nonnegative=True)  # the label y in [0, 1] (0/1, or a soft label)
output = Symbol("output", real=True)  # a regression network's output f
target = Symbol("target", real=True)  # its target y (squared loss (f - y)^2 / 2)
influence_inner = Symbol("influence_inner", real=True)  # grad L_test^T H^-1 grad l_i
n_train = Symbol("n_train", integer=True, positive=True)  # number of training points n
test_residual = Symbol("test_residual", real=True)  # r_t = x_t . w - y_t at the full-data fit
cross_response = Symbol("cross_response", real=True)  # c_i = r_i x_t^T H^-1 x_i
leverage = Symbol("leverage", nonnegative=True)  # h_i = x_i^T H^-1 x_i / n, in [0, 1)
scaled_leverage = Symbol("scaled_leverage", nonnegative=True)  # k_i = n h_i (O(1) as n grows)
