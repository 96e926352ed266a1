r"""Width exponent of Adam's largest stable learning rate, from the preconditioned sharpness.

Adam with the preconditioner frozen (Cohen et al. 2022, arXiv:2207.14484v2, sec. 2, eq. (1); the
``optimizers`` family derives the threshold) is stable on a quadratic iff the preconditioned
sharpness $\lambda_{\max}(P^{-1}H)$ is below $2(1+\beta_1)/(\eta(1-\beta_1))$. For an
abc-parameterised two-layer network (Yang & Hu, arXiv:2011.14522v3, sec. 3) trained by Adam with
the per-layer learning rate $\eta\,n^{-c_l}$, $P^{-1} = n^{-c_l}/\sqrt{v}$ coordinatewise, and with
MSE's Gauss-Newton $H = J^\top J$ the nonzero spectrum of $P^{-1}H$ is that of the preconditioned
kernel

$$S = \sum_l n^{-c_l} J_l\,\mathrm{diag}(1/\sqrt{v_l})\,J_l^\top .$$

Power counting (the family's rules): early in training $\sqrt{v_l} \approx |g_l|$, the gradient
coordinate $g_l = J_l^\top\chi$, of the size $j_l$ of an entry of $J_l$ (residual $\chi = \Theta(1)$);
so each of the layer's ``count_l`` coordinates adds $j_l^2/j_l = j_l$ to an entry of $S$, all with
one sign (for one example the term is $|J_l|$): a coherent sum, $S_l \sim n^{-c_l}\,
\mathrm{count}_l\, j_l$. Input layer: ``count`` $= d\,n$, $j = n^{-a_{in}}\,|dh^1|\,|x| = n^{-a_{in}-\omega}$
($\omega = a_{out} + b_{out}$); readout: ``count`` $= n$, $j = n^{-a_{out}}|\phi(h)| = n^{-a_{out}}$.
Then $\eta_{\max}$ solves $\lambda_{\max}(S) = $ threshold, and its width exponent is minus that
of $S$: Adam's edge is set by how far one Adam step moves the output, which is why the exponents
are those of Adam's first-step output change (``adam_activation_update_exponents``' third entry,
two-layer).
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.parameterisation._exponents import _CONDITIONS, _largest, _simplified
from analytic.parameterisation._symbols import a_in, a_out, b_out, c_in, c_out, width
from analytic.references import cite

FORMULAS = Formulas("parameterisation")


def preconditioned_kernel_size() -> sp.Expr:
    """Size ``width**e`` of Adam's preconditioned kernel ``sum_l width^-c_l J_l diag(1/sqrt(v_l)) J_l^T``
    (two-layer network, preconditioner at its early value ``sqrt(v) = |gradient|``)."""
    n = width
    entry_in, entry_out = n**-a_in * n ** -(a_out + b_out), n**-a_out  # sizes of J_l's entries
    count_in, count_out = n, n  # coordinates of w^in (fixed input dimension times width) and of w^out
    # each coordinate adds J_i J_j / |g| ~ entry (same sign for one example): a coherent sum over the layer
    return _largest(n**-c_in * count_in * entry_in, n**-c_out * count_out * entry_out)


def width_log_slope(size: sp.Expr) -> sp.Expr:
    """The coefficient of ``log(width)`` in ``log(size)``: the width exponent of an expression that
    also holds other positive symbols (a width-independent prefactor drops out)."""
    return sp.expand(sp.expand_log(sp.log(size), force=True)).coeff(sp.log(width))


@FORMULAS.register("adam_max_learning_rate_exponent")
def _adam_max_learning_rate_exponent() -> Formula:
    from analytic import optimizers  # the threshold on the preconditioned sharpness (public Formula)

    threshold = optimizers.adam_sharpness_threshold  # lam_max(P^-1 H) < threshold(eta, beta1)
    eta = threshold.params[0]
    sharpness = sp.Symbol("sharpness_prefactor", positive=True) * preconditioned_kernel_size()
    # the threshold is (a function of beta1) / eta, so the edge lam_max(P^-1 H) = threshold solves as
    # eta_max = (eta threshold) / lam_max (sp.solve would do the same, ten times slower)
    per_unit_rate = sp.cancel(threshold.expr * eta)
    if per_unit_rate.has(eta):
        raise ArithmeticError(f"adam_max_learning_rate_exponent: threshold {threshold.expr} is not c / eta")
    eta_max = per_unit_rate / sharpness
    return Formula(
        expr=_simplified(width_log_slope(eta_max)), params=(a_in, c_in, a_out, b_out, c_out),
        source=cite("yang_2022_mutransfer", "sec. 3 (muP for Adam; Table 3, number unconfirmed); the threshold: "
                    "Cohen et al. 2022 via optimizers.adam_sharpness_threshold"), derived=True,
        derivation="sympy power counting of the preconditioned kernel sum_l width^-c_l J_l diag(1/|g_l|) J_l^T; "
                   "optimizers.adam_sharpness_threshold (c(beta1) / eta) = that kernel's scale solved for eta; "
                   "d log eta_max / d log width",
        conditions=_CONDITIONS + ("a two-layer network trained by full-batch Adam on MSE; the preconditioner "
                                  "at its early value sqrt(v) = |gradient| (epsilon negligible)",),
        description="width exponent of Adam's largest stable learning rate, two-layer network",
    )
