r"""Width exponents of an abc-parameterised MLP after SGD steps, by power counting in sympy.

Model (Yang & Hu, arXiv:2011.14522v3, sec. 3): width-$n$ tanh-like MLP, fixed input dimension,
scalar output; layer $l$ has $W^l = n^{-a_l} w^l$, $w^l_{ij} \sim N(0, n^{-2b_l})$, learning rate
$\eta\,n^{-c_l}$; layers ``in`` (fan-in fixed), ``hid`` (every hidden-to-hidden layer), ``out``.
Every size is a power $n^{e}$ and sympy carries the exponents: a product multiplies powers, a sum
of $n$ terms of one sign (squares, or terms correlated through the update) is $n$ times a term,
a sum of $n$ terms of random sign is $n^{1/2}$ times a term (the central limit theorem), and a sum
of contributions of different sizes is the largest ($n^{\max e}$).

* Stable initialisation (activations $\Theta(1)$): $a_{in} + b_{in} = 0$, $a_{hid} + b_{hid} = 1/2$;
  ``_stable_init`` solves these for $b_{in}, b_{hid}$, so the Formulas take $a, c$ of those layers
  and $a_{out}, b_{out}$ (the readout's scale $\omega = a_{out} + b_{out}$ is free, $\ge 1/2$).
* Backward pass: $dh^L = W^{out}\odot\phi'$ has coordinates $n^{-\omega}$;
  $dh^{l-1} = W^{l\top} dh^l$ keeps that size (a random-sign sum of $n$ terms $n^{-1/2} dh^l$).
* One SGD step, residual $\chi = \Theta(1)$: $\Delta W^l = -\eta n^{-c_l-2a_l}\chi\, dh^l\otimes x^{l-1}$;
  the layer's own contribution to $\Delta h^l$ is $n^{-c_l-2a_l}\,dh^l\,(x^{l-1}\cdot x^{l-1})$
  ($x\cdot x$ is $\Theta(1)$ for the input, $n$ for a hidden layer); the contribution carried from
  below is $W^l\Delta x^{l-1}$, of the size of $\Delta x^{l-1}$; the output moves by
  $\Delta W^{out}x^L$ ($n^{1-c_{out}-2a_{out}}$) and $W^{out}\Delta x^L$ ($n\cdot n^{-\omega}\Delta x^L$:
  $\Delta x^L$ is correlated with $W^{out}$ through $dh^L$).
* Largest stable learning rate (SGD, MSE): GD on a fixed batch diverges when
  $\eta\lambda_{\max}(\Theta) > 2$, with the effective kernel $\Theta = \sum_l n^{-c_l}J_lJ_l^\top$
  (Jacobian with respect to $w^l$); $\Theta$'s entries scale as the largest
  $n^{-c_l-2a_l}|dh^l|^2|x^{l-1}|^2$, so $\eta_{\max} \propto n^{-e_\Theta}$.
* After the first step the readout has moved: $dh^L$ has size $n^{-\min(\omega, 2a_{out}+c_{out})}$,
  which gives Yang & Hu's feature-learning exponent $r$ (their Definition 3.2, number unconfirmed):
  $\Delta h^L = \Theta(n^{-r})$; stable iff $r \ge 0$, $\omega + r \ge 1$, $2a_{out} + c_{out} \ge 1$
  (their Theorem 3.3, number unconfirmed), feature learning iff $r = 0$.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.parameterisation._symbols import (a_hid, a_in, a_out, b_hid, b_in, b_out, c_hid, c_in, c_out,
                                                width)
from analytic.references import cite

FORMULAS = Formulas("parameterisation")

_HALF = sp.Rational(1, 2)
_CONDITIONS = ("stable initialisation a_in + b_in = 0, a_hid + b_hid = 1/2 (b_in, b_hid eliminated)",
               "input dimension and batch fixed as the width grows; residuals Theta(1)",
               "sizes up to width-independent constants: the exponent of width alone")


def exponent(size: sp.Expr) -> sp.Expr:
    """The exponent ``e`` of a size ``width**e`` (sympy ``expand_log`` of its logarithm)."""
    return sp.expand(sp.expand_log(sp.log(size), force=True) / sp.log(width))


def _largest(*sizes: sp.Expr) -> sp.Expr:
    """A sum of contributions of different sizes: the largest power of the width."""
    return width ** sp.Max(*(exponent(s) for s in sizes))


def _stable_init() -> dict:
    """Solve "activations Theta(1) at initialisation" for b_in and b_hid (``sp.solve``)."""
    x_in = width ** -(a_in + b_in)  # h^1 = W^in x: a fixed number of Theta(1) inputs
    x_hid = width**_HALF * width ** -(a_hid + b_hid)  # h^l = W^l x^{l-1}: n terms of random sign
    return sp.solve([sp.Eq(exponent(x_in), 0), sp.Eq(exponent(x_hid), 0)], [b_in, b_hid], dict=True)[0]


def _scale(layer: str) -> sp.Expr:
    """Coordinate size of ``W^l = width^-a w^l``."""
    a, b = {"in": (a_in, b_in), "hid": (a_hid, b_hid), "out": (a_out, b_out)}[layer]
    return width ** -(a + b)


def _first_step_sizes(hidden: bool, readout_moved: bool = False, adam: bool = False) -> tuple[sp.Expr, ...]:
    """Sizes of the change of h^1, h^L and f after one SGD step (``readout_moved``: at a later step;
    ``adam``: Adam's first step, which moves every coordinate of w^l by learning_rate * width^-c_l)."""
    n, fan_in = width, {"in": 1, "hid": width, "out": width}
    readout = _scale("out")
    if readout_moved:  # W^out_t = W^out_0 + Delta W^out, Delta W^out = n^(-2a - c) chi x^L
        readout = _largest(readout, width ** -(2 * a_out + c_out))
    dh_last = readout  # dh^L = W^out * phi'(h^L)
    dh_first = n**_HALF * _scale("hid") * dh_last if hidden else dh_last  # W^hid^T dh: random-sign sum

    def own(layer, a, c, dh):  # Delta W^l x^{l-1} = -eta n^(-c - 2a) chi dh^l (x^{l-1} . x^{l-1})
        if adam:  # Delta W^l = -eta n^(-c - a) sign(dh^l x^{l-1}): a coherent sum over the fan-in
            return n**-c * n**-a * fan_in[layer]
        return n**-c * n ** (-2 * a) * dh * fan_in[layer]

    first = own("in", a_in, c_in, dh_first)
    last = _largest(own("hid", a_hid, c_hid, dh_last), n**_HALF * _scale("hid") * first) if hidden else first
    output = _largest(own("out", a_out, c_out, 1), n * _scale("out") * last)
    return first, last, output


def _simplified(expr: sp.Expr) -> sp.Expr:
    return sp.expand(expr.subs(_stable_init()))


def feature_learning_exponent() -> sp.Expr:
    """Yang & Hu's ``r``: ``Delta h^L = Theta(width^-r)`` at steps after the first (sympy expression)."""
    return _simplified(-exponent(_first_step_sizes(hidden=True, readout_moved=True)[1]))


def kernel_exponent(hidden: bool) -> sp.Expr:
    """Exponent of the effective kernel ``sum_l width^-c_l J_l J_l^T`` at initialisation."""
    n, dh = width, _scale("out")
    dh_first = n**_HALF * _scale("hid") * dh if hidden else dh
    terms = [n**-c_in * n ** (-2 * a_in) * n * dh_first**2,  # |dh^1|^2 |x|^2, |dh^1|^2 = n dh^2
             n**-c_out * n ** (-2 * a_out) * n]  # |x^L|^2 = n
    if hidden:
        terms.append(n**-c_hid * n ** (-2 * a_hid) * n * dh**2 * n)
    return _simplified(exponent(_largest(*terms)))


def stability_conditions() -> dict[str, sp.Basic]:
    """Yang & Hu's conditions (sec. 3, Theorem 3.3; number unconfirmed) as sympy relations."""
    omega, r = a_out + b_out, feature_learning_exponent()
    return {
        "stable initialisation": sp.And(sp.Eq(a_in + b_in, 0), sp.Eq(a_hid + b_hid, _HALF), omega >= _HALF),
        "stable training": sp.And(r >= 0, omega + r >= 1, 2 * a_out + c_out >= 1),
        "nontrivial": sp.Or(sp.Eq(omega + r, 1), sp.Eq(2 * a_out + c_out, 1)),
        "feature learning": sp.Eq(r, 0),
    }


_SOURCE = "sec. 3 (abc-parameterisations, power counting of the first SGD step)"


@FORMULAS.register("activation_update_exponents")
def _activation_update_exponents() -> Formula:
    sizes = _first_step_sizes(hidden=True)
    return Formula(
        expr=tuple(_simplified(exponent(s)) for s in sizes),
        params=(a_in, c_in, a_hid, c_hid, a_out, b_out, c_out),
        source=cite("yang_hu_2020_abc", _SOURCE), derived=True,
        derivation="sympy power counting of one SGD step (module docstring), b_in and b_hid from sp.solve of "
                   "the stable-initialisation conditions",
        conditions=_CONDITIONS + ("an MLP with at least one hidden-to-hidden layer; the first SGD step",),
        description="width exponents of the RMS change of h^1, of the last hidden layer's h^L, and of the "
                    "output f, after one SGD step (the coordinate check)",
    )


@FORMULAS.register("adam_activation_update_exponents")
def _adam_activation_update_exponents() -> Formula:
    sizes = _first_step_sizes(hidden=True, adam=True)
    return Formula(
        expr=tuple(_simplified(exponent(s)) for s in sizes),
        params=(a_in, c_in, a_hid, c_hid, a_out, b_out, c_out),
        source=cite("yang_2022_mutransfer", "sec. 3 and Table 3 (muP for Adam; numbers unconfirmed)"), derived=True,
        derivation="sympy power counting of Adam's first step (sign descent: every coordinate of w^l moves by "
                   "learning_rate width^-c_l), b_in and b_hid from the stable-initialisation conditions",
        conditions=_CONDITIONS + ("an MLP with at least one hidden-to-hidden layer; Adam's first step from zero "
                                  "moments with epsilon negligible against |gradient|",),
        description="width exponents of the RMS change of h^1, h^L and f after Adam's first step",
    )


@FORMULAS.register("max_learning_rate_exponent")
def _max_learning_rate_exponent() -> Formula:
    return Formula(
        expr=-kernel_exponent(hidden=False), params=(a_in, c_in, a_out, b_out, c_out),
        source=cite("yang_hu_2020_abc", "sec. 3 (stability; the 2a_out + c_out >= 1 condition)"), derived=True,
        derivation="eta_max ~ 2 / lam_max of the effective kernel sum_l width^-c_l J_l J_l^T; its width exponent "
                   "by sympy power counting",
        conditions=_CONDITIONS + ("a two-layer network (input layer and readout); full-batch GD on MSE",),
        description="width exponent of the largest stable learning rate of a two-layer network",
    )


@FORMULAS.register("first_layer_movement_exponent")
def _first_layer_movement_exponent() -> Formula:
    n = width
    dh_first = _scale("out")  # two-layer: dh^1 = W^out * phi'
    update = n**-c_in * n**-a_in * n**_HALF * dh_first  # |Delta w^1|_F = eta n^(-c-a) |chi| |dh^1| |x|
    initial = n**-b_in * n**_HALF  # |w^1|_F: width * d entries of size n^-b
    return Formula(
        expr=_simplified(exponent(update / initial)), params=(a_in, c_in, a_out, b_out),
        source=cite("mei_montanari_nguyen_2018", "sec. 1 (the mean-field scaling (1/N) sum_i sigma(x; theta_i))"),
        derived=True,
        derivation="sympy power counting of |Delta w^1|_F / |w^1|_F after a fixed number of SGD steps",
        conditions=_CONDITIONS + ("a two-layer network; a fixed number of steps at a stable learning rate",),
        description="width exponent of the relative movement of the first layer's weights in training",
    )
