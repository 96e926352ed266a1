r"""Expected loss over a whole spectrum: the moment map of ``nqm.second_moment_step`` iterated.

$\mathbb E L_t = \tfrac12\sum_i h_i\mathbb E\theta_{i,t}^2$, each dimension advanced by
the exact second-moment map with the effective step $\alpha h_i^{-p}$. Also the
argument checks shared with :mod:`analytic.nqm._steps`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from analytic.formula import Formula, real_array
from analytic.nqm._moments import _max_stable_lr, _second_moment_step, _sgd_expected_loss


def check_spectrum(h_values, c_values, theta0, *, caller: str = "nqm.check_spectrum"
                   ) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Validate and broadcast a spectrum: 1-D ``h`` > 0, ``c`` >= 0, finite ``theta0``
    (messages start with ``caller``, the function the user called)."""
    if not isinstance(h_values, jax.core.Tracer):
        real_array(caller, "h", h_values)
    hv = jnp.asarray(h_values)
    if hv.ndim != 1 or hv.shape[0] < 1:
        raise ValueError(f"{caller}: h must be a non-empty 1-D array of curvatures, got shape {hv.shape}")
    if not jnp.issubdtype(hv.dtype, jnp.inexact):
        hv = hv.astype(jnp.result_type(float))
    cv = jnp.broadcast_to(jnp.asarray(c_values, hv.dtype), hv.shape)
    th = jnp.broadcast_to(jnp.asarray(theta0, hv.dtype), hv.shape)
    if not isinstance(hv, jax.core.Tracer):
        _sgd_expected_loss().check_arguments(caller, alpha=1.0, h=hv, c=cv, B=1.0, t=0, e0=th)
    return hv, cv, th


def check_hyperparameters(alpha_value, beta_value, p_value, batch, *, caller: str = "nqm.check_hyperparameters"
                          ) -> None:
    """ValueError naming alpha (<= 0), beta (outside [0, 1)), p or B (< 1); messages start with ``caller``."""
    if any(isinstance(v, jax.core.Tracer) for v in (alpha_value, beta_value, p_value, batch)):
        return
    # The domains are those of the moment map (alpha, beta, B) and the stability limit (p):
    # both are cheap, already-needed derivations (the preconditioned steady state, with the
    # same domains, takes seconds of sympy.solve). Checked in the order alpha, beta, p, B.
    step, limit = _second_moment_step(), _max_stable_lr()
    step.check_arguments(caller, alpha=alpha_value, beta=beta_value)
    limit.check_arguments(caller, p=p_value)
    step.check_arguments(caller, B=batch)


def moment_step_or_default(moment_step: Formula | None) -> Formula:
    """``moment_step`` if given (a check passes the Formula it received), else the catalogue's."""
    return _second_moment_step() if moment_step is None else moment_step


def expected_loss_curve(alpha, beta, p, h, c, B, theta0, steps: int, *, moment_step: Formula | None = None):
    r"""Exact $\mathbb E L_t = \tfrac12\sum_i h_i\mathbb E\theta_{i,t}^2$ for $t = 0..steps$.

    Iterates ``nqm.second_moment_step`` (or the Formula ``moment_step`` with its
    parameters) with the effective step $\alpha h_i^{-p}$ from $\theta_0 = $ ``theta0``
    and zero initial velocity ($\theta_{-1} = \theta_0$). ``h``, ``c``, ``theta0``: the
    spectrum (1-D, broadcast); scalars ``alpha``, ``beta``, ``p``, ``B``. An unstable
    ``alpha`` is allowed: the curve then grows (to inf).

    Example:
        >>> from analytic import nqm
        >>> nqm.expected_loss_curve(0.5, 0.0, 0.0, h=[1.0], c=[0.0], B=4, theta0=1.0, steps=2)
        Array([0.5    , 0.125  , 0.03125], dtype=float64)
    """
    hv, cv, th = check_spectrum(h, c, theta0, caller="nqm.expected_loss_curve")
    check_hyperparameters(alpha, beta, p, B, caller="nqm.expected_loss_curve")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    return _loss_curve(jnp.asarray(alpha, hv.dtype), jnp.asarray(beta, hv.dtype),
                       jnp.asarray(p, hv.dtype), hv, cv, jnp.asarray(B, hv.dtype), th,
                       steps=int(steps), moment_step=moment_step_or_default(moment_step))


@functools.partial(jax.jit, static_argnames=("steps", "moment_step"))
def _loss_curve(alpha_, beta_, p_, hv, cv, batch, th, steps, moment_step):
    step = moment_step.jax
    effective = alpha_ * hv ** (-p_)

    def advance(state, _):
        new = step(effective, beta_, hv, cv, batch, *state)
        return new, 0.5 * jnp.sum(hv * new[0])

    start = (th**2, th**2, th**2)
    _, losses = jax.lax.scan(advance, start, None, length=steps)
    return jnp.concatenate([0.5 * jnp.sum(hv * th**2)[None], losses])
