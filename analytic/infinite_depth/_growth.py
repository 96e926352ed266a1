r"""Residual networks at large depth: the growth of $|x_L|^2$, its log-normal spread, and the limits.

The network $x_{l+1} = x_l + \frac{\alpha}{L^p} W_l\,\phi(x_l)$, $l = 0..L-1$, with
$W_l$ of independent $N(0, \sigma_w^2/n)$ entries, independent across layers (``branch_scale``
$\alpha$, ``sigma_w`` $\sigma_w$, ``depth`` $L$, ``depth_exponent`` $p$, ``width`` $n$).
Write $\varepsilon^2 = \alpha^2\sigma_w^2/L^{2p}$ and $q_l = |x_l|^2/n$.

*Identity* $\phi$. Given $x_l$, $W_l x_l \sim N(0, \sigma_w^2 q_l I)$, so
$q_{l+1}/q_l = r_l = |e + (\varepsilon/\sqrt n)\,g|^2$ with $e$ a unit vector and
$g \sim N(0, I_n)$: the ratios $r_l$ are independent and identically distributed (rotation
invariance), $E r = 1 + \varepsilon^2$, and sympy's ``rsolve`` of $E q_{l+1} = (1+\varepsilon^2)
E q_l$ gives ``mean_square_growth`` $E q_L/q_0 = (1 + \alpha^2\sigma_w^2/L^{2p})^L$; its
``limit`` at $p = 1/2$ is ``sde_limit_growth`` $e^{\alpha^2\sigma_w^2}$ (Hayou et al. 2021,
arXiv:2010.12859v2: the $1/\sqrt L$ scaling that keeps the network stable; the depth limit is
an SDE), at $p = 1$ it is 1 (the identity map: independent branches of size $1/L$ average
out; an ODE limit needs weights that vary smoothly with depth, Marion et al. 2022,
arXiv:2206.06929v2), and for $p < 1/2$ it diverges. ``residual_displacement``
$E|x_L - x_0|^2/|x_0|^2 = (1+\varepsilon^2)^L - 1$ (the increments are martingale
differences) decays as $L^{1-2p}$ for $p > 1/2$.

$\log(q_L/q_0) = \sum_l \log r_l$ is a sum of $L$ independent terms, so it is close to
Gaussian (Li, Nica & Roy 2021, arXiv:2106.04013v2: log-Gaussian outputs at finite
depth-to-width ratio): sympy expands $E\log r$ and $\operatorname{Var}\log r$ in $\varepsilon$
(through $\varepsilon^8$, from the moments of $g_1 \sim N(0,1)$ and $|g|^2 - g_1^2 \sim
\chi^2_{n-1}$): ``log_growth_mean`` $= L\,E\log r = L[\varepsilon^2\frac{n-2}{n} -
\frac{\varepsilon^4}{2}\frac{(n-2)(n-4)}{n^2} + \dots]$ and ``log_growth_variance``
$= L[4\varepsilon^2/n + O(\varepsilon^4/n)]$. At $p = 1/2$ the median $e^{E\log}$ sits below
the mean $e^{\alpha^2\sigma_w^2}$ by about $e^{-2\alpha^2\sigma_w^2/n}$: the variance of the
log is $4\alpha^2\sigma_w^2/n$, of order $L^{1-2p}/n$ in general (depth over width at $p = 0$).

*ReLU* $\phi$, at infinite width with coordinates of $x_l$ distributed symmetrically:
$E|\phi(x)|^2 = |x|^2/2$ (sympy ``integrate`` over a Gaussian coordinate), so
``relu_mean_square_growth`` $= (1 + \alpha^2\sigma_w^2/(2L^{2p}))^L$. The squared norm of the
input gradient $|\partial(u\cdot x_L)/\partial x_0|^2/|u|^2$ grows by the same factors
(identity: $E|(I + \varepsilon W)^\top u|^2 = (1+\varepsilon^2)|u|^2$ exactly; ReLU: the
derivative mask keeps half of the coordinates).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.infinite_depth._symbols import branch_scale, depth, depth_exponent, sigma_w, width
from analytic.references import cite

FORMULAS = Formulas("infinite_depth")

_MODEL = "x_{l+1} = x_l + branch_scale depth^-depth_exponent W_l phi(x_l), W_l iid N(0, sigma_w^2/width), " \
         "independent across layers"
_ORDER = 8  # the log-moments are expanded through epsilon^8


def _per_layer_variance(relu: bool) -> sp.Expr:
    """E|W phi(x)|^2 / |x|^2 = sigma_w^2 E phi(z)^2 / E z^2 (z a coordinate, Gaussian for ReLU)."""
    if not relu:
        return sigma_w**2
    z, v = sp.Symbol("z", real=True), sp.Symbol("v", positive=True)
    density = sp.exp(-z**2 / (2 * v)) / sp.sqrt(2 * sp.pi * v)
    second_moment = sp.integrate(z**2 * density, (z, 0, sp.oo))  # relu(z)^2 is z^2 on z > 0
    return sigma_w**2 * sp.simplify(second_moment / v)


def _growth_expr(relu: bool) -> sp.Expr:
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    factor = 1 + (branch_scale / depth**depth_exponent) ** 2 * _per_layer_variance(relu)
    return sp.rsolve(f(n + 1) - factor * f(n), f(n), {f(0): 1}).subs(n, depth), factor - 1


def _stable_power(increment, minus_one=False) -> sp.Expr:
    """(1 + increment)^depth (or minus 1) through log1p / expm1: no rounding of 1 + tiny."""
    log_growth = depth * log1p(increment)
    return expm1(log_growth) if minus_one else sp.exp(log_growth)


@FORMULAS.register("mean_square_growth")
def _mean_square_growth() -> Formula:
    growth, increment = _growth_expr(relu=False)
    return Formula(
        expr=growth, params=(branch_scale, sigma_w, depth, depth_exponent), evaluate_as=_stable_power(increment),
        source=cite("hayou2021", "sec. 3 (forward propagation of the scaled ResNet)"), derived=True,
        derivation="E|x + eps W x|^2 = (1 + eps^2 sigma_w^2)|x|^2 per layer; sympy rsolve over depth layers",
        conditions=(_MODEL, "phi the identity; any width; also the input-gradient norm's growth"),
        description="E |x_L|^2 / |x_0|^2 = (1 + branch_scale^2 sigma_w^2 / depth^(2 depth_exponent))^depth",
    )


@FORMULAS.register("relu_mean_square_growth")
def _relu_mean_square_growth() -> Formula:
    growth, increment = _growth_expr(relu=True)
    return Formula(
        expr=growth, params=(branch_scale, sigma_w, depth, depth_exponent), evaluate_as=_stable_power(increment),
        source=cite("hayou2021", "sec. 3 (forward propagation, ReLU)"), derived=True,
        derivation="E relu(z)^2 = E z^2 / 2 for a centred Gaussian coordinate (sympy integrate); rsolve over layers",
        conditions=(_MODEL, "phi = ReLU; infinite width (symmetric coordinates); also the input-gradient norm"),
        description="E |x_L|^2 / |x_0|^2 with ReLU branches: (1 + branch_scale^2 sigma_w^2 / (2 depth^(2p)))^depth",
    )


@FORMULAS.register("sde_limit_growth")
def _sde_limit_growth() -> Formula:
    growth, _ = _growth_expr(relu=False)
    limit = sp.limit(growth.subs(depth_exponent, sp.Rational(1, 2)), depth, sp.oo)
    return Formula(
        expr=limit, params=(branch_scale, sigma_w), source=cite("hayou2021", "sec. 3 (the depth limit at 1/sqrt(L))"),
        derived=True, derivation="sympy limit depth -> oo of mean_square_growth at depth_exponent = 1/2",
        conditions=(_MODEL, "phi the identity, depth_exponent = 1/2, depth -> oo"),
        description="the infinite-depth limit exp(branch_scale^2 sigma_w^2) of E |x_L|^2 / |x_0|^2",
    )


@FORMULAS.register("residual_displacement")
def _residual_displacement() -> Formula:
    growth, increment = _growth_expr(relu=False)
    return Formula(
        expr=growth - 1, params=(branch_scale, sigma_w, depth, depth_exponent),
        evaluate_as=_stable_power(increment, minus_one=True),
        source=cite("marion2022", "sec. 3 (independent weights: the identity limit for scaling 1/L)"), derived=True,
        derivation="E|x_L - x_0|^2 = E|x_L|^2 - |x_0|^2 (martingale increments: E x_0 . (x_L - x_0) = 0)",
        conditions=(_MODEL, "phi the identity; ~ branch_scale^2 sigma_w^2 depth^(1 - 2 depth_exponent) for p > 1/2"),
        description="E |x_L - x_0|^2 / |x_0|^2: how far the network moves its input",
    )


def _log_ratio_moments():
    """E log r and Var log r through eps^8, r = |e + eps g / sqrt(width)|^2 = (1 + t g1)^2 + t^2 m."""
    eps, u = sp.Symbol("epsilon", positive=True), sp.Symbol("u")
    g, m = sp.symbols("g m", real=True)  # g1 ~ N(0, 1), m ~ chi^2_{width - 1}, independent
    t = eps / sp.sqrt(width)
    log_series = sp.series(sp.log(1 + u), u, 0, _ORDER + 1).removeO()
    ratio_minus_one = sp.expand(2 * t * g + t**2 * (g**2 + m))
    powers, log_ratio = [sp.Integer(1)], sp.Integer(0)
    for j in range(1, _ORDER + 1):  # truncate every power at eps^_ORDER as it is formed
        powers.append(_truncate(sp.expand(powers[-1] * ratio_minus_one), eps))
        log_ratio += log_series.coeff(u, j) * powers[j]

    def expectation(poly):
        total = sp.Integer(0)
        for term in sp.Add.make_args(sp.expand(poly)):
            pg, pm = sp.degree(term, g), sp.degree(term, m)
            gaussian = 0 if pg % 2 else sp.factorial2(pg - 1)
            chi2 = sp.Mul(*[(width - 1 + 2 * i) for i in range(pm)])  # E m^k of chi^2_{width-1}
            total += term / (g**pg * m**pm) * gaussian * chi2
        return sp.expand(total)

    mean = expectation(log_ratio)
    variance = _truncate(sp.expand(expectation(_truncate(sp.expand(log_ratio**2), eps)) - mean**2), eps)
    return eps, mean, variance


def _truncate(expr, eps):
    return sum(expr.coeff(eps, j) * eps**j for j in range(_ORDER + 1))


def _in_epsilon(series, eps) -> sp.Expr:
    return sum(sp.factor(series.coeff(eps, j)) * eps**j for j in range(1, _ORDER + 1))


@FORMULAS.register_variants("log_growth_{moment}", moment=("mean", "variance"))
def _log_growth(moment: str) -> Formula:
    eps, mean, variance = _log_ratio_moments()
    per_layer = _in_epsilon(mean if moment == "mean" else variance, eps)
    expr = depth * per_layer.subs(eps, branch_scale * sigma_w / depth**depth_exponent)
    # stable form: Horner in eps^2, with eps = branch_scale (sigma_w / depth^p) grouped so that a
    # huge depth^p underflows eps to 0 instead of making inf/inf
    e2 = sp.Symbol("e2", positive=True)
    horner = sp.horner(sp.expand(per_layer.subs(eps, sp.sqrt(e2))), e2)
    scaled = (branch_scale * sp.UnevaluatedExpr(sigma_w / depth**depth_exponent)) ** 2
    return Formula(
        expr=expr, params=(branch_scale, sigma_w, depth, depth_exponent, width),
        evaluate_as=depth * horner.subs(e2, scaled),
        source=cite("li2021", "sec. 3 (log-Gaussian limit; the depth-to-width ratio)"), derived=True,
        derivation=f"log(q_L/q_0) = sum of depth iid log r, r = (1 + t g1)^2 + t^2 chi2_(width-1), "
                   f"t = eps/sqrt(width): sympy series of log r through eps^{_ORDER} and the Gaussian and "
                   f"chi-square moments ({moment})",
        conditions=(_MODEL, "phi the identity; truncated after eps^8, eps^2 = branch_scale^2 sigma_w^2 "
                    "depth^(-2 depth_exponent) (asymptotic: use eps^2 <~ 0.3)"),
        description=f"{moment} of log(|x_L|^2 / |x_0|^2); the median of |x_L|^2/|x_0|^2 is exp(log_growth_mean)",
    )
