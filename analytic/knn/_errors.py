r"""Test errors of 1-NN and k-NN regression, and of a piecewise-linear model, on a flat torus.

Setting (``_distances``): $n$ training points uniform on a flat $d$-torus of volume $V$,
labels $y_i = f(x_i) + \epsilon_i$, $E\epsilon = 0$, $E\epsilon^2 = \sigma^2$ (``label_noise``).
All Formulas are leading order in the neighbour radius (large $n$, Poisson limit).

* 1-NN, ``one_nn_error``: $\hat f(x) = y_{\rm nn}$. To first order
  $f(x_{\rm nn}) - f(x) = r\,\nabla f\cdot u$ with $u$ uniform on $S^{d-1}$ independent
  of $r$, so $E(\hat f - f)^2 = E|\nabla f|^2\,E r^2\,E u_1^2
  = E|\nabla f|^2\,\Gamma(1 + 2/d)\,(V/(n V_d))^{2/d}/d$: the issue's constant, derived.
  The next order is $O(n^{-4/d})$ (the cross term $r^3\,\nabla f\cdot u\;u^\top H u$
  averages to zero by $u \to -u$).
* With label noise: against the clean target ``one_nn_error_clean_targets`` adds
  $\sigma^2$ (the neighbour's noise), against a noisy test label
  ``one_nn_error_noisy_labels`` adds $2\sigma^2$ (sympy expands the square with
  independent $\epsilon$, $\epsilon'$): the 1-NN error floors at the noise, it never reaches 0.
* k-NN, ``knn_error``: $\hat f(x) = \frac1k\sum_{i\le k} y_{(i)}$. The $i$-th neighbour
  distance has $n V_d r_i^d / V \sim \mathrm{Gamma}(i, 1)$, so $E r_i^2 =
  \frac{\Gamma(i + 2/d)}{\Gamma(i)}\rho^{2/d}$, $\rho = V/(n V_d)$ (sympy integral), and
  $S_k = \sum_{i=1}^k \frac{\Gamma(i + 2/d)}{\Gamma(i)} = \frac{\Gamma(k + 1 + 2/d)}{(1 + 2/d)\Gamma(k)}$
  (sympy summation). The error is noise $\sigma^2/k$, plus the first-order scatter
  $E|\nabla f|^2 S_k\rho^{2/d}/(d k^2)$ (independent directions), plus the squared
  curvature bias $E(\Delta f)^2 S_k^2\rho^{4/d}/(4 d^2 k^2)$ (the mean of
  $\tfrac12\delta^\top H\delta$ is $\Delta f\,E r^2/(2d)$). Neglected: $O(\rho^{4/d}/k)$.
* ``knn_rate_exponent``: minimising $\sigma^2/k + B (k/n)^{4/d}$ over $k$ (sympy
  ``solve``) gives $k^* \propto n^{4/(d+4)}$ and error $\propto n^{-4/(d+4)}$. The issue
  quotes $n^{-2/(d+2)}$: that is the rate when the bias is first order,
  $|{\rm bias}| \propto r_k$ (a Lipschitz target, or a boundary); for a smooth target on a
  torus the first-order bias averages out and only the curvature bias remains.
* ``interpolation_error``: the $4/d$ of Sharma & Kaplan (arXiv:2004.10802v1, sec. 2):
  a model that is piecewise linear on $N$ cells of side $h = (V/N)^{1/d}$. Along one axis
  $f(x_0 + hs) - [\text{linear interpolant}] = -\tfrac{h^2}{2}s(1-s)f'' + O(h^3)$ (sympy
  series), whose mean square over $s \in [0,1]$ is $h^4 f''^2/120$; for a target that is a
  sum of one-coordinate functions multilinear interpolation acts axis by axis, so the
  error is $E\sum_i(\partial_{ii}f)^2\,h^4/120 \propto N^{-4/d}$: exponent $4/d$ in the
  model size, against $2/d$ for the piecewise-constant 1-NN in the data size.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.knn._distances import (_DIM_DOMAIN, _nn_distance_moment, _sphere_coordinate_moment, _unit_ball_volume,
                                    gamma_function, gamma_ratio, inverse_ball_power)
from analytic.knn._symbols import (grad_sq, hessian_diag_sq, label_noise, laplacian_sq, manifold_dim, n_cells,
                                   n_samples, neighbours, order, power, volume)
from analytic.references import cite

FORMULAS = Formulas("knn")

_TORUS = "n_samples points uniform on a flat torus of dimension manifold_dim and volume volume"
_LEADING = "leading order in the neighbour radius (large n_samples)"
_SOURCE = cite("sharma2020", "sec. 2 (nearest-neighbour regression on the data manifold; constants derived here)")


def _one_nn_bias_expr() -> sp.Expr:
    second = _nn_distance_moment().expr.subs(power, 2)
    isotropy = _sphere_coordinate_moment().expr.subs(order, 1)
    return sp.simplify(grad_sq * second * sp.gammasimp(isotropy))


def _one_nn_evaluate_as(extra: sp.Expr = 0) -> sp.Expr:
    return (grad_sq * gamma_function(1 + 2 / manifold_dim) * volume ** (2 / manifold_dim)
            * n_samples ** (-2 / manifold_dim) * inverse_ball_power(2 / manifold_dim) / manifold_dim + extra)


@FORMULAS.register("one_nn_error")
def _one_nn_error() -> Formula:
    return Formula(
        expr=_one_nn_bias_expr(), params=(grad_sq, n_samples, manifold_dim, volume), domains=_DIM_DOMAIN,
        evaluate_as=_one_nn_evaluate_as(),
        source=_SOURCE, derived=True,
        derivation="sympy: E (grad f . r u)^2 = grad_sq * knn.nn_distance_moment(p=2) * "
                   "knn.sphere_coordinate_moment(m=1)",
        conditions=(_TORUS, "noise-free labels, differentiable target", _LEADING),
        description="1-NN test squared error against the target, noise-free labels (~ n^(-2/d))",
    )


def _with_noise(copies: int) -> sp.Expr:
    """E (f(x_nn) + e' - f(x) - copies e)^2 over independent noises of variance label_noise."""
    bias, e1, e2 = sp.Symbol("b", real=True), sp.Symbol("e1", real=True), sp.Symbol("e2", real=True)
    square = sp.Poly(sp.expand((bias + e1 - copies * e2) ** 2), e1, e2)
    moments = {0: 1, 1: 0, 2: label_noise}
    value = sum(c * moments[i] * moments[j] for (i, j), c in square.terms())
    return sp.expand(value.subs(bias**2, _one_nn_bias_expr()))


@FORMULAS.register("one_nn_error_clean_targets")
def _one_nn_error_clean_targets() -> Formula:
    return Formula(
        expr=_with_noise(0), params=(grad_sq, n_samples, manifold_dim, volume, label_noise), domains=_DIM_DOMAIN,
        evaluate_as=_one_nn_evaluate_as(label_noise),
        source=_SOURCE, derived=True,
        derivation="sympy: E (f(x_nn) + e' - f(x))^2 with E e' = 0, E e'^2 = label_noise, independent of x_nn",
        conditions=(_TORUS, "labels with independent noise of variance label_noise", _LEADING),
        description="1-NN test error against the clean target: label_noise + one_nn_error (floor label_noise)",
    )


@FORMULAS.register("one_nn_error_noisy_labels")
def _one_nn_error_noisy_labels() -> Formula:
    return Formula(
        expr=_with_noise(1), params=(grad_sq, n_samples, manifold_dim, volume, label_noise), domains=_DIM_DOMAIN,
        evaluate_as=_one_nn_evaluate_as(2 * label_noise),
        source=_SOURCE, derived=True,
        derivation="sympy: E (f(x_nn) + e' - f(x) - e)^2, e and e' independent with variance label_noise",
        conditions=(_TORUS, "train and test labels with independent noise of variance label_noise", _LEADING),
        description="1-NN test error against noisy test labels: 2 label_noise + one_nn_error (floor 2 label_noise)",
    )


def _neighbour_sum() -> sp.Expr:
    """S_k = sum_{i<=k} E r_i^2 / rho^(2/d), from the Gamma(i, 1) law of n V_d r_i^d / V."""
    i, u = sp.Symbol("i", integer=True, positive=True), sp.Symbol("u", positive=True)
    a = 2 / manifold_dim
    moment_i = sp.integrate(u**a * u ** (i - 1) * sp.exp(-u) / sp.gamma(i), (u, 0, sp.oo))
    return sp.simplify(sp.summation(sp.gammasimp(moment_i), (i, 1, neighbours)))


@FORMULAS.register("knn_error")
def _knn_error() -> Formula:
    d, k = manifold_dim, neighbours
    rho = volume / (n_samples * _unit_ball_volume().expr)
    s_k = _neighbour_sum()
    expr = (label_noise / k + grad_sq * s_k * rho ** (2 / d) / (d * k**2)
            + laplacian_sq * s_k**2 * rho ** (4 / d) / (4 * d**2 * k**2))
    scale = volume ** (2 / d) * n_samples ** (-2 / d) * inverse_ball_power(2 / d)  # rho^(2/d) without overflow
    mean_r2 = gamma_ratio(k + 1, 2 / d) / (1 + 2 / d) * scale  # S_k/k rho^(2/d)
    return Formula(
        expr=expr, params=(grad_sq, laplacian_sq, label_noise, n_samples, manifold_dim, volume, neighbours),
        domains={**_DIM_DOMAIN, "neighbours": sp.Interval(1, 10**6)},
        evaluate_as=label_noise / k + grad_sq * mean_r2 / (d * k) + laplacian_sq * mean_r2**2 / (4 * d**2),
        source=_SOURCE, derived=True,
        derivation="sympy: E r_i^2 = Gamma(i + 2/d)/Gamma(i) rho^(2/d) (Gamma(i,1) law), S_k by summation; "
                   "noise/k + grad_sq S_k rho^(2/d)/(d k^2) + laplacian_sq S_k^2 rho^(4/d)/(4 d^2 k^2)",
        conditions=(_TORUS, "twice-differentiable target, label noise of variance label_noise",
                    "against the clean target", _LEADING + "; neglects O(rho^(4/d)/k)"),
        description="k-NN test squared error: noise/k + first-order scatter + squared curvature bias",
    )


@FORMULAS.register("knn_rate_exponent")
def _knn_rate_exponent() -> Formula:
    k, n, d = (sp.Symbol(s, positive=True) for s in ("k", "n", "d"))
    noise, curvature = sp.symbols("noise curvature", positive=True)
    error = noise / k + curvature * (k / n) ** (4 / d)
    best_k = sp.solve(sp.diff(error, k), k)
    assert len(best_k) == 1, best_k
    best = sp.simplify(error.subs(k, best_k[0]))
    exponent = sp.simplify(-n * sp.diff(sp.log(best), n))
    return Formula(
        expr=sp.factor(exponent.subs(d, manifold_dim)), params=(manifold_dim,), domains=_DIM_DOMAIN,
        source=_SOURCE, derived=True,
        derivation="sympy: k* solves d/dk [noise/k + curvature (k/n)^(4/d)] = 0; exponent = -dlog err(k*)/dlog n",
        conditions=("smooth target on a torus (curvature bias only)", "k chosen optimally for each n"),
        description="a in (k-NN error at the optimal k) ~ n^(-a): 4/(d+4) (the Lipschitz-class rate is 2/(d+2))",
    )


@FORMULAS.register("interpolation_error")
def _interpolation_error() -> Formula:
    s, h = sp.Symbol("s", nonnegative=True), sp.Symbol("h", positive=True)
    x0 = sp.Symbol("x0", real=True)
    g = sp.Function("g")
    along = g(x0 + h * s) - (g(x0) + s * (g(x0 + h) - g(x0)))
    leading = sp.series(along, h, 0, 3).removeO().doit()
    curvature = sp.Symbol("c", real=True)  # g''(x0)
    leading = sp.simplify(leading.subs(sp.Subs(sp.Derivative(g(x0 + h * s), h, 2), h, 0), s**2 * curvature)
                          .subs(sp.Subs(sp.Derivative(g(x0 + h), h, 2), h, 0), curvature)
                          .replace(lambda e: isinstance(e, sp.Subs), lambda e: e.doit()))
    leading = sp.simplify(leading.subs(sp.Derivative(g(x0), (x0, 2)), curvature))
    mean_square = sp.integrate(sp.expand(leading**2), (s, 0, 1)) / curvature**2 / h**4
    assert mean_square == sp.Rational(1, 120), mean_square
    cell = (volume / n_cells) ** (1 / manifold_dim)
    return Formula(
        expr=hessian_diag_sq * mean_square * cell**4, params=(hessian_diag_sq, n_cells, manifold_dim, volume),
        domains=_DIM_DOMAIN,
        evaluate_as=hessian_diag_sq * mean_square * (volume ** (1 / manifold_dim)) ** 4
        * (n_cells ** (-1 / manifold_dim)) ** 4,
        source=cite("sharma2020", "sec. 2 (piecewise-linear model: loss ~ N^(-4/d))"), derived=True,
        derivation="sympy: series of g(x0 + h s) - linear interpolant to h^2, mean square over s in [0, 1] "
                   "= h^4 g''^2 / 120; summed over axes; h = (V/N)^(1/d)",
        conditions=("target a sum of one-coordinate functions (multilinear interpolation acts per axis)",
                    "regular grid of n_cells cells on the torus", "leading order in the cell side"),
        description="mean squared error of the multilinear interpolant on N grid cells (~ N^(-4/d))",
    )


def knn_optimal_error(formula: Formula | None = None, *, max_neighbours: int = 400, **values):
    r"""$\min_k$ ``knn_error`` over $k = 1..$``max_neighbours`` and the minimising $k$.

    ``values`` are ``knn_error``'s other parameters (scalars). Returns ``(error, k)``.

    Example:
        >>> from analytic import knn
        >>> error, k = knn.knn_optimal_error(grad_sq=20.0, laplacian_sq=800.0, label_noise=0.1,
        ...                                  n_samples=1e3, manifold_dim=1, volume=1.0)
        >>> k, round(error, 6)
        (107, 0.00131)
    """
    formula = _knn_error() if formula is None else formula
    if isinstance(max_neighbours, bool) or int(max_neighbours) != max_neighbours or max_neighbours < 1:
        raise ValueError(f"max_neighbours must be an integer >= 1, got {max_neighbours!r}")
    ks = np.arange(1, int(max_neighbours) + 1, dtype=float)
    errors = np.asarray(formula(neighbours=ks, **values))
    best = int(np.argmin(errors))
    return float(errors[best]), int(ks[best])
