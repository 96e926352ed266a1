r"""Learning-rate schedules on the noisy quadratic model: exact expected loss, best step-decay point.

Model statement (Zhang et al. 2019, arXiv:1907.04164v2, sec. 3; the NQM of ``analytic.nqm``):
per dimension $L = \tfrac12 h\theta^2$, gradient $h\theta + \xi$, $E\xi^2 = c/B$, and heavy-ball
SGD with a step size $\alpha_t$ that changes from step to step. The second-moment map of one
step, ``nqm.second_moment_step``, involves only the step size *of that step*, so composing it
with $\alpha_0, \alpha_1, \dots$ gives $E L_t$ exactly under any schedule
(:func:`scheduled_expected_loss`): constant, step decay, linear warm-up, cosine.

Step decay (SGD): $\alpha$ for $k$ steps, then $\gamma\alpha$ until the budget $T$. In one
dimension the map is affine in $E\theta^2$; sympy reads off its slope and fixed point, so each
phase is $s_n = s^* + (s_0 - s^*)r^n$, composes them, and solves
$\partial_k E L_T = 0$: with $r_1 = (1-\alpha h)^2$, $r_2 = (1-\gamma\alpha h)^2$ and the two
noise floors $s_1 = \alpha c/(Bh(2-\alpha h))$, $s_2 = \gamma\alpha c/(Bh(2-\gamma\alpha h))$,

$$k^* = \frac{1}{\ln r_1}\ln\frac{(s_1 - s_2)\ln r_2}{(e_0^2 - s_1)\ln(r_1/r_2)},$$

independent of the budget $T$ (as long as $k^* < T$): after the decay every deviation shrinks
by the same $r_2$ per step, so the trade-off is decided at the decay step alone. Over a
spectrum there is no closed form: :func:`best_step_decay` scans every decay step with the
exact composite.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.nqm import check_spectrum
from analytic.optimizers._symbols import B, c, gamma, h
from analytic.references import cite
from analytic.symbols import alpha, beta, e0

FORMULAS = Formulas("optimizers")

__all__ = ["scheduled_expected_loss", "StepDecay", "best_step_decay"]


def _sgd_map() -> sp.Expr:
    """E theta_{t+1}^2 from E theta_t^2: ``nqm.second_moment_step`` at beta = 0 (in this family's symbols)."""
    from analytic import nqm

    step = nqm.second_moment_step
    names = {s.name: s for s in step.params}
    ours = {names["h"]: h, names["c"]: c, names["B"]: B}
    return step.expr[0].subs(beta, 0).subs(ours, simultaneous=True), names["theta_sq"]


@FORMULAS.register("nqm_step_decay_time")
def _nqm_step_decay_time() -> Formula:
    update, state = _sgd_map()
    # The map is affine in s = E theta^2: s_n = s* + (s_0 - s*) r^n, r its slope, s* its fixed point.
    rate = sp.factor(sp.diff(update, state))
    (floor,) = sp.solve(sp.Eq(update, state), state)
    k, T = sp.symbols("k T", nonnegative=True)
    # Atoms for the two phases' rates and floors (substituted at the end) keep the solve small.
    R1, R2, S1, S2, X = sp.symbols("R1 R2 S1 S2 X", positive=True)
    after_decay = S1 + (e0**2 - S1) * R1**k
    final = S2 + (after_decay - S2) * R2 ** (T - k)
    slope = sp.expand(sp.diff(final, k) / R2 ** (T - k))
    (root,) = sp.solve(slope.subs(R1**k, X), X)  # R1^k at the optimum
    values = {R1: rate, R2: rate.subs(alpha, gamma * alpha), S1: sp.factor(floor),
              S2: sp.factor(floor.subs(alpha, gamma * alpha))}
    clean = (sp.log(sp.factor(root)) / sp.log(R1)).subs(values)
    # log r = log (1 - alpha h)^2 = 2 log1p(-alpha h): keeps the digits of a rate that rounds to 1
    stable = clean.subs({sp.log((alpha * h - 1) ** 2): 2 * log1p(-alpha * h),
                         sp.log((alpha * gamma * h - 1) ** 2): 2 * log1p(-alpha * gamma * h)})
    if stable.has(sp.log((alpha * h - 1) ** 2)) or not stable.has(log1p):
        raise AssertionError(f"nqm_step_decay_time: the log1p rewrite did not apply to {clean}")
    # log(A / (e0^2 + s1)) = log A - 2 log|e0| - log1p(s1/e0/e0) (s1 = -(noise floor)): e0^2 overflows
    # from |e0| = 1.3e154 (inf for a true 998.5 at e0 = 1e300) and underflows below 1e-154.
    s1 = alpha * c / (B * h * (alpha * h - 2))
    (arg,) = [a.args[0] for a in stable.atoms(sp.log) if a.args[0].has(e0)]
    rest = arg * (e0**2 + s1)
    if rest.has(e0):
        raise AssertionError(f"nqm_step_decay_time: e0^2 + s1 did not factor out of {arg}")
    # log(rest) = log|x| + log|y| with x the noise-floor difference and y the ratio of logs: their
    # product underflows for alpha h ~ 1e-300 (log 0 = -inf; the true time is 1e303)
    x = sp.Mul(*[factor for factor in rest.as_ordered_factors() if factor.has(c)])
    y = sp.simplify(rest / x)
    if y.has(c) or sp.simplify(x * y - rest) != 0:
        raise AssertionError(f"nqm_step_decay_time: could not split {rest}")
    log_rest = sp.Piecewise((sp.log(sp.Abs(x)) + sp.log(sp.Abs(y)), sp.sign(x) * sp.sign(y) > 0),
                            (sp.log(rest), True))
    stable = stable.subs(sp.log(arg), log_rest - 2 * sp.log(sp.Abs(e0))
                         - log1p(sp.UnevaluatedExpr(s1 / e0) / e0))  # not s1/e0**2: no e0**2 at all
    return Formula(
        expr=clean,
        evaluate_as=stable,
        params=(alpha, gamma, h, c, B, e0),
        source=cite("zhang2019", "sec. 3.1 (SGD on the NQM); step decay on it (derived here)"),
        derived=True,
        derivation="the SGD second-moment map (nqm.second_moment_step, beta = 0) is affine: slope "
                   "(diff) and fixed point (solve) give each phase in closed form; composed; sympy.solve of d E[L_T] / dk = 0 for (1 - alpha h)^(2k); written in the noise "
                   "floors s1, s2 (equal to sympy's root, checked at sample points)",
        conditions=("one dimension, SGD, decay by gamma at step k; the optimum does not depend on the "
                    "budget T once T > k*; a negative value means: decay at once",),
        constraints=(sp.Lt(alpha * h, 1), sp.Lt(gamma, 1), sp.Gt(c, 0),
                     sp.Gt(e0**2, alpha * c / (B * h * (2 - alpha * h)))),
        domains={"B": sp.Interval(1, sp.oo)},
        description="continuous step at which to decay the learning rate by gamma to minimise the final "
                    "expected loss of SGD on one NQM dimension",
    )


def _moment_step_or_default(moment_step: Formula | None) -> Formula:
    from analytic import nqm

    return nqm.second_moment_step if moment_step is None else moment_step


def scheduled_expected_loss(lrs, h, c, B, theta0, momentum=0.0, *, moment_step: Formula | None = None):
    r"""Exact $E L_t = \tfrac12\sum_i h_i E\theta_{i,t}^2$, $t = 0..T$, under the schedule ``lrs``.

    ``lrs``: (T,) or (schedules, T), the step size used at each step (``lrs[..., t]`` takes
    $\theta_t$ to $\theta_{t+1}$). ``h``, ``c``, ``theta0``: the spectrum (1-D, broadcast);
    ``B`` the batch size; ``momentum`` heavy ball's beta (0: SGD), constant. Composes
    ``nqm.second_moment_step`` (or ``moment_step``) step by step; zero initial velocity.
    Returns (T + 1,) or (schedules, T + 1).

    Example:
        >>> from analytic import optimizers
        >>> optimizers.scheduled_expected_loss([0.5, 0.25], h=[1.0], c=[0.0], B=1, theta0=1.0)
        Array([0.5      , 0.125    , 0.0703125], dtype=float64)
    """
    hv, cv, th = check_spectrum(h, c, theta0)
    schedule = jnp.asarray(lrs, hv.dtype)
    if schedule.ndim not in (1, 2) or schedule.shape[-1] < 1:
        raise ValueError(f"lrs must be (T,) or (schedules, T) with T >= 1, got shape {schedule.shape}")
    if not isinstance(schedule, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(schedule) & (schedule >= 0))):
        raise ValueError(f"lrs must be finite and >= 0, got minimum {float(jnp.min(schedule))}")
    if not 0.0 <= float(momentum) < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if not float(B) >= 1.0:
        raise ValueError(f"B must be >= 1, got {B!r}")
    curves = _scheduled(jnp.atleast_2d(schedule), jnp.asarray(momentum, hv.dtype), hv, cv,
                        jnp.asarray(B, hv.dtype), th, moment_step=_moment_step_or_default(moment_step))
    return curves if schedule.ndim == 2 else curves[0]


@functools.partial(jax.jit, static_argnames=("moment_step",))
def _scheduled(schedules, momentum, hv, cv, batch, th, moment_step):
    step = moment_step.jax

    def one(schedule):
        def advance(state, lr):
            new = step(lr, momentum, hv, cv, batch, *state)
            return new, 0.5 * jnp.sum(hv * new[0])

        _, losses = jax.lax.scan(advance, (th**2, th**2, th**2), schedule)
        return jnp.concatenate([0.5 * jnp.sum(hv * th**2)[None], losses])

    return jax.vmap(one)(schedules)


class StepDecay(NamedTuple):
    """Best step-decay point for a budget: ``final_losses[k]`` = E L_T when decaying at step k."""

    decay_step: int  # argmin of final_losses (k = budget: never decay)
    final_loss: float
    final_losses: np.ndarray  # (budget + 1,)


def best_step_decay(alpha, gamma, budget: int, h, c, B, theta0, momentum=0.0, *,
                    moment_step: Formula | None = None) -> StepDecay:
    """The decay step k in 0..budget minimising the exact E L_T of alpha for k steps, then gamma alpha.

    Every k is evaluated with :func:`scheduled_expected_loss` (one vmapped scan).
    """
    if not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(f"alpha must be finite and > 0, got {alpha!r}")
    if not 0 < gamma < 1:
        raise ValueError(f"gamma must be in (0, 1), got {gamma!r}")
    if isinstance(budget, bool) or int(budget) != budget or budget < 1:
        raise ValueError(f"budget must be an integer >= 1, got {budget!r}")
    steps = np.arange(int(budget))
    schedules = np.where(steps[None, :] < np.arange(int(budget) + 1)[:, None], alpha, gamma * alpha)
    finals = np.asarray(scheduled_expected_loss(schedules, h, c, B, theta0, momentum,
                                                moment_step=moment_step))[:, -1]
    best = int(np.argmin(finals))
    return StepDecay(best, float(finals[best]), finals)
