r"""The noisy quadratic model (NQM): SGD, heavy-ball momentum and preconditioning.

Model statement (Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse 2019,
"Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a Noisy
Quadratic Model", arXiv:1907.04164v2, sec. 3). The loss is separable,
$L(\theta) = \tfrac12\sum_i h_i\theta_i^2$, and a mini-batch of size $B$ returns
the gradient $g_i = h_i\theta_i + \xi_i$ with $\mathbb E\,\xi_i = 0$,
$\operatorname{Var}\xi_i = c_i/B$, independent across steps and dimensions (the
paper takes $c_i = h_i$; here $c$ stays general). The optimiser, per dimension, is
preconditioned heavy-ball momentum

$$\theta_{t+1} = \theta_t - \alpha h^{-p} g_t + \beta(\theta_t - \theta_{t-1}),$$

which is SGD at $\beta = p = 0$. Every dimension evolves on its own, so every
Formula below is per dimension; a spectrum is a sum over dimensions.

What sympy derives here, from that update rule alone:

* the mean recursion $\mathbb E\theta_{t+1} = (1+\beta-a h)\mathbb E\theta_t
  - \beta\,\mathbb E\theta_{t-1}$ ($a = \alpha h^{-p}$) and, by expanding
  $\mathbb E[\theta_{t+1}^2]$ and $\mathbb E[\theta_{t+1}\theta_t]$, the closed linear
  system in $(\mathbb E\theta_t^2, \mathbb E\theta_t\theta_{t-1}, \mathbb E\theta_{t-1}^2)$
  (``nqm.second_moment_step``);
* for SGD, its solution over time by ``rsolve`` (``nqm.sgd_mean``,
  ``nqm.sgd_expected_loss``); for momentum the solution is the iterated linear map
  (:func:`expected_loss_curve`), whose modes are $r_1^2, r_1r_2 = \beta, r_2^2$ with
  $r_{1,2}$ the roots of the mean recursion (asserted in the tests);
* the stability condition (Jury criterion on the mean recursion,
  ``nqm.max_stable_lr``) and the steady-state loss $\tfrac12 h\,\mathbb E\theta_\infty^2$
  as the fixed point of the moment system (``nqm.*_steady_state_loss``);
* steps to reach a target loss with hyperparameters tuned per batch size
  (:func:`tuned_steps_to_target`) and the critical batch size
  (:func:`critical_batch_size`), in :mod:`analytic.nqm_steps`.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import sympy as sp

from analytic.family import formula_builder, lazy_attributes
from analytic.formula import Formula
from analytic._legacy_symbols import B, alpha, beta, c, e0, h, p, t, theta_cross, theta_prev_sq, theta_sq

__all__ = ["FORMULAS", "SOURCE", "expected_loss_curve", "moment_matrix", "mean_characteristic_polynomial",
           "check_spectrum", "check_hyperparameters"]

FORMULAS: dict = {}
SOURCE = ("Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse 2019, arXiv:1907.04164v2")
_BATCH = sp.Interval(1, sp.oo)
_MOMENTUM = sp.Interval.Ropen(0, 1)

# Random variables of one step: theta_t, theta_{t-1} and the gradient noise xi_t.
_theta, _theta_prev, _xi = sp.symbols("theta theta_prev xi", real=True)
_MOMENTS = {(2, 0, 0): theta_sq, (1, 1, 0): theta_cross, (0, 2, 0): theta_prev_sq, (0, 0, 2): c / B}


def _update(step: sp.Expr, momentum: sp.Expr, power: sp.Expr) -> sp.Expr:
    """theta_{t+1} as a polynomial in theta_t, theta_{t-1}, xi_t (the model statement)."""
    gradient = sp.diff(h * _theta**2 / 2, _theta) + _xi
    return _theta - step * h**(-power) * gradient + momentum * (_theta - _theta_prev)


def _expectation(poly: sp.Expr) -> sp.Expr:
    """E[poly] for a quadratic in (theta_t, theta_{t-1}, xi_t).

    xi_t is independent of the past with E xi = 0 and E xi^2 = c/B, so every term
    linear in xi vanishes; the rest are the second moments of the state.
    """
    out = sp.S.Zero
    for powers, coefficient in sp.Poly(sp.expand(poly), _theta, _theta_prev, _xi).terms():
        if powers[2] == 1:
            continue
        if powers not in _MOMENTS:
            raise ValueError(f"moment {powers} is not second order")
        out += coefficient * _MOMENTS[powers]
    return out


@functools.cache
def _moment_system(power: sp.Expr = p) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(E theta_{t+1}^2, E theta_{t+1} theta_t, E theta_t^2) in terms of the moments at t."""
    nxt = _update(alpha, beta, power)
    return (sp.expand(_expectation(nxt**2)), sp.expand(_expectation(nxt * _theta)), theta_sq)


def moment_matrix(power: sp.Expr = p) -> sp.Matrix:
    """The 3x3 transition matrix of the second moments (the noise is the constant term)."""
    state = (theta_sq, theta_cross, theta_prev_sq)
    return sp.Matrix([[sp.diff(e, v) for v in state] for e in _moment_system(power)])


def mean_characteristic_polynomial(z: sp.Symbol, power: sp.Expr = p) -> sp.Expr:
    """z^2 - (1 + beta - alpha h^{1-p}) z + beta: E theta_t = sum_j a_j r_j^t, r_j its roots."""
    m = sp.Function("m")
    k = sp.Symbol("k", integer=True)
    nxt = _update(alpha, beta, power).subs(_xi, 0)  # E xi = 0; the update is linear
    recursion = m(k + 1) - nxt.subs({_theta: m(k), _theta_prev: m(k - 1)})
    return sp.expand(recursion.subs({m(k + 1): z**2, m(k): z, m(k - 1): 1}))


def _stable(step: sp.Expr, momentum: sp.Expr, power: sp.Expr) -> sp.Boolean:
    return step < _derive_max_stable_lr().expr.subs({beta: momentum, p: power})


@formula_builder(FORMULAS, "sgd_mean")
def _derive_sgd_mean() -> Formula:
    m = sp.Function("m")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    recursion = _update(alpha, 0, 0).subs({_xi: 0, _theta: m(k)})
    solution = sp.rsolve(m(k + 1) - recursion, m(k), {m(0): e0})
    return Formula(
        name="nqm.sgd_mean", expr=solution.subs(k, t), params=(alpha, h, t, e0),
        source=f"{SOURCE}, sec. 3.1 (SGD dynamics of the NQM)", derived=True,
        derivation="sympy.rsolve of E theta[k+1] = E theta[k] - alpha h E theta[k] (E xi = 0), theta[0] = e0",
        conditions=("t counts steps; |1 - alpha h| > 1 means the mean diverges (still exact)",),
        domains={"t": sp.Naturals0}, description="E[theta_t] of SGD in one dimension",
    )


@formula_builder(FORMULAS, "sgd_expected_loss")
def _derive_sgd_expected_loss() -> Formula:
    s = sp.Function("s")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    forward = _moment_system(0)[0].subs({beta: 0, theta_sq: s(k)})
    solution = sp.rsolve(s(k + 1) - forward, s(k), {s(0): e0**2})
    return Formula(
        name="nqm.sgd_expected_loss", expr=sp.simplify(h * solution.subs(k, t) / 2),
        params=(alpha, h, c, B, t, e0),
        source=f"{SOURCE}, sec. 3.1 (SGD dynamics of the NQM)", derived=True,
        derivation="E[theta_{k+1}^2] expanded from the SGD update (E xi = 0, E xi^2 = c/B); "
                   "sympy.rsolve with theta_0 = e0; times h/2",
        conditions=("deterministic start theta_0 = e0", "exact for every t; decays to "
                    "nqm.sgd_steady_state_loss iff 0 < alpha h < 2"),
        domains={"t": sp.Naturals0, "B": _BATCH},
        description="expected loss 1/2 h E[theta_t^2] of SGD in one dimension after t steps",
    )


@formula_builder(FORMULAS, "second_moment_step")
def _derive_second_moment_step() -> Formula:
    return Formula(
        name="nqm.second_moment_step", expr=tuple(_moment_system(0)),
        params=(alpha, beta, h, c, B, theta_sq, theta_cross, theta_prev_sq),
        source=f"{SOURCE}, sec. 3.2 (heavy-ball momentum on the NQM)", derived=True,
        derivation="E of theta_{t+1}^2 and theta_{t+1} theta_t expanded from the heavy-ball update "
                   "(xi independent of the past, E xi = 0, E xi^2 = c/B)",
        conditions=("preconditioning by h^-p is this map at alpha -> alpha h^-p",),
        domains={"B": _BATCH, "beta": _MOMENTUM},
        description="one step of (E th_t^2, E th_t th_{t-1}, E th_{t-1}^2) under heavy-ball SGD",
    )


@formula_builder(FORMULAS, "max_stable_lr")
def _derive_max_stable_lr() -> Formula:
    # Jury criterion for z^2 + a1 z + a0: |a0| < 1, P(1) > 0, P(-1) > 0. Here a0 = beta,
    # P(1) = alpha h^{1-p} > 0 always, so the binding condition is P(-1) > 0.
    z = sp.Symbol("z")
    poly = mean_characteristic_polynomial(z)
    (bound,) = sp.solve(sp.Eq(poly.subs(z, -1), 0), alpha)
    return Formula(
        name="nqm.max_stable_lr", expr=sp.simplify(bound), params=(beta, p, h),
        source=f"{SOURCE}, sec. 3.2; Jury stability criterion", derived=True,
        derivation="sympy.solve of P(-1) = 0 for the mean recursion's characteristic polynomial P; "
                   "the second moments have modes r1^2, r1 r2, r2^2, so they are stable iff the mean is",
        conditions=("stable iff 0 <= beta < 1 and 0 < alpha < max_stable_lr",),
        domains={"beta": _MOMENTUM},
        description="largest stable learning rate of preconditioned heavy-ball SGD in one dimension",
    )


def _steady_state(power: sp.Expr) -> sp.Expr:
    """1/2 h E theta^2 at the fixed point of the moment system, inf where unstable."""
    state = (theta_sq, theta_cross, theta_prev_sq)
    fixed = sp.solve([sp.Eq(e, v) for e, v in zip(_moment_system(power), state)], state, dict=True)
    (point,) = fixed
    loss = sp.factor(sp.simplify(h * point[theta_sq] / 2))
    return loss


@formula_builder(FORMULAS, "preconditioned_steady_state_loss")
def _derive_preconditioned_steady_state_loss() -> Formula:
    loss = _steady_state(p)
    return Formula(
        name="nqm.preconditioned_steady_state_loss",
        expr=sp.Piecewise((loss, _stable(alpha, beta, p)), (sp.oo, True)),
        params=(alpha, beta, p, h, c, B),
        source=f"{SOURCE}, sec. 3.3 (preconditioning by H^-p, with momentum)", derived=True,
        derivation="sympy.solve of the fixed point of the second-moment system of "
                   "theta <- theta - alpha h^-p g + beta (theta - theta_prev); times h/2",
        conditions=("the limit t -> oo of 1/2 h E[theta_t^2]; oo where alpha >= nqm.max_stable_lr",),
        domains={"B": _BATCH, "beta": _MOMENTUM},
        description="steady-state expected loss of preconditioned heavy-ball SGD in one dimension",
    )


@formula_builder(FORMULAS, "momentum_steady_state_loss")
def _derive_momentum_steady_state_loss() -> Formula:
    loss = _steady_state(sp.S.Zero)
    return Formula(
        name="nqm.momentum_steady_state_loss",
        expr=sp.Piecewise((loss, _stable(alpha, beta, 0)), (sp.oo, True)),
        params=(alpha, beta, h, c, B),
        source=f"{SOURCE}, sec. 3.2 (heavy-ball momentum on the NQM)", derived=True,
        derivation="sympy.solve of the fixed point of the heavy-ball second-moment system; times h/2",
        conditions=("the limit t -> oo of 1/2 h E[theta_t^2]; oo where alpha h >= 2 (1 + beta)",),
        domains={"B": _BATCH, "beta": _MOMENTUM},
        description="steady-state expected loss of heavy-ball SGD in one dimension",
    )


@formula_builder(FORMULAS, "sgd_steady_state_loss")
def _derive_sgd_steady_state_loss() -> Formula:
    (fixed,) = sp.solve(sp.Eq(_moment_system(0)[0].subs(beta, 0), theta_sq), theta_sq)
    loss = sp.factor(h * fixed / 2)
    return Formula(
        name="nqm.sgd_steady_state_loss",
        expr=sp.Piecewise((loss, _stable(alpha, 0, 0)), (sp.oo, True)),
        params=(alpha, h, c, B),
        source=f"{SOURCE}, sec. 3.1 (SGD dynamics of the NQM)", derived=True,
        derivation="sympy.solve of s = (1 - alpha h)^2 s + alpha^2 c / B (SGD second moment); times h/2",
        conditions=("the limit t -> oo of nqm.sgd_expected_loss; oo where alpha h >= 2",),
        domains={"B": _BATCH}, description="steady-state expected loss of SGD in one dimension",
    )


# -- composites over a spectrum ------------------------------------------------------------

def check_spectrum(h_values, c_values, theta0) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Validate and broadcast a spectrum: 1-D ``h`` > 0, ``c`` >= 0, finite ``theta0``."""
    hv = jnp.asarray(h_values)
    if hv.ndim != 1 or hv.shape[0] < 1:
        raise ValueError(f"h must be a non-empty 1-D array of curvatures, got shape {hv.shape}")
    if not jnp.issubdtype(hv.dtype, jnp.inexact):
        hv = hv.astype(jnp.result_type(float))
    cv = jnp.broadcast_to(jnp.asarray(c_values, hv.dtype), hv.shape)
    th = jnp.broadcast_to(jnp.asarray(theta0, hv.dtype), hv.shape)
    if not isinstance(hv, jax.core.Tracer):
        _derive_sgd_expected_loss().check_arguments(alpha=1.0, h=hv, c=cv, B=1.0, t=0, e0=th)
    return hv, cv, th


def check_hyperparameters(alpha_value, beta_value, p_value, batch) -> None:
    """ValueError naming alpha (<= 0), beta (outside [0, 1)), p or B (< 1)."""
    if any(isinstance(v, jax.core.Tracer) for v in (alpha_value, beta_value, p_value, batch)):
        return
    _derive_preconditioned_steady_state_loss().check_arguments(
        alpha=alpha_value, beta=beta_value, p=p_value, h=1.0, c=0.0, B=batch)


def expected_loss_curve(alpha, beta, p, h, c, B, theta0, steps: int):
    r"""Exact $\mathbb E L_t = \tfrac12\sum_i h_i\mathbb E\theta_{i,t}^2$ for $t = 0..steps$.

    Iterates ``nqm.second_moment_step`` with the effective step $\alpha h_i^{-p}$
    from $\theta_0 = $ ``theta0`` and zero initial velocity ($\theta_{-1} = \theta_0$).
    ``h``, ``c``, ``theta0``: the spectrum (1-D, broadcast); scalars ``alpha``, ``beta``,
    ``p``, ``B``. An unstable ``alpha`` is allowed: the curve then grows (to inf).

    Example:
        >>> expected_loss_curve(0.5, 0.0, 0.0, h=[1.0, 0.1], c=[1.0, 0.1], B=4, theta0=1.0, steps=3)
    """
    hv, cv, th = check_spectrum(h, c, theta0)
    check_hyperparameters(alpha, beta, p, B)
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    return _loss_curve(jnp.asarray(alpha, hv.dtype), jnp.asarray(beta, hv.dtype),
                       jnp.asarray(p, hv.dtype), hv, cv, jnp.asarray(B, hv.dtype), th, int(steps))


@functools.partial(jax.jit, static_argnums=7)
def _loss_curve(alpha_, beta_, p_, hv, cv, batch, th, steps):
    step = _derive_second_moment_step().jax
    effective = alpha_ * hv ** (-p_)

    def advance(state, _):
        new = step(effective, beta_, hv, cv, batch, *state)
        return new, 0.5 * jnp.sum(hv * new[0])

    start = (th**2, th**2, th**2)
    _, losses = jax.lax.scan(advance, start, None, length=steps)
    return jnp.concatenate([0.5 * jnp.sum(hv * th**2)[None], losses])


__getattr__ = lazy_attributes(__name__, FORMULAS)
