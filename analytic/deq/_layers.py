r"""Fixed points of a weight-tied layer and their gradients: implicit (IFT) and unrolled.

A deep equilibrium model (Bai, Kolter & Koltun 2019, arXiv:1909.01377v2) outputs the fixed
point $z^\star = f(z^\star; \theta)$ of one layer applied "infinitely often", and trains by
the implicit function theorem (their Theorem 1): differentiating $z^\star = f(z^\star;\theta)$,
$$\frac{dz^\star}{d\theta} = \Bigl(I - \frac{\partial f}{\partial z}\Bigr)^{-1}
\frac{\partial f}{\partial\theta}\Big|_{z^\star},$$
which backpropagation through $k$ unrolled steps $z_{j+1} = f(z_j)$ approaches as
$k\to\infty$. Here the layer is scalar, $\theta$ is its tied ``weight`` $w$ and the input
enters as a ``drive`` $x$:

* linear, $f(z) = w z + x$ ($|w| < 1$): sympy solves $z^\star = x/(1-w)$, applies the IFT,
  $dz^\star/dw = x/(1-w)^2$, solves the unrolled recurrence with ``rsolve``
  ($z_k = w^k z_0 + x(1-w^k)/(1-w)$) and differentiates it: the unrolled gradient's error is
  $$\frac{dz_k}{dw} - \frac{dz^\star}{dw} = w^{k-1}\bigl[k\,(z_0 - z^\star) - w\,
  \tfrac{dz^\star}{dw}\bigr]:$$
  $c\,k\,\rho^{k-1}$ with $c = z_0 - z^\star$ from a start $z_0 \ne z^\star$, and only
  $-\rho^k\,dz^\star/dw$ when the unroll starts at the fixed point ($\rho = |w|$);
* tanh, $f(z) = \tanh(wz + x)$: with $\tanh' = 1 - \tanh^2 = 1 - z^{\star 2}$ at the fixed
  point, the IFT gives $dz^\star/dw = z^\star(1 - z^{\star2})/(1 - w(1 - z^{\star2}))$ and the
  contraction rate is $\rho = f'(z^\star) = w(1 - z^{\star2})$; started at $z^\star$ (held
  constant in $w$) the tangent recurrence $d_{j+1} = \rho\,d_j + \partial_w f$ is linear, and
  its ``rsolve`` gives the exact error $-\rho^k\,dz^\star/dw$. From $z_0 \ne z^\star$ the error
  is $(c\,k + d)\rho^{k-1}$ up to $O(\rho^{2k})$ (not in closed form: the check fits $\rho$).
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.deq._symbols import drive, fixed_point, k, start, weight
from analytic.formula import Formula
from analytic.references import cite

FORMULAS = Formulas("deq")

_z = sp.Symbol("z", real=True)  # the layer's state (a dummy of the derivation)
_CONTRACTION = (("weight", sp.Interval.open(-1, 1)),)
_TANH_DOMAINS = (("weight", sp.Interval.open(-1, 1)), ("fixed_point", sp.Interval.open(-1, 1)))


def _linear_layer(z):
    return weight * z + drive


def _ift(layer, at) -> sp.Expr:
    """dz*/dweight = -(d(f - z)/dz)^-1 d(f - z)/dweight at the fixed point ``at``."""
    residual = layer(_z) - _z
    return (-sp.diff(residual, weight) / sp.diff(residual, _z)).subs(_z, at)


def _linear_fixed_point_expr() -> sp.Expr:
    (solution,) = sp.solve(sp.Eq(_linear_layer(_z), _z), _z)
    return solution


def _linear_unrolled(steps) -> sp.Expr:
    """z_steps of z_{j+1} = weight z_j + drive from z_0 = start (rsolve)."""
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    return sp.rsolve(f(n + 1) - _linear_layer(f(n)), f(n), {f(0): start}).subs(n, steps)


_LINEAR = "scalar weight-tied linear layer z <- weight z + drive, |weight| < 1"
_TANH = "scalar weight-tied layer z <- tanh(weight z + drive), |weight| < 1 (a contraction)"


@FORMULAS.register("linear_fixed_point")
def _linear_fixed_point() -> Formula:
    return Formula(
        expr=_linear_fixed_point_expr(), params=(weight, drive), domains=_CONTRACTION,
        evaluate_as=drive / (1 - weight),
        source=cite("bai2019", "sec. 3.1 (the equilibrium z* = f(z*; x))"), derived=True,
        derivation="sympy solve of weight z + drive = z", conditions=(_LINEAR,),
        description="fixed point z* = drive / (1 - weight) of the linear layer",
    )


@FORMULAS.register("linear_ift_gradient")
def _linear_ift_gradient() -> Formula:
    return Formula(
        expr=sp.simplify(_ift(_linear_layer, _linear_fixed_point_expr())), params=(weight, drive),
        domains=_CONTRACTION, evaluate_as=drive / (1 - weight) ** 2,
        source=cite("bai2019", "Theorem 1 (implicit backward pass)"), derived=True,
        derivation="implicit function theorem on weight z + drive - z = 0 at z* (sympy diff, solve)",
        conditions=(_LINEAR, "the limit k -> oo of the unrolled gradient"),
        description="dz*/dweight of the linear layer's fixed point (implicit function theorem)",
    )


@FORMULAS.register("linear_unrolled_error")
def _linear_unrolled_error() -> Formula:
    error = sp.simplify(sp.diff(_linear_unrolled(k), weight) - _ift(_linear_layer, _linear_fixed_point_expr()))
    gradient = drive / (1 - weight) ** 2
    return Formula(
        expr=error, params=(weight, drive, start, k), domains=_CONTRACTION,
        evaluate_as=weight ** (k - 1) * (k * (start - drive / (1 - weight)) - weight * gradient),
        source=cite("bai2019", "sec. 3.1.3 (unrolled vs implicit gradient)"), derived=True,
        derivation="sympy rsolve of z_{j+1} = weight z_j + drive (z_0 = start), d/dweight of z_k, minus the IFT "
                   "gradient; = weight^(k-1) [k (start - z*) - weight dz*/dweight]",
        conditions=(_LINEAR, "start held constant in weight; start = z* leaves -weight^k dz*/dweight"),
        description="error dz_k/dweight - dz*/dweight of backpropagation through k unrolled steps",
    )


def _tanh_layer(z):
    return sp.tanh(weight * z + drive)


def _at_tanh_fixed_point(expr: sp.Expr) -> sp.Expr:
    """Replace tanh(weight z + drive) by z (the fixed point), then z by ``fixed_point``."""
    return expr.subs(sp.tanh(weight * _z + drive), _z).subs(_z, fixed_point)


def _stable_tanh_gradient() -> sp.Expr:
    """z(1-z)(1+z) / ((1-weight) + weight z^2): no cancellation as weight -> 1 or z -> +-1."""
    return fixed_point * (1 - fixed_point) * (1 + fixed_point) / ((1 - weight) + weight * fixed_point**2)


@FORMULAS.register("tanh_ift_gradient")
def _tanh_ift_gradient() -> Formula:
    residual = _tanh_layer(_z) - _z
    gradient = sp.simplify(_at_tanh_fixed_point(-sp.diff(residual, weight) / sp.diff(residual, _z)))
    return Formula(
        expr=gradient, params=(weight, fixed_point), domains=_TANH_DOMAINS, evaluate_as=_stable_tanh_gradient(),
        source=cite("bai2019", "Theorem 1 (implicit backward pass)"), derived=True,
        derivation="implicit function theorem on tanh(weight z + drive) - z = 0 (sympy diff), with "
                   "tanh(weight z* + drive) = z* substituted",
        conditions=(_TANH, "fixed_point is the layer's z* for the drive in use"),
        description="dz*/dweight of the tanh layer's fixed point, in terms of z*",
    )


@FORMULAS.register("tanh_contraction_rate")
def _tanh_contraction_rate() -> Formula:
    return Formula(
        expr=_at_tanh_fixed_point(sp.diff(_tanh_layer(_z), _z)), params=(weight, fixed_point),
        domains=_TANH_DOMAINS, evaluate_as=weight * (1 - fixed_point) * (1 + fixed_point),
        source=cite("bai2019", "sec. 3.1 (fixed-point iteration)"), derived=True,
        derivation="sympy diff of tanh(weight z + drive) in z at the fixed point",
        conditions=(_TANH, "the unrolled error decays as rate^k (times k from a start off z*)"),
        description="f'(z*) = weight (1 - z*^2): the local rate of the fixed-point iteration",
    )


@FORMULAS.register("tanh_unrolled_error_from_fixed_point")
def _tanh_unrolled_error_from_fixed_point() -> Formula:
    rho, s = sp.Symbol("rho", real=True), sp.Symbol("s", real=True)  # f_z and f_weight at z*
    n, d = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("d")
    tangent = sp.rsolve(d(n + 1) - (rho * d(n) + s), d(n), {d(0): 0}).subs(n, k)
    error = sp.simplify(tangent - s / (1 - rho))
    residual = _tanh_layer(_z) - _z
    values = {rho: _at_tanh_fixed_point(sp.diff(_tanh_layer(_z), _z)),
              s: _at_tanh_fixed_point(sp.diff(_tanh_layer(_z), weight))}
    rate = weight * (1 - fixed_point) * (1 + fixed_point)
    return Formula(
        expr=error.subs(values), params=(weight, fixed_point, k), domains=_TANH_DOMAINS,
        evaluate_as=-rate**k * _stable_tanh_gradient(),
        source=cite("bai2019", "sec. 3.1.3 (unrolled vs implicit gradient)"), derived=True,
        derivation="tangent recurrence d_{j+1} = f_z d_j + f_weight at z* (d_0 = 0: start = z*, held constant), "
                   "sympy rsolve, minus the IFT value f_weight / (1 - f_z)",
        conditions=(_TANH, "the unroll starts at the fixed point; = -rate^k dz*/dweight"),
        description="error of backpropagation through k unrolled tanh-layer steps started at z*",
    )
