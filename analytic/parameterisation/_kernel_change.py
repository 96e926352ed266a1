r"""Width exponent of the relative change of the empirical NTK over a fixed number of steps.

The kernel of a parameterisation is the one of its gradient descent in function space,
$K = \sum_l n^{-c_l} J_l J_l^\top$ ($J_l$ the Jacobian of the outputs with respect to $w^l$; Yang &
Hu, arXiv:2011.14522v3, sec. 3 for the abc-parameterisation; Lee et al. 2019, arXiv:1902.06720v4,
Thm 2.1 and Dyer & Gur-Ari, arXiv:1909.11304v1 for its change being $O(1/n)$ in the NTK
parameterisation). For a two-layer network $f = n^{-a_{out}} w^{out}\cdot\phi(h)$,
$h = n^{-a_{in}} w^{in}x$:

$$K_{in} = n^{-c_{in}-2a_{in}}(x\cdot x')\sum_j (W^{out}_j)^2\phi'_j\phi'_j \sim n^{1-c_{in}-2a_{in}-2\omega},\qquad
  K_{out} = n^{-c_{out}-2a_{out}}\sum_j \phi_j\phi_j \sim n^{1-c_{out}-2a_{out}}.$$

After a fixed number of steps at a learning rate $\Theta(1)$ each hidden coordinate has moved by
$\delta$ and the readout by $\Delta W$, relative $r = \Delta W / n^{-\omega}$:

* SGD: $\Delta W = n^{-2a_{out}-c_{out}}$, $\delta = n^{-c_{in}-2a_{in}}\,|W^{out}_T|$ with
  $|W^{out}_T|$ the larger of $n^{-\omega}$ and $\Delta W$ (the family's movement exponents);
* Adam (sign descent, every coordinate of $w^l$ moves by $\eta n^{-c_l}$): $\Delta W = n^{-a_{out}-c_{out}}$,
  $\delta = n^{-a_{in}-c_{in}}$ (a coherent sum over the fixed fan-in).

$\delta_j$ carries the random sign of $W^{out}_j$; only the part of it correlated with $\phi_j$, a
fraction $\min(1, r)$, sums coherently. The relative changes are then the largest of: first order,
random sign ($n^{1/2}$ terms of $n$): $n^{-1/2}\delta$ (both kernels), $n^{-1/2}r$ ($K_{in}$);
first order, coherent: $\delta\min(1, r)$; second order, coherent: $\delta^2$, $r^2$ ($K_{in}$).
The change of $K$ is the larger of the two kernels' absolute changes over the larger kernel.
In the NTK parameterisation every term is $n^{-1}$ (Dyer & Gur-Ari's $1/n$, not Lee et al.'s
bound $n^{-1/2}$); in mean-field and muP $\Theta(1)$; Adam in muP for Adam $\Theta(1)$, NTK with
its largest stable Adam rate ($c = 1/2$) $n^{-1}$.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.parameterisation._exponents import _CONDITIONS, _simplified
from analytic.parameterisation._symbols import a_in, a_out, b_out, c_in, c_out
from analytic.references import cite

FORMULAS = Formulas("parameterisation")
_HALF = sp.Rational(1, 2)
# The exponent is a difference of Max terms that each hold +-2 b_out, +-2 c_out, ...: beyond exponents of
# size ~1e13 float64 cancels them away. Width exponents of a parameterisation are a few units at most
# (width**100 already overflows at width 2**11), so the Formula is declared on |exponent| <= 100.
_EXPONENT_DOMAIN = sp.Interval(-100, 100)


def kernel_change_power(adam: bool) -> sp.Expr:
    """Exponent ``e`` of ``|K_T - K_0| / |K_0| ~ width**e`` after a fixed number of SGD (or Adam) steps,
    two layers. Sizes are carried by their exponents: a product adds them, the largest of several
    contributions is their ``Max`` (the cheap form of ``_exponents``' ``width**Max`` bookkeeping)."""
    omega = a_out + b_out  # W^out_0 = width^-omega
    if adam:  # every coordinate of w^l moves by learning_rate width^-c_l
        readout_move, hidden_move = -(a_out + c_out), -(a_in + c_in)
    else:  # dW^out = width^(-2a - c) chi x^L; dh = width^(-c - 2a) chi W^out_T (x . x)
        readout_move = -(2 * a_out + c_out)
        hidden_move = -(c_in + 2 * a_in) + sp.Max(-omega, readout_move)
    relative_readout = readout_move + omega
    coherent = hidden_move + sp.Min(0, relative_readout)  # the part of dh_j correlated with phi_j
    kernel_in, kernel_out = 1 - c_in - 2 * a_in - 2 * omega, 1 - c_out - 2 * a_out
    change_out = sp.Max(hidden_move - _HALF, coherent, 2 * hidden_move)
    change_in = sp.Max(change_out, relative_readout - _HALF, 2 * relative_readout)
    return sp.Max(kernel_in + change_in, kernel_out + change_out) - sp.Max(kernel_in, kernel_out)


def _formula(adam: bool) -> Formula:
    name = "Adam" if adam else "SGD"
    return Formula(
        expr=_simplified(kernel_change_power(adam)), params=(a_in, c_in, a_out, b_out, c_out),
        source=cite("yang_hu_2020_abc", "sec. 3 (abc-parameterisations; kernel regime vs feature learning)"),
        derived=True,
        derivation=f"sympy power counting of the first- and second-order changes of K_in and K_out after a fixed "
                   f"number of {name} steps (module docstring)",
        conditions=_CONDITIONS + (f"a two-layer network trained by full-batch {name} for a fixed number of steps "
                                  "at a stable, width-independent learning rate; odd activation (tanh)",
                                  "exponents within [-100, 100] (float64 cancellation of the Max terms beyond)"),
        domains={str(s): _EXPONENT_DOMAIN for s in (a_in, c_in, a_out, b_out, c_out)},
        description=f"width exponent of the relative change of the empirical NTK sum_l width^-c_l J_l J_l^T "
                    f"over a fixed number of {name} steps, two-layer network",
    )


@FORMULAS.register("kernel_change_exponent")
def _kernel_change_exponent() -> Formula:
    return _formula(adam=False)


@FORMULAS.register("adam_kernel_change_exponent")
def _adam_kernel_change_exponent() -> Formula:
    return _formula(adam=True)
