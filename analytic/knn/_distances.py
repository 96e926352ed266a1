r"""Nearest-neighbour distances on a flat torus, and moments of a uniform direction.

Model: $n$ points uniform on a flat $d$-torus of volume $V$ (``volume``), a query point
$x$ independent of them. For radii below half the torus' shortest period the ball
$B(x, s)$ does not wrap, so each point misses it with probability $1 - c s^d$,
$c = V_d / V$, and the nearest-neighbour distance $r$ has
$P(r > s) = (1 - c s^d)^n$. sympy derives, from that survival function alone:

* ``unit_ball_volume``: $V_d = \pi^{d/2} / \Gamma(d/2 + 1)$, from
  $\int_{\mathbb R^d} e^{-|x|^2} = \pi^{d/2} = d V_d \int_0^\infty r^{d-1} e^{-r^2} dr$;
* ``nn_distance_moment``: in the large-$n$ (Poisson) limit $P(r > s) \to e^{-n V_d s^d / V}$
  and sympy integrates $E r^p = \int_0^\infty p s^{p-1} P(r > s)\,ds$:
  $$E r^p \to \Gamma(1 + p/d)\,\Big(\frac{V}{n V_d}\Big)^{p/d}.$$
  At finite $n$ the same integral of $(1 - c s^d)^n$ is a Beta function,
  $\Gamma(1 + p/d)\,\frac{\Gamma(n+1)}{\Gamma(n + 1 + p/d)}\,(V/V_d)^{p/d}$ (exact up to the
  wrap-around of balls wider than half a period, exponentially rare in $n$);
  :func:`finite_n_factor` $= n^{p/d}\Gamma(n+1)/\Gamma(n+1+p/d) \to 1$ is the ratio of the two
  (``tests/test_knn.py`` checks the finite-$n$ law by quadrature and the limit numerically). Sharma & Kaplan
  2020 (arXiv:2004.10802v1, sec. 2) use the neighbour distance $\propto n^{-1/d}$; the
  constant is derived here;
* ``sphere_coordinate_moment``: for $u$ uniform on $S^{d-1}$,
  $E u_1^{2m} = \frac{\Gamma(d/2)\Gamma(m + 1/2)}{\sqrt\pi\,\Gamma(m + d/2)}$ (a Gaussian
  $z = |z| u$ with $|z|$ independent of $u$: $E z_1^{2m} = E|z|^{2m}\,E u_1^{2m}$, both
  Gaussian integrals done by sympy); $m = 1$ gives the isotropy $E u_1^2 = 1/d$.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from scipy.special import poch
from sympy.utilities.lambdify import implemented_function

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.knn._symbols import manifold_dim, n_samples, order, power, volume
from analytic.references import cite

FORMULAS = Formulas("knn")

_DIM_DOMAIN = {"manifold_dim": sp.Interval(1, 30)}  # Gamma(d/2 + 1) stays far from overflow
_TORUS = "n_samples points uniform on a flat torus of dimension manifold_dim and volume volume"


def _unit_ball_volume_expr() -> sp.Expr:
    d, r = manifold_dim, sp.Symbol("r", positive=True)
    radial = sp.integrate(r ** (d - 1) * sp.exp(-r**2), (r, 0, sp.oo))  # Gamma(d/2) / 2
    return sp.simplify(sp.pi ** (d / 2) / (d * radial)).rewrite(sp.gamma)


@FORMULAS.register("unit_ball_volume")
def _unit_ball_volume() -> Formula:
    expr = sp.gammasimp(_unit_ball_volume_expr())
    return Formula(
        expr=expr, params=(manifold_dim,), domains=_DIM_DOMAIN,
        evaluate_as=sp.pi ** (manifold_dim / 2) / gamma_function(manifold_dim / 2 + 1),
        source="Gaussian integral in polar coordinates (textbook)", derived=True,
        derivation="sympy: pi^(d/2) = int e^(-|x|^2) dx = d V_d int_0^oo r^(d-1) e^(-r^2) dr",
        description="volume V_d of the unit ball in R^d",
    )


# log Gamma evaluated by JAX (lambdify maps sympy's gamma and loggamma to the math module, which
# cannot take traced arrays); sympy leaves the unevaluated function alone, so it keeps its argument
log_gamma = implemented_function("knn_log_gamma", lambda x: jax.scipy.special.gammaln(x))


def _gamma_ratio_jax(x, a):
    """Gamma(x + a) / Gamma(x) for x >= 1, 0 < a <= 2, to a few ulps: log-Gamma differences below x = 30,
    Stirling's series with log1p above (the difference of two large log-Gammas would lose |log Gamma| ulps)."""
    x, a = jnp.asarray(x), jnp.asarray(a)
    small = jnp.minimum(x, 30.0)
    direct = jnp.exp(jax.scipy.special.gammaln(small + a) - jax.scipy.special.gammaln(small))
    big = jnp.maximum(x, 30.0)
    inv, inv_a = 1 / big, 1 / (big + a)
    series = (inv_a - inv) / 12 - (inv_a**3 - inv**3) / 360 + (inv_a**5 - inv**5) / 1260  # error < 1e-15 at x >= 30
    u = a * inv  # (x - 1/2) log1p(u) - a = a (log1p(u)/u - 1) - log1p(u)/2, the bracket by its series at small u
    u_safe = jnp.maximum(u, 1e-2)
    bracket = jnp.where(u < 1e-2, sum((-u) ** j / (j + 1) for j in range(1, 9)), jnp.log1p(u_safe) / u_safe - 1)
    log_ratio = a * bracket - jnp.log1p(u) / 2 + a * jnp.log(big + a) + series
    return jnp.where(x < 30, direct, jnp.exp(log_ratio))


gamma_ratio = implemented_function("knn_gamma_ratio", _gamma_ratio_jax)


def gamma_function(x: sp.Expr) -> sp.Expr:
    """Gamma(x) = exp(log Gamma(x)) as an evaluation form (x > 0)."""
    return sp.exp(log_gamma(x))


def inverse_ball_power(a: sp.Expr) -> sp.Expr:
    """V_d^(-a) = Gamma(d/2 + 1)^a / pi^(a d / 2) for evaluation, in logs (no overflow for d <= 30)."""
    return sp.exp(a * (log_gamma(manifold_dim / 2 + 1) - manifold_dim / 2 * sp.log(sp.pi)))


def poisson_moment_expr() -> sp.Expr:
    """E r^p in the Poisson limit, P(r > s) = exp(-n V_d s^d / V) (sympy integral)."""
    s, a, rate = sp.Symbol("s", positive=True), sp.Symbol("a", positive=True), sp.Symbol("c", positive=True)
    # substitute u = c s^d (c = n V_d / V): E r^p = c^(-p/d) int_0^oo (p/d) u^(p/d - 1) e^(-u) du
    integral = sp.integrate(a * s ** (a - 1) * sp.exp(-s), (s, 0, sp.oo))
    return (sp.gammasimp(integral) * rate ** (-a)).subs({a: power / manifold_dim,
                                                        rate: n_samples * _unit_ball_volume_expr() / volume})


@FORMULAS.register("nn_distance_moment")
def _nn_distance_moment() -> Formula:
    expr = sp.powsimp(poisson_moment_expr())
    return Formula(
        expr=expr, params=(n_samples, manifold_dim, volume, power), domains=_DIM_DOMAIN,
        # powers taken one factor at a time: V / (n V_d) overflows or underflows at V = 1e300 or n = 1e-300
        evaluate_as=gamma_function(1 + power / manifold_dim) * volume ** (power / manifold_dim)
        * n_samples ** (-power / manifold_dim) * inverse_ball_power(power / manifold_dim),
        source=cite("sharma2020", "sec. 2 (neighbour distance ~ n^(-1/d); the constant derived here)"),
        derived=True,
        derivation="sympy: P(r > s) = exp(-n V_d s^d / V) (Poisson limit of (1 - V_d s^d / V)^n), "
                   "E r^p = int p s^(p-1) P(r > s) ds = Gamma(1 + p/d) (V / (n V_d))^(p/d)",
        conditions=(_TORUS, "large n_samples (Poisson limit): finite_n_factor gives the exact finite-n ratio",
                    "balls of the relevant radii do not wrap around the torus"),
        description="p-th moment of the distance from a query point to its nearest neighbour",
    )


def finite_n_factor(n, manifold_dim_value, power_value):
    r"""$n^{p/d}\,\Gamma(n+1)/\Gamma(n+1+p/d)$: exact finite-$n$ moment over ``nn_distance_moment``.

    Example:
        >>> round(float(finite_n_factor(1.0, 1, 2.0)), 12)   # n = 1, d = 1: Gamma(2)/Gamma(4) = 1/6
        0.166666666667
    """
    n = np.asarray(n, dtype=float)
    if np.any(n < 1) or not np.all(np.isfinite(n)):
        raise ValueError(f"n must be finite and >= 1, got {n!r}")
    a = np.asarray(power_value, dtype=float) / np.asarray(manifold_dim_value, dtype=float)
    return n**a / poch(n + 1, a)  # scipy's Pochhammer (n+1)_a = Gamma(n+1+a)/Gamma(n+1), accurate at large n


@FORMULAS.register("sphere_coordinate_moment")
def _sphere_coordinate_moment() -> Formula:
    d, m, x = manifold_dim, order, sp.Symbol("x", positive=True)
    gauss_1d = 2 * sp.integrate(x ** (2 * m) * sp.exp(-x**2 / 2), (x, 0, sp.oo)) / sp.sqrt(2 * sp.pi)
    radial = sp.integrate(x ** (2 * m + d - 1) * sp.exp(-x**2 / 2), (x, 0, sp.oo)) \
        / sp.integrate(x ** (d - 1) * sp.exp(-x**2 / 2), (x, 0, sp.oo))
    expr = sp.gammasimp(sp.simplify(gauss_1d / radial))
    return Formula(
        expr=expr, params=(manifold_dim, order), domains={**_DIM_DOMAIN, "order": sp.Interval(1, 30)},
        evaluate_as=sp.exp(log_gamma(manifold_dim / 2) + log_gamma(order + sp.S.Half)
                           - log_gamma(order + manifold_dim / 2)) / sp.sqrt(sp.pi),
        source="Gaussian polar decomposition z = |z| u (textbook)", derived=True,
        derivation="sympy: E z_1^(2m) / E |z|^(2m) for z ~ N(0, I_d), |z| independent of u = z/|z|",
        description="E u_1^(2m) for u uniform on the unit sphere S^(d-1) (1/d at m = 1)",
    )
