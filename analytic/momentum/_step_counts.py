r"""Iterations for tuned GD, heavy ball and Nesterov to reach a relative error eps.

Two answers, one per Formula variant (``method`` in gd, heavy_ball, nesterov):

* ``<method>_steps``: leading order $\log\varepsilon / \log\rho$ from the method's
  worst-case rate $\rho$ (``_tuning``);
* ``<method>_slowest_mode_error``: the exact error of the slowest eigen-mode started
  at rest, by ``sympy.rsolve`` of its two-term recurrence, including the
  $(1 + a t)$ prefactor of a double root;

and :func:`steps_to_eps`, the exact integer count: the smallest $t$ with the
slowest-mode error $\le \varepsilon$ (a jitted ``lax`` search over that Formula).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.momentum import _characteristic as characteristic
from analytic.momentum._symbols import L, mu
from analytic.momentum._tuning import _gd_optimal_rate, _heavy_ball_optimal_rate, _nesterov_rate
from analytic.symbols import alpha, beta, eps, kappa, t

FORMULAS = Formulas("momentum")
METHODS = ("gd", "heavy_ball", "nesterov")

# The worst-case rate of each tuned method (registered builders of ``_tuning``).
_RATE = {"gd": _gd_optimal_rate, "heavy_ball": _heavy_ball_optimal_rate, "nesterov": _nesterov_rate}


def _slowest_mode(method: str) -> tuple[sp.Expr, dict]:
    """(eigenvalue, tuning) of the method's slowest mode: mu for GD and Nesterov, L for heavy ball."""
    if method == "gd":
        return mu, {alpha: characteristic.gd_optimal_step(), beta: 0}
    if method == "heavy_ball":
        best_alpha, root_beta = characteristic.heavy_ball_optimum()
        return L, {alpha: best_alpha, beta: root_beta**2}
    return mu, characteristic.nesterov_tuning()


@FORMULAS.register_variants("{method}_steps", method=METHODS)
def _steps(method: str) -> Formula:
    rate = _RATE[method]()
    n = sp.Symbol("n", positive=True)
    (expr,) = sp.solve(sp.Eq(n * sp.log(rate.expr), sp.log(eps)), n)
    # log(rate) with rate = 1 - gap: log1p(-gap) keeps the gap's digits where rate rounds
    # towards 1 (kappa > 1e10: log((kappa - 1)/(kappa + 1)) has lost all but a few of them).
    gap = sp.factor(sp.simplify(1 - rate.expr))
    if sp.simplify(1 - gap - rate.expr) != 0:
        raise AssertionError(f"{method}_steps: 1 - {gap} is not {rate.expr}")
    return Formula(
        expr=expr,
        params=(kappa, eps),
        source=rate.source,
        derived=True,
        derivation=f"sympy.solve of {rate.name}**n = eps for n",
        conditions=("leading order: ignores the prefactor of the slowest mode (1 + a t for a "
                    "double root); momentum.steps_to_eps counts exactly from *_slowest_mode_error",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "eps": sp.Interval.open(0, 1)},
        description=f"iterations for tuned {method} to reach relative error eps (leading order)",
        evaluate_as=sp.log(eps) / log1p(-gap),
    )


@FORMULAS.register_variants("{method}_slowest_mode_error", method=METHODS)
def _slowest_mode_error(method: str) -> Formula:
    rate = _RATE[method]()
    eigenvalue, tuning = _slowest_mode(method)
    return Formula(
        expr=characteristic.slowest_mode_modulus(method, eigenvalue, tuning, rate.expr, t),
        params=(kappa, t),
        source=rate.source,
        derived=True,
        derivation=f"sympy.rsolve of x[k+2] = b x[k+1] - c x[k] at the tuned parameters and "
                   f"lam = {eigenvalue}, x[0] = x[-1] = 1 (started at rest); modulus",
        conditions=(f"|relative error| after t steps of the eigen-mode lam = {eigenvalue}, the "
                    "slowest one under this tuning",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "t": sp.Naturals0},
        description=f"exact relative error of tuned {method}'s slowest mode after t steps",
    )


def steps_to_eps(method: str, kappa, eps, error: Formula | None = None):
    r"""Iterations for the tuned ``method`` to bring its slowest mode to relative error eps.

    The smallest integer $t$ with $|x_t / x_0| \le \varepsilon$ for the slowest
    eigen-mode started at rest (``momentum.<method>_slowest_mode_error``): $\mu$ for
    GD at step $2/(\mu+L)$ and for Nesterov at $\alpha = 1/L$,
    $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$; $L$ for heavy ball at its optimum. The
    error is $\ge 1$ before its transient peak and decreasing after it, so the set
    $\{t : \text{error} \le \varepsilon\}$ is $[T, \infty)$; $T$ is found by doubling
    then integer bisection (``lax`` loops, vectorised over kappa and eps). Returns
    whole numbers in the inputs' float dtype.

    ``error`` is the slowest-mode error Formula to count with (default: the
    registered one; a check passes the Formula it was handed).

    Example:
        >>> steps_to_eps("heavy_ball", kappa=100.0, eps=1e-6)
        Array(95., dtype=float64)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    FORMULAS.get(f"{method}_steps").check_arguments("momentum.steps_to_eps", kappa=kappa, eps=eps)  # kappa > 1, 0 < eps < 1
    if error is None:
        error = FORMULAS.get(f"{method}_slowest_mode_error")
    return _count(jnp.asarray(kappa), jnp.asarray(eps), error=error.jax)


@functools.partial(jax.jit, static_argnames="error")
def _count(kappa, eps, error):
    kappa, eps = jnp.broadcast_arrays(kappa, eps)
    dtype = jnp.result_type(kappa.dtype, eps.dtype, float)
    kappa, eps = kappa.astype(dtype), eps.astype(dtype)

    def below(n):
        return error(kappa, n) <= eps

    def grow(hi):
        return jnp.where(below(hi), hi, 2 * hi)

    hi = jax.lax.while_loop(lambda h: ~jnp.all(below(h)), grow, jnp.ones_like(kappa))
    lo = jnp.zeros_like(hi)  # error(0) = 1 > eps

    def bisect(_, bounds):
        lo, hi = bounds
        mid = jnp.floor((lo + hi) / 2)
        ok = below(mid)
        return jnp.where(ok, lo, mid), jnp.where(ok, mid, hi)

    _, hi = jax.lax.fori_loop(0, int(np.log2(np.finfo(np.float32).max)) + 2, bisect, (lo, hi))
    return hi
