r"""Fluctuations at initialisation: the output's excess kurtosis and the NTK's relative variance.

Network (bias-free, NTK parameterisation, depth $L$ weight matrices, width $n$, scalar
output): $z^1 = \sigma_w W^1 x/\sqrt{n_0}$, $z^{l+1} = \sigma_w W^{l+1}\phi(z^l)/\sqrt n$,
$f = z^L$, $W^l_{ij} \sim N(0,1)$, $\sigma_w^2 = 2$ (ReLU) or $1$ (linear). Write
$Q_l = \lVert\phi(z^l)\rVert^2/n$ ($Q_0 = \lVert x\rVert^2/n_0$) and $\delta^l = \partial f/\partial z^l$.

**The layer recursion of fourth moments** (what sympy derives). Given $Q_l$ the units of
$z^{l+1}$ are i.i.d. $N(0, \sigma_w^2 Q_l)$, so
$E[Q_{l+1}^2 \mid Q_l] = (1 + (\kappa - 1)/n)\,E[Q_{l+1}\mid Q_l]^2$ with
$\kappa = E\phi(z)^4/(E\phi(z)^2)^2$ over one Gaussian unit: $\kappa = 6$ for ReLU (the
half-Gaussian moments $E\,\mathrm{relu}(z)^2 = 1/2$, $E\,\mathrm{relu}(z)^4 = 3/2$) and
$\kappa = 3$ for linear. ``rsolve`` of the recursion over $L - 1$ hidden layers and
$E[f^4] = 3\sigma_w^4 E[Q_{L-1}^2]$ give the output's excess kurtosis, exact at finite width,
$$\kappa_4(f) = 3\big[(1 + c/n)^{L-1} - 1\big],\qquad c = 5\ \text{(ReLU)},\ 2\ \text{(linear)}.$$

**The NTK.** $\Theta(x,x) = \sigma_w^2\sum_{l=1}^L \lVert\delta^l\rVert^2 Q_{l-1} = \sum_l T_l$.
Term $T_l$ uses each hidden layer $m$ once: forward ($Q$) for $m < l$, backward
($\lVert\delta\rVert^2$) for $m \ge l$. In $E[T_l T_{l'}]$ ($d = |l - l'|$) layer $m$ enters
twice the same way ($L - 1 - d$ layers: factor $1 + (\kappa-1)/n$) or once forward and once
backward ($d$ layers: factor $E[AC]/E[A]E[C] = 1 + (\kappa_\times - 1)/n$, the per-unit
$\kappa_\times = E[\phi(z)^2\phi'(z)^2 g^2]/(E\phi(z)^2\,E[\phi'(z)^2 g^2])$ with $g$ an
independent Gaussian: 2 for ReLU, the mask shared by both passes; 1 for linear).

* Linear, exact. Forward and backward through shared matrices also correlate at
  $O(1/n^2)$: with $M$ the product of the $k$ Gaussian matrices between layers $l$ and
  $l' = l + k + 1$, $E[T_lT_{l'}] \propto E\lVert M\rVert_F^4/n^2 = g_k$, and Isserlis'
  theorem for one more matrix ($w_i \sim N(0, I/n)$ rows, $S = MM^\top$) closes on
  $(x_k, y_k) = (E(\mathrm{tr}S)^2/n^2, E\,\mathrm{tr}S^2/n)$:
  $x_{k+1} = x_k + 2y_k/n^2$, $y_{k+1} = x_k + (1 + 1/n)y_k$, $x_0 = y_0 = 1$. Sympy
  diagonalises it (eigenvalues $1 + 2/n$, $1 - 1/n$) and sums the pairs:
  $$\frac{E\Theta^2}{(E\Theta)^2} = \frac{r^{L-1}}{L^2}\Big[L + \tfrac13 L(L-1)
  + \tfrac{2(2-u)}{3(1+u)}\sum_{d=1}^{L-1}(L-d)q^{d-1}\Big],\quad u = \tfrac2n,\ r = 1+u,
  \ q = \tfrac{n-1}{n+2}.$$
* ReLU, with every backward pass's Gaussian part independent of the forward pass given the
  shared masks (the gradient-independence step; the $O(1/n^2)$ matrix correlations of the
  linear case dropped):
  $\frac{E\Theta^2}{(E\Theta)^2} = \frac{a^{L-1}}{L^2}\big[L + 2\sum_{d=1}^{L-1}(L-d)\rho^d\big]$,
  $a = 1 + 5/n$, $\rho = (1 + 1/n)/(1 + 5/n)$. Not proven exact at finite width: the
  check measures it cell by cell. Its growth $e^{5L/n}$ at large $L/n$ is Hanin & Nica's
  $\exp(5\beta)$ (arXiv:1909.05989v1, Thm 1, $\beta = \sum_j 1/n_j$), stated there up to
  constants.

Leading order in $L/n$ (``sympy`` expands every pair factor to first order in $1/n$ and sums):
relative variance $\simeq (4/3)\,L/n$ (linear) and $(11/3)\,L/n$ (ReLU); kurtosis $\simeq
6L/n$ and $15L/n$. Roberts, Yaida & Hanin (arXiv:2106.10165v2, ch. 5 and ch. 9) derive the
corresponding four-point vertex and NTK variance recursions at order $1/n$ (section numbers
of that version unconfirmed here).

**Evaluation.** The closed forms cancel catastrophically when $L/n$ is small; ``evaluate_as``
writes the relative variance as $\mathrm{expm1}\big((L-1)\log(1+c/n) + \log W\big)$ where $W - 1$
is summed without cancellation:
$h(L,\epsilon) = \sum_{j=0}^{L-2}(L-1-j)\big((1-\epsilon)^j - 1\big) = \sum_{m\ge1}\binom{L}{m+2}(-\epsilon)^m$
(14 terms reach round-off for $L\epsilon < 1/2$; the closed form $W$ beyond).
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.width._symbols import depth, width

FORMULAS = Formulas("width")

ACTIVATIONS = ("relu", "linear")
_z, _g = sp.Symbol("z", real=True), sp.Symbol("g", real=True)
_k, _d = sp.Symbol("k", integer=True, nonnegative=True), sp.Symbol("d", integer=True, positive=True)
_rho = sp.Symbol("rho", positive=True)
_SERIES_TERMS = 14  # terms of h(L, eps) for L eps < 1/2: the 15th is below 2e-16 of the sum
_CONDITIONS = ("bias-free MLP in NTK parameterisation, W ~ N(0, 1), sigma_w^2 = 2 (ReLU) or 1 (linear)",
               "depth = number of weight matrices (depth - 1 hidden layers of `width` units), scalar output",
               "moments over random initialisation at one fixed input x != 0")


def _gaussian_mean(expr, variable, lower=-sp.oo) -> sp.Expr:
    """E[expr 1{variable > lower}] over a standard Gaussian ``variable`` (sympy integrate)."""
    return sp.integrate(expr * sp.exp(-variable**2 / 2) / sp.sqrt(2 * sp.pi), (variable, lower, sp.oo))


@functools.cache
def unit_moments(activation: str) -> tuple[sp.Expr, sp.Expr]:
    r"""$(\kappa, \kappa_\times)$ of one Gaussian unit: $E\phi^4/(E\phi^2)^2$ and the forward-backward ratio.

    ReLU: $\phi(z) = z$, $\phi'(z) = 1$ on $z > 0$ and both vanish below (the integrals run over
    the half-line: half-Gaussian moments); linear: the whole line.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    lower = 0 if activation == "relu" else -sp.oo
    second, fourth = _gaussian_mean(_z**2, _z, lower), _gaussian_mean(_z**4, _z, lower)
    mask = _gaussian_mean(sp.Integer(1), _z, lower)  # E phi'(z)^2
    backward = mask * _gaussian_mean(_g**2, _g)  # E[phi'(z)^2 g^2], g independent
    cross = second * _gaussian_mean(_g**2, _g)  # E[phi(z)^2 phi'(z)^2 g^2]: phi' = 1 where phi != 0
    return sp.nsimplify(fourth / second**2), sp.nsimplify(cross / (second * backward))


def _layer_factor(kappa) -> sp.Expr:
    """E[Q'^2] / E[Q']^2 of a layer of `width` i.i.d. units: (E phi^4 / n + (1 - 1/n)(E phi^2)^2) / (E phi^2)^2."""
    return sp.expand(kappa / width + (1 - 1 / width))


def _hidden_moment(kappa) -> sp.Expr:
    """E[Q_{L-1}^2] / E[Q_{L-1}]^2 by rsolve of m_{l+1} = (1 + (kappa - 1)/n) m_l, m_0 = 1."""
    m, l = sp.Function("m"), sp.Symbol("l", integer=True, nonnegative=True)
    solution = sp.rsolve(m(l + 1) - _layer_factor(kappa) * m(l), m(l), {m(0): 1})
    return solution.subs(l, depth - 1)


@functools.cache
def _pair_sum_closed() -> sp.Expr:
    """sum_{d=1}^{L-1} (L - d) rho^d in closed form (sympy summation, once)."""
    return sp.summation((depth - _d) * _rho**_d, (_d, 1, depth - 1))


def _pair_sum(ratio) -> sp.Expr:
    """sum_{d=1}^{L-1} (L - d) ratio^d."""
    return _pair_sum_closed().subs(_rho, ratio)


def _frobenius_modes() -> list[tuple[sp.Expr, sp.Expr]]:
    """g_k = E||M_k||_F^4 / n^2 (M_k a product of k Gaussian N(0, 1/n) n x n matrices) as sum_i c_i lam_i^k.

    Isserlis for one more matrix: (x, y) -> (x + 2y/n^2, x + (1 + 1/n) y), (x_0, y_0) = (1, 1); sympy
    diagonalises the step and reads the coefficients c_i off the initial condition.
    """
    n = width
    step = sp.Matrix([[1, 2 / n**2], [1, 1 + 1 / n]])
    basis, diagonal = step.diagonalize()
    weights = basis.inv() * sp.Matrix([1, 1])
    return [(sp.factor(basis[0, i] * weights[i]), sp.factor(diagonal[i, i])) for i in range(2)]


def _h_series(L, eps) -> sp.Expr:
    """h(L, eps) = sum_{m=1}^{14} C(L, m + 2) (-eps)^m (exact for L <= 16; round-off for L eps < 1/2)."""
    total = 0
    for m in range(1, _SERIES_TERMS + 1):
        total += sp.Mul(*[(L - i) for i in range(m + 2)]) / sp.factorial(m + 2) * (-eps) ** m
    return total


def _stable(growth_rate, eps, small_part, closed_w) -> sp.Expr:
    """expm1((L - 1) log1p(growth_rate) + log W), W - 1 = small_part(h) for L eps < 1/2, else W = closed_w."""
    h = _h_series(depth, eps)
    log_w = sp.Piecewise((log1p(small_part(h)), depth * eps < sp.Rational(1, 2)), (sp.log(closed_w), True))
    return expm1((depth - 1) * log1p(growth_rate) + log_w)


def _closed_pairs(eps) -> sp.Expr:
    """sum_{j=0}^{L-2} (L - 1 - j) (1 - eps)^j = ((1 - eps)^L - 1 + L eps) / eps^2 (all terms >= 0)."""
    return (expm1(depth * log1p(-eps)) + depth * eps) / eps**2


@FORMULAS.register_variants("output_excess_kurtosis_{activation}", activation=ACTIVATIONS)
def _output_kurtosis(activation: str) -> Formula:
    kappa, _ = unit_moments(activation)
    excess = 3 * _layer_factor(kappa) ** (depth - 1) - 3  # the rsolve solution, written with depth - 1 explicit
    assert sp.simplify(3 * _hidden_moment(kappa) - 3 - excess) == 0  # (so that depth = 1 gives exactly 0)
    rate = kappa - 1
    return Formula(
        expr=excess, params=(width, depth), derived=True,
        source=cite("roberts2021", "ch. 4-5 (the four-point vertex at order 1/n); exact form derived here"),
        derivation=f"E phi^4 / (E phi^2)^2 = {kappa} by sympy integrate over one Gaussian unit; rsolve of "
                   "E[Q_(l+1)^2] = (1 + (kappa - 1)/n) E[Q_l^2] over depth - 1 hidden layers; E f^4 = 3 sigma_w^4 "
                   "E[Q_(L-1)^2] (f Gaussian given Q_(L-1))",
        conditions=_CONDITIONS + ("exact at finite width and depth",),
        description=f"excess kurtosis E f^4 / (E f^2)^2 - 3 of a deep {activation} network's output at init",
        evaluate_as=3 * expm1((depth - 1) * log1p(rate / width)),
    )


def _ntk_second_moment_linear() -> sp.Expr:
    """E[Theta^2] / (E Theta)^2 of the deep linear network (exact).

    E[T_l T_l'] / Q_0^2 = r^(L-1) (diagonal) and r^(L-2-k) g_k for l' = l + k + 1, r = 1 + 2/n; with
    g_k = sum_i c_i lam_i^k the sum over the pairs is sum_i c_i r^(L-2) sum_k (L-1-k) (lam_i/r)^k.
    """
    r = 1 + 2 / width
    pairs = sum(coefficient * r ** (depth - 2) * _pair_sum(root / r) * r / root
                for coefficient, root in _frobenius_modes())
    return (depth * r ** (depth - 1) + 2 * pairs) / depth**2


@FORMULAS.register_variants("ntk_relative_variance_{activation}", activation=ACTIVATIONS)
def _ntk_relative_variance(activation: str) -> Formula:
    kappa, kappa_cross = unit_moments(activation)
    same, cross = _layer_factor(kappa), _layer_factor(kappa_cross)
    L = depth
    if activation == "linear":
        expr = _ntk_second_moment_linear() - 1
        # the same, as pair sums: A/r = 1/3, 2B/r = 4/3 - delta, delta = 4/(n + 2), q = 1 - eps, eps = 3/(n + 2)
        eps, delta = 3 / (width + 2), 4 / (width + 2)
        stable = _stable(2 / width, eps,
                         lambda h: ((sp.Rational(4, 3) - delta) * h - delta * L * (L - 1) / 2) / L**2,
                         (L + L * (L - 1) / 3 + (sp.Rational(4, 3) - delta) * _closed_pairs(eps)) / L**2)
        derivation = ("Isserlis for one Gaussian matrix closes the (E(tr S)^2, E tr S^2) recursion; sympy "
                      "diagonalises it and sums E[T_l T_l'] = r^(L-2-k) g_k over the pairs (summation)")
        conditions = _CONDITIONS + ("exact at finite width and depth",)
    else:
        rho = sp.factor(cross / same)
        expr = same ** (L - 1) * (L + 2 * _pair_sum(rho)) / L**2 - 1
        eps = sp.factor(1 - rho)  # 4 / (n + 5)
        stable = _stable((kappa - 1) / width, eps,
                         lambda h: (-eps * L * (L - 1) + 2 * (1 - eps) * h) / L**2,
                         (L + 2 * (1 - eps) * _closed_pairs(eps)) / L**2)
        derivation = (f"pair factors 1 + (kappa - 1)/n, kappa = {kappa} (same layer twice) and 1 + (kappa_x - 1)/n, "
                      f"kappa_x = {kappa_cross} (forward and backward through one shared mask), by sympy integrate; "
                      "summed over the pairs (l, l') with sympy summation")
        conditions = _CONDITIONS + ("leading behaviour at every L/n; at finite width it assumes the backward "
                                    "Gaussian parts independent of the forward pass given the shared ReLU masks "
                                    "(gradient independence): checked cell by cell by Monte Carlo",)
    one_layer = sp.Eq(depth, 1)  # Theta = sigma_w^2 Q_0 is deterministic: exactly 0 (the pair sums cancel to it)
    return Formula(
        expr=sp.Piecewise((0, one_layer), (expr, True)), params=(width, depth), derived=True,
        source=cite("hanin_nica2019", "Thm 1 (growth exp(5 beta), stated up to constants); coefficients derived here"),
        derivation=derivation, conditions=conditions,
        description=f"relative variance Var Theta / (E Theta)^2 of the empirical NTK Theta(x, x) of a deep "
                    f"{activation} network at init",
        evaluate_as=sp.Piecewise((0, one_layer), (stable, True)),
    )


def _first_order_pairs(kappa, kappa_cross) -> sp.Expr:
    """n times the relative variance to first order in 1/n, as a function of depth (pair sums of first orders)."""
    L = depth
    pair = (L - 1 - _d) * (kappa - 1) + _d * (kappa_cross - 1)  # n x (pair factor - 1) at first order
    total = L * pair.subs(_d, 0) + 2 * sp.summation((L - _d) * pair, (_d, 1, L - 1))
    return sp.simplify(total / L**2)


@FORMULAS.register_variants("ntk_variance_coefficient_{activation}", activation=ACTIVATIONS)
def _ntk_coefficient(activation: str) -> Formula:
    first = _first_order_pairs(*unit_moments(activation))
    return Formula(
        expr=sp.limit(first / depth, depth, sp.oo), params=(), derived=True,
        source=cite("hanin_nica2019", "Thm 1 (rate stated up to constants); coefficient derived here"),
        derivation="first order in 1/n of every pair factor, summed over the pairs (summation), divided by depth, "
                   "limit depth -> oo",
        conditions=_CONDITIONS + ("the slope of Var Theta / (E Theta)^2 in depth/width as depth/width -> 0 "
                                  "with depth -> oo",),
        description=f"coefficient c of the NTK relative variance ~ c depth/width, deep {activation} network",
    )


@FORMULAS.register_variants("kurtosis_coefficient_{activation}", activation=ACTIVATIONS)
def _kurtosis_coefficient(activation: str) -> Formula:
    exact = 3 * _hidden_moment(unit_moments(activation)[0]) - 3
    slope = sp.limit(sp.limit(exact * width, width, sp.oo) / depth, depth, sp.oo)
    return Formula(
        expr=slope, params=(), derived=True, source=cite("roberts2021", "ch. 5 (four-point vertex ~ depth/width)"),
        derivation="limit width -> oo of width x (exact kurtosis), divided by depth, depth -> oo",
        conditions=_CONDITIONS,
        description=f"coefficient c of the output's excess kurtosis ~ c depth/width, deep {activation} network",
    )
