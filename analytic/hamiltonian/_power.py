r"""Power objectives $f = |x|^b/b$ with the matched kinetic energy $k = |p|^a/a$: exact linear rates.

Maddison et al. (arXiv:1809.05042v1) show that conformal Hamiltonian dynamics
$x' = \nabla k(p)$, $p' = -\nabla f(x) - \gamma p$ converges linearly on objectives with power
growth when the kinetic energy is matched to the objective's convex conjugate (their sec. 2
assumptions and the power-function examples of sec. 4; numbering unconfirmed), where gradient
descent and classical momentum are sublinear. Their bound goes through the constants of their
assumptions; what follows is the *exact* asymptotic rate for $f = |x|^b/b$, derived here with
sympy (not a formula quoted from the paper), in one dimension (in $d$ dimensions with the
Euclidean norms the same algebra holds):

* ``matched_kinetic_exponent``: the flow is equivariant under the scaling
  $(x, p) \mapsto (cx, c^{b-1}p)$ at unchanged time iff $(a-1)(b-1) = 1$, i.e.
  $a = b/(b-1)$, the conjugate exponent (sympy solve of the exponent of $c$).
* ``power_underdamped_loss_rate``: with $x = e^{-\sigma t}X$, $p = e^{-(b-1)\sigma t}P$ the
  rescaled field is $X' = \nabla k(P) + \sigma X$, $P' = -\nabla f(X) + ((b-1)\sigma - \gamma)P$;
  it is divergence-free (Hamiltonian, with energy $f(X) + k(P) + \sigma XP$) iff
  $\sigma = \gamma/b$ (sympy solve). By Young's inequality that energy has compact level sets
  iff $\gamma < b$: the rescaled state then stays on a closed orbit, and
  $f(x_t) = e^{-\gamma t} f(X_t)$: the loss decays at exactly the rate $\gamma$.
* ``power_ray_friction``: for $\gamma \ge b$ the ansatz $x = X_0 e^{-st}$,
  $p = -Q e^{-(b-1)st}$ solves the flow iff $\gamma = (b-1)s + s^{1-b}$ (sympy solve);
  trajectories approach the slow ray ($s \le 1$) and the loss decays at $b s$.
* ``power_critical_friction``: $\min_s [(b-1)s + s^{1-b}] = b$ at $s = 1$ (sympy solve of
  the derivative): rays exist iff $\gamma \ge b$, the same threshold as Young's. The loss rate
  $\gamma$ below it and $b s(\gamma)$ above it is largest, $b$, at $\gamma = b$.

For $b = 2$ these reduce to the heavy-ball ODE with unit curvature (``_quadratic``).
:func:`power_loss_rate` puts the branches together (a bisection inverts the ray friction).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.hamiltonian._symbols import exponent, friction, kinetic_exponent, position_rate
from analytic.references import cite
from analytic.symbols import t

FORMULAS = Formulas("hamiltonian")

_c, _X, _Q, _sigma = sp.symbols("c X Q sigma", positive=True)  # scale; magnitudes of x and p; rescaling rate
_BEYOND_ONE = (("exponent", sp.Interval.open(1, sp.oo)),)
_POWER = "f(x) = |x|^exponent / exponent, k(p) = |p|^a / a with a = exponent / (exponent - 1), one dimension"
_SOURCE = "sec. 2 (conformal Hamiltonian dynamics) and sec. 4 (power functions); exact rate derived here"


def _velocity(momentum_magnitude, a=kinetic_exponent):
    """|grad k(p)| = |p|^(a - 1) for k = |p|^a / a (sympy diff, at a positive momentum)."""
    return sp.diff(_Q**a / a, _Q).subs(_Q, momentum_magnitude)


@FORMULAS.register("matched_kinetic_exponent")
def _matched_kinetic_exponent() -> Formula:
    scaled = _velocity(_c ** (exponent - 1) * _Q) / _velocity(_Q)  # x' after (x, p) -> (c x, c^(b-1) p)
    power_of_c = sp.cancel(sp.expand_log(sp.log(sp.powsimp(scaled, force=True)), force=True) / sp.log(_c))
    (a,) = sp.solve(sp.Eq(power_of_c, 1), kinetic_exponent)  # x' must scale like x: c^1
    return Formula(
        expr=sp.factor(a), params=(exponent,), domains=_BEYOND_ONE, source=cite("maddison2018", _SOURCE),
        derived=True,
        derivation="sympy: the exponent of c in |c^(b-1) p|^(a-1) / |p|^(a-1) set to 1, solved for a",
        conditions=(_POWER.split(", k")[0], "the kinetic exponent making the flow scale-equivariant"),
        description="kinetic exponent a matched to f = |x|^b / b: the conjugate exponent b / (b - 1)",
    )


def _matched(expr: sp.Expr) -> sp.Expr:
    return expr.subs(kinetic_exponent, _matched_kinetic_exponent().expr)


def rescaled_field() -> tuple[sp.Expr, sp.Expr]:
    """(X', P') of X = e^(sigma t) x, P = e^((b-1) sigma t) p at X, P > 0 (chain rule, sympy)."""
    x, p = sp.exp(-_sigma * t) * _X, sp.exp(-(exponent - 1) * _sigma * t) * _Q
    x_dot = _matched(_velocity(p))  # x' = grad k(p) = |p|^(a-1) at p > 0
    p_dot = -sp.diff(_X**exponent / exponent, _X).subs(_X, x) - friction * p
    X_dot = sp.powsimp(sp.powdenest(sp.expand(_sigma * _X + sp.exp(_sigma * t) * x_dot), force=True), force=True)
    P_dot = sp.powsimp(sp.powdenest(sp.expand((exponent - 1) * _sigma * _Q
                                              + sp.exp((exponent - 1) * _sigma * t) * p_dot), force=True), force=True)
    def tidy(expr):  # cancel the exponents (the time factors cancel exactly: (b-1)(a-1) = 1)
        return expr.replace(lambda e: e.is_Pow, lambda e: sp.Pow(e.base, sp.cancel(e.exp))).replace(
            sp.exp, lambda arg: sp.exp(sp.cancel(arg)))

    return tidy(X_dot), tidy(P_dot)


@FORMULAS.register("power_underdamped_loss_rate")
def _power_underdamped_loss_rate() -> Formula:
    X_dot, P_dot = rescaled_field()
    divergence = sp.expand(sp.diff(X_dot, _X) + sp.diff(P_dot, _Q))
    (sigma,) = sp.solve(divergence, _sigma)
    return Formula(
        expr=sp.cancel(exponent * sigma), params=(friction,), source=cite("maddison2018", _SOURCE),
        derived=True,
        derivation="sympy: rescale x = e^(-sigma t) X, p = e^(-(b-1) sigma t) P; the rescaled field is "
                   "divergence-free iff sigma = friction / b (solve), so f = e^(-b sigma t) |X|^b / b",
        conditions=(_POWER, "friction < exponent (compact level sets of the rescaled energy, Young)",
                    "asymptotic rate of f and of the energy f + k, averaged over the rescaled orbit"),
        description="exact loss decay rate of conformal Hamiltonian dynamics on |x|^b/b below critical friction",
    )


@FORMULAS.register("power_ray_friction")
def _power_ray_friction() -> Formula:
    x, p = _X * sp.exp(-position_rate * t), -_Q * sp.exp(-(exponent - 1) * position_rate * t)
    # x' = grad k(p) = -|p|^(a-1) (p < 0), p' = -x^(b-1) - friction p; solved at t = 0 (the ray is
    # scale-equivariant, so every t gives the same equations; tests check t != 0)
    first = (sp.diff(x, t) + _matched(_velocity(-p))).subs(t, 0)
    (momentum_size,) = sp.solve(first, _Q)
    second = (sp.diff(p, t) + x ** (exponent - 1) + friction * p).subs(t, 0).subs(_Q, momentum_size)
    (gamma,) = sp.solve(second, friction)
    return Formula(
        expr=sp.powsimp(sp.expand(gamma)), params=(position_rate, exponent),
        domains=_BEYOND_ONE, source=cite("maddison2018", _SOURCE), derived=True,
        derivation="sympy: ansatz x = X0 e^(-s t), p = -Q e^(-(b-1) s t) in x' = grad k(p), "
                   "p' = -grad f(x) - friction p; solve the first for Q, the second for friction",
        conditions=(_POWER, "the slow branch position_rate <= 1 attracts; f decays at exponent * position_rate"),
        description="friction at which |x| decays exactly like e^(-s t) along a ray (s = position_rate)",
    )


@FORMULAS.register("power_critical_friction")
def _power_critical_friction() -> Formula:
    ray = _power_ray_friction().expr
    (turning,) = sp.solve(sp.diff(ray, position_rate), position_rate)
    return Formula(
        expr=sp.expand(ray.subs(position_rate, turning)), params=(exponent,), domains=_BEYOND_ONE,
        source=cite("maddison2018", _SOURCE), derived=True,
        derivation="sympy: minimum of power_ray_friction over position_rate (solve d/ds = 0: s = 1)",
        conditions=(_POWER, "rays exist iff friction >= it; the loss rate is largest, exponent, there"),
        description="critical friction of conformal Hamiltonian dynamics on |x|^b/b (b for the matched kinetic)",
    )


def _check_power_inputs(friction_value, exponent_value):
    g, b = np.asarray(friction_value, dtype=float), np.asarray(exponent_value, dtype=float)
    if not np.all(np.isfinite(g)) or np.any(g <= 0):
        raise ValueError(f"friction must be finite and > 0, got {friction_value!r}")
    if not np.all(np.isfinite(b)) or np.any(b <= 1):
        raise ValueError(f"exponent must be finite and > 1 (f = |x|^b / b), got {exponent_value!r}")


def power_loss_rate(friction, exponent, *, formulas: dict[str, Formula] | None = None) -> jax.Array:
    r"""Asymptotic decay rate of $f(x_t)$ for conformal Hamiltonian dynamics on $|x|^b/b$ (matched $k$).

    ``friction`` $\le b$ (``power_critical_friction``): ``power_underdamped_loss_rate`` ($=\gamma$; the
    branches meet at $\gamma = b$, $s = 1$);
    above: $b\,s$ with $s \in (0, 1]$ solving ``power_ray_friction`` $(s, b) = \gamma$ (bisection in
    $\log s$ on $[-\log\gamma/(b-1), 0]$, where the ray friction decreases from $\ge\gamma$ to $b$;
    60 halvings: float64 resolution). ``formulas`` overrides the Formulas by short name.
    Broadcasts over its arguments.

    Example:
        >>> round(float(power_loss_rate(friction=5.0, exponent=4.0)), 6)  # 4 s with 3 s + s^-3 = 5
        2.80655
    """
    _check_power_inputs(friction, exponent)
    chosen = {short: FORMULAS[short]() for short in ("power_underdamped_loss_rate", "power_ray_friction",
                                                      "power_critical_friction")}
    chosen.update(formulas or {})
    gamma, b = np.broadcast_arrays(np.asarray(friction, dtype=float), np.asarray(exponent, dtype=float))
    ray, under, critical = (chosen[k] for k in ("power_ray_friction", "power_underdamped_loss_rate",
                                               "power_critical_friction"))
    return _branches(ray.jax, under.jax, critical.jax, tuple(p.name for p in ray.params))(gamma, b)


def _branches(ray, underdamped, critical, ray_order):
    """The jitted branch selection and bisection for these Formulas' JAX functions (one compile per call)."""

    def ray_friction(s, b):
        values = {"position_rate": s, "exponent": b}
        return ray(*(values[name] for name in ray_order))

    @jax.jit
    def rate(gamma, b):
        def halve(_, bracket):
            lo, hi = bracket
            mid = (lo + hi) / 2
            above = ray_friction(jnp.exp(mid), b) > gamma
            return jnp.where(above, mid, lo), jnp.where(above, hi, mid)

        lo, hi = jax.lax.fori_loop(0, 60, halve, (-jnp.log(jnp.maximum(gamma, b)) / (b - 1), jnp.zeros_like(b)))
        return jnp.where(gamma <= critical(b), underdamped(gamma) * jnp.ones_like(b), b * jnp.exp((lo + hi) / 2))

    return rate
