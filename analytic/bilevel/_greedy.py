r"""Short-horizon bias on the noisy quadratic model: the greedy (one-step-optimal) learning rate.

Model (Wu, Ren, Liao, Grosse 2018, arXiv:1803.02021v1, sec. 3; equation numbers
unconfirmed): dimensions $i$ with curvature $\lambda_i$ (``lam``), loss
$L = \tfrac12\sum_i\lambda_i\theta_i^2$, SGD $\theta_i \leftarrow \theta_i - \alpha(\lambda_i\theta_i + \xi_i)$
with independent noise $\mathbb E\xi_i = 0$, $\operatorname{Var}\xi_i = \sigma_i^2$ (``noise``).
sympy derives from that update rule alone:

* ``next_second_moment``: $\mathbb E\theta_i'^2 = (1 - \alpha\lambda_i)^2 m_i + \alpha^2\sigma_i^2$
  with $m_i = \mathbb E\theta_i^2$ (``second_moment``);
* the greedy rate, the $\alpha$ minimising the next expected loss
  $\tfrac12\sum_i\lambda_i\mathbb E\theta_i'^2$: its derivative in $\alpha$ is
  $\sum_i(\alpha D_i - N_i)$, so
  $$\alpha^{\rm greedy} = \frac{\sum_i N_i}{\sum_i D_i},\quad N_i = \lambda_i^2 m_i,\ 
  D_i = \lambda_i^3 m_i + \lambda_i\sigma_i^2$$
  (``greedy_lr_numerator``, ``greedy_lr_denominator``, summed by :func:`greedy_lr`);
* in one dimension the greedy schedule in closed form: $1/m$ grows by $\lambda^2/\sigma^2$
  per step (``rsolve``), so
  $$\alpha_t = \frac{\lambda m_0}{\lambda^2 m_0 (t + 1) + \sigma^2} \sim \frac{1}{\lambda t}$$
  (``greedy_schedule_1d``). With several curvatures the greedy rate follows the
  high-curvature ones, whose noise floor it keeps lowering, and decays faster than the
  schedule that is optimal for the final loss over the whole horizon: the
  low-curvature directions are left unoptimised (the short-horizon bias).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import sympy as sp

from analytic._registry import Formulas
from analytic.bilevel._symbols import m0, noise, second_moment
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import alpha, lam, t

FORMULAS = Formulas("bilevel")

_theta, _xi = sp.Symbol("theta", real=True), sp.Symbol("xi", real=True)
_DIM = "one NQM dimension: curvature lam, gradient-noise variance noise, E[theta^2] = second_moment"


def _expect(expr: sp.Expr) -> sp.Expr:
    """E over theta (E theta^2 = second_moment) and independent xi (E xi = 0, E xi^2 = noise)."""
    poly = sp.Poly(sp.expand(expr), _theta, _xi)
    moments = {(0, 0): 1, (2, 0): second_moment, (0, 2): noise, (2, 2): second_moment * noise}
    return sp.expand(sum(c * moments.get(k, 0) if k[1] != 1 else 0 for k, c in poly.terms()))


@FORMULAS.register("next_second_moment")
def _next_second_moment() -> Formula:
    update = _theta - alpha * (lam * _theta + _xi)
    return Formula(
        expr=sp.factor_terms(_expect(update**2)), params=(alpha, lam, noise, second_moment),
        source=cite("wu2018", "sec. 3 (noisy quadratic model; eq. number unconfirmed)"), derived=True,
        derivation="sympy: E[(theta - alpha (lam theta + xi))^2] expanded, E xi = 0, E xi^2 = noise",
        conditions=(_DIM, "xi independent of theta, fresh every step"),
        description="exact one-step map of E[theta^2] under SGD on the noisy quadratic model",
    )


def _next_loss_slope() -> sp.Poly:
    """d/dalpha of one dimension's next expected loss lam/2 E[theta'^2], a polynomial in alpha."""
    return sp.Poly(sp.diff(lam / 2 * _next_second_moment().expr, alpha), alpha)


@FORMULAS.register("greedy_lr_numerator")
def _greedy_lr_numerator() -> Formula:
    return Formula(
        expr=sp.factor(-_next_loss_slope().coeff_monomial(1)), params=(lam, second_moment),
        source=cite("wu2018", "sec. 3, greedy-optimal learning rate (eq. number unconfirmed)"), derived=True,
        derivation="sympy: minus the alpha^0 coefficient of d/dalpha [lam/2 next_second_moment]",
        conditions=(_DIM, "greedy rate = sum_i numerator_i / sum_i denominator_i"),
        description="one dimension's term N_i = lam^2 E[theta^2] of the greedy learning rate's numerator",
    )


@FORMULAS.register("greedy_lr_denominator")
def _greedy_lr_denominator() -> Formula:
    return Formula(
        expr=sp.factor(_next_loss_slope().coeff_monomial(alpha)), params=(lam, noise, second_moment),
        source=cite("wu2018", "sec. 3, greedy-optimal learning rate (eq. number unconfirmed)"), derived=True,
        derivation="sympy: the alpha^1 coefficient of d/dalpha [lam/2 next_second_moment]",
        conditions=(_DIM, "greedy rate = sum_i numerator_i / sum_i denominator_i"),
        description="one dimension's term D_i = lam^3 E[theta^2] + lam noise of the greedy rate's denominator",
    )


@FORMULAS.register("greedy_schedule_1d")
def _greedy_schedule_1d() -> Formula:
    m, n, u = sp.Symbol("m", positive=True), sp.Symbol("n", integer=True, nonnegative=True), sp.Function("u")
    greedy = _greedy_lr_numerator().expr / _greedy_lr_denominator().expr
    after = _next_second_moment().expr.subs(alpha, greedy)
    inverse_step = sp.expand(sp.simplify(1 / after.subs(second_moment, m)).subs(m, 1 / u(n)))
    inverse = sp.rsolve(u(n + 1) - inverse_step, u(n), {u(0): 1 / m0}).subs(n, t)
    schedule = sp.factor(sp.simplify(greedy.subs(second_moment, 1 / inverse)))
    return Formula(
        expr=schedule, params=(lam, noise, m0, t),
        # lam m0 / (lam^2 m0 (t + 1) + noise) = 1 / (lam (t + 1) + (noise/lam)/m0) where lam >= 1: no
        # lam^2 m0 overflow (0 instead of 7e-301 at lam = 1e300)
        evaluate_as=sp.Piecewise(
            (1 / (lam * (t + 1) + sp.UnevaluatedExpr(sp.UnevaluatedExpr(noise / lam) / m0)), lam >= 1),
            (schedule, True)),
        source=cite("wu2018", "sec. 3, greedy schedule of one dimension (eq. number unconfirmed)"), derived=True,
        derivation="sympy: the greedy rate substituted in next_second_moment gives 1/m_{t+1} = 1/m_t + "
                   "lam^2/noise; rsolve from m_0 = m0, then the greedy rate at m_t",
        conditions=("one NQM dimension from E[theta_0^2] = m0, greedy rate at every step",),
        description="greedy learning rate at step t in one dimension (decays like 1/(lam t))",
    )


def _call(formula: Formula, **values):
    """``formula.jax`` with keyword values (unchecked: callers check once, up front)."""
    return formula.jax(*(values[name] for name in formula.param_names))


def greedy_lr(lam_values, second_moments, noise_values, *, numerator: Formula | None = None,
              denominator: Formula | None = None):
    r"""The greedy rate $\sum_i N_i / \sum_i D_i$ over the last axis (the NQM's dimensions).

    Example:
        >>> from analytic import bilevel
        >>> float(bilevel.greedy_lr([1.0, 4.0], [1.0, 1.0], [1.0, 1.0]))   # (1 + 16) / (2 + 68)
        0.24285714285714285
    """
    numerator = _greedy_lr_numerator() if numerator is None else numerator
    denominator = _greedy_lr_denominator() if denominator is None else denominator
    top = numerator(lam=lam_values, second_moment=second_moments)
    bottom = denominator(lam=lam_values, noise=noise_values, second_moment=second_moments)
    return jnp.sum(top, axis=-1) / jnp.sum(bottom, axis=-1)


def greedy_schedule(lam_values, noise_values, m0_values, steps: int, *, numerator: Formula | None = None,
                    denominator: Formula | None = None, moment: Formula | None = None):
    r"""The greedy schedule over a spectrum and its exact expected losses.

    Returns ``(rates, losses)``: ``rates[t]`` for t = 0..steps-1 (:func:`greedy_lr` at
    the current moments), ``losses[t]`` $= \tfrac12\sum_i\lambda_i m_{i,t}$ for
    t = 0..steps, the moments $m_{i,t}$ advanced by ``next_second_moment`` (a ``lax.scan``).

    Example:
        >>> from analytic import bilevel
        >>> rates, losses = bilevel.greedy_schedule([2.0], [0.5], [1.0], steps=3)
        >>> rates   # one dimension: greedy_schedule_1d at t = 0, 1, 2
        Array([0.44444444, 0.23529412, 0.16      ], dtype=float64)
    """
    numerator = _greedy_lr_numerator() if numerator is None else numerator
    denominator = _greedy_lr_denominator() if denominator is None else denominator
    moment = _next_second_moment() if moment is None else moment
    lam_values = jnp.atleast_1d(jnp.asarray(lam_values, dtype=jnp.result_type(float)))
    noise_values = jnp.broadcast_to(jnp.asarray(noise_values, lam_values.dtype), lam_values.shape)
    m = jnp.broadcast_to(jnp.asarray(m0_values, lam_values.dtype), lam_values.shape)
    if lam_values.ndim != 1:
        raise ValueError(f"lam_values must be 1-D (one curvature per dimension), got shape {lam_values.shape}")
    if isinstance(steps, bool) or int(steps) != steps or int(steps) < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    moment.check_arguments(alpha=1.0, lam=lam_values, noise=noise_values, second_moment=m)
    _greedy_lr_denominator().check_arguments(lam=lam_values, noise=noise_values, second_moment=m)
    return _greedy_run(lam_values, noise_values, m, steps=int(steps), numerator=numerator,
                       denominator=denominator, moment=moment)


@functools.partial(jax.jit, static_argnames=("steps", "numerator", "denominator", "moment"))
def _greedy_run(lam_values, noise_values, m, *, steps, numerator, denominator, moment):
    """:func:`greedy_schedule` on validated arrays: one compiled program per (Formulas, steps, shape)."""

    def step(m, _):
        top = _call(numerator, lam=lam_values, second_moment=m)
        bottom = _call(denominator, lam=lam_values, noise=noise_values, second_moment=m)
        rate = jnp.sum(top) / jnp.sum(bottom)
        m = _call(moment, alpha=rate, lam=lam_values, noise=noise_values, second_moment=m)
        return m, (rate, jnp.sum(lam_values * m) / 2)

    _, (rates, losses) = jax.lax.scan(step, m, None, length=steps)
    return rates, jnp.concatenate([jnp.sum(lam_values * m)[None] / 2, losses])
