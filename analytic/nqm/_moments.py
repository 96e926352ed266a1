r"""The NQM's moment dynamics, derived by sympy from the update rule of one dimension.

Model statement (Zhang et al. 2019, arXiv:1907.04164v2, sec. 3): per dimension the
loss is $\tfrac12 h\theta^2$, a mini-batch gradient is $h\theta + \xi$ with
$\mathbb E\xi = 0$, $\mathbb E\xi^2 = c/B$, fresh every step, and the optimiser is
$\theta_{t+1} = \theta_t - \alpha h^{-p} g_t + \beta(\theta_t - \theta_{t-1})$.
Every Formula here is derived from :func:`_update` and :func:`_expectation`.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._edges import below_pole
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.nqm._symbols import B, c, h, p, theta_cross, theta_prev_sq, theta_sq
from analytic.references import cite
from analytic.symbols import alpha, beta, e0, t

FORMULAS = Formulas("nqm")
SOURCE = cite("zhang2019")
_BATCH = sp.Interval(1, sp.oo)
_MOMENTUM = sp.Interval.Ropen(0, 1)
_STATE = (theta_sq, theta_cross, theta_prev_sq)

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


def _moment_system(power: sp.Expr) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(E theta_{t+1}^2, E theta_{t+1} theta_t, E theta_t^2) at preconditioning power ``power``.

    Preconditioning by h^-p is the heavy-ball map ``nqm.second_moment_step`` at the
    effective step alpha h^-p (the update depends on alpha and p only through it).
    """
    effective = {alpha: alpha * h**(-power)}
    return tuple(sp.expand(e.subs(effective)) for e in _second_moment_step().expr)


def moment_matrix(power: sp.Expr = p) -> sp.Matrix:
    """The 3x3 transition matrix of the second moments (the noise is the constant term)."""
    return sp.Matrix([[sp.diff(e, v) for v in _STATE] for e in _moment_system(power)])


def mean_characteristic_polynomial(z: sp.Symbol, power: sp.Expr = p) -> sp.Expr:
    """z^2 - (1 + beta - alpha h^{1-p}) z + beta: E theta_t = sum_j a_j r_j^t, r_j its roots."""
    m = sp.Function("m")
    k = sp.Symbol("k", integer=True)
    nxt = _update(alpha, beta, power).subs(_xi, 0)  # E xi = 0; the update is linear
    recursion = m(k + 1) - nxt.subs({_theta: m(k), _theta_prev: m(k - 1)})
    return sp.expand(recursion.subs({m(k + 1): z**2, m(k): z, m(k - 1): 1}))


def _stable(step: sp.Expr, momentum: sp.Expr, power: sp.Expr) -> sp.Boolean:
    return step < _max_stable_lr().expr.subs({beta: momentum, p: power})


@FORMULAS.register("sgd_mean")
def _sgd_mean() -> Formula:
    m = sp.Function("m")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    recursion = _update(alpha, 0, 0).subs({_xi: 0, _theta: m(k)})
    solution = sp.rsolve(m(k + 1) - recursion, m(k), {m(0): e0})
    return Formula(
        expr=solution.subs(k, t), params=(alpha, h, t, e0),
        source=cite("zhang2019", "sec. 3.1 (SGD dynamics of the NQM)"), derived=True,
        derivation="sympy.rsolve of E theta[k+1] = E theta[k] - alpha h E theta[k] (E xi = 0), theta[0] = e0",
        conditions=("t counts steps; |1 - alpha h| > 1 means the mean diverges (still exact)",),
        domains={"t": sp.Naturals0}, description="E[theta_t] of SGD in one dimension",
    )


def _sgd_expected_loss_stable() -> sp.Expr:
    r"""The same loss, finite and accurate at and near the stability edge alpha h = 2.

    With $r = (1 - \alpha h)^2$ and $d = 1 - r = \alpha h (2 - \alpha h)$ the closed form is
    $\tfrac h2 [e_0^2 r^t + \tfrac{\alpha^2 c}{B} G_t]$ with the geometric sum
    $G_t = \sum_{k<t} r^k = (1 - r^t)/d$, a removable 0/0 at $d = 0$ (the edge, where
    $G_t = t$ and the loss grows linearly). $G_t = -\mathrm{expm1}(t\,\mathrm{log1p}(-d))/d$
    has no cancellation for any $d < 1$; $d = 1$ ($r = 0$) gives $G_t = \min(t, 1)$. The
    special points use a safe $d$ in the other branches so that ``jax.grad`` is finite
    there too; a zero ``e0``/``c`` times an overflowed $r^t$ is 0, not NaN.
    """
    d = alpha * h * (2 - alpha * h)
    at_edge, at_zero_r = sp.Eq(d, 0), sp.Eq(d, 1)
    # d moved off the special points (an added constant, which sympy does not push into 1/d).
    safe_d = d + sp.Piecewise((sp.Rational(1, 2), at_edge), (-sp.Rational(1, 2), at_zero_r), (0, True))
    # At the special points: the value and the first-order term in d, so that grad is right too
    # (dG/dd = -t(t - 1)/2 at d = 0, and -1 for t >= 2 at d = 1).
    geometric = sp.Piecewise((t - d * t * (t - 1) / 2, at_edge),
                             (sp.Min(t, 1) + (1 - d) * sp.Piecewise((1, t >= 2), (0, True)), at_zero_r),
                             (-expm1(t * log1p(-safe_d)) / safe_d, True))
    transient = sp.Piecewise((0, sp.Eq(e0, 0)), (e0**2 * ((1 - alpha * h) ** 2) ** t, True))
    noise = sp.Piecewise((0, sp.Eq(c, 0)), (alpha**2 * c / B * geometric, True))
    return h * (transient + noise) / 2


@FORMULAS.register("sgd_expected_loss")
def _sgd_expected_loss() -> Formula:
    s = sp.Function("s")
    k = sp.Symbol("k", integer=True, nonnegative=True)
    forward = _moment_system(0)[0].subs({beta: 0, theta_sq: s(k)})
    solution = sp.rsolve(s(k + 1) - forward, s(k), {s(0): e0**2})
    return Formula(
        expr=sp.simplify(h * solution.subs(k, t) / 2), params=(alpha, h, c, B, t, e0),
        evaluate_as=_sgd_expected_loss_stable(),
        source=cite("zhang2019", "sec. 3.1 (SGD dynamics of the NQM)"), derived=True,
        derivation="E[theta_{k+1}^2] expanded from the SGD update (E xi = 0, E xi^2 = c/B); "
                   "sympy.rsolve with theta_0 = e0; times h/2",
        conditions=("deterministic start theta_0 = e0", "exact for every t; decays to "
                    "nqm.sgd_steady_state_loss iff 0 < alpha h < 2"),
        domains={"t": sp.Naturals0, "B": _BATCH},
        description="expected loss 1/2 h E[theta_t^2] of SGD in one dimension after t steps",
    )


@FORMULAS.register("second_moment_step")
def _second_moment_step() -> Formula:
    nxt = _update(alpha, beta, 0)
    system = (sp.expand(_expectation(nxt**2)), sp.expand(_expectation(nxt * _theta)), theta_sq)
    return Formula(
        expr=system, params=(alpha, beta, h, c, B, theta_sq, theta_cross, theta_prev_sq),
        source=cite("zhang2019", "sec. 3.2 (heavy-ball momentum on the NQM)"), derived=True,
        derivation="E of theta_{t+1}^2 and theta_{t+1} theta_t expanded from the heavy-ball update "
                   "(xi independent of the past, E xi = 0, E xi^2 = c/B)",
        conditions=("preconditioning by h^-p is this map at alpha -> alpha h^-p",),
        domains={"B": _BATCH, "beta": _MOMENTUM},
        description="one step of (E th_t^2, E th_t th_{t-1}, E th_{t-1}^2) under heavy-ball SGD",
    )


@FORMULAS.register("max_stable_lr")
def _max_stable_lr() -> Formula:
    # Jury criterion for z^2 + a1 z + a0: |a0| < 1, P(1) > 0, P(-1) > 0. Here a0 = beta,
    # P(1) = alpha h^{1-p} > 0 always, so the binding condition is P(-1) > 0.
    z = sp.Symbol("z")
    poly = mean_characteristic_polynomial(z)
    (bound,) = sp.solve(sp.Eq(poly.subs(z, -1), 0), alpha)
    return Formula(
        expr=sp.simplify(bound), params=(beta, p, h),
        source=cite("zhang2019", "sec. 3.2; Jury stability criterion"), derived=True,
        derivation="sympy.solve of P(-1) = 0 for the mean recursion's characteristic polynomial P; "
                   "the second moments have modes r1^2, r1 r2, r2^2, so they are stable iff the mean is",
        conditions=("stable iff 0 <= beta < 1 and 0 < alpha < max_stable_lr",),
        domains={"beta": _MOMENTUM},
        description="largest stable learning rate of preconditioned heavy-ball SGD in one dimension",
    )


# The two heavy-ball steady states differ only by the preconditioning power.
_STEADY = {
    "momentum": dict(power=sp.S.Zero, params=(alpha, beta, h, c, B),
                     where="sec. 3.2 (heavy-ball momentum on the NQM)",
                     derivation="sympy.solve of the fixed point of the heavy-ball second-moment system; "
                                "times h/2",
                     unstable="alpha h >= 2 (1 + beta)",
                     description="steady-state expected loss of heavy-ball SGD in one dimension"),
    "preconditioned": dict(power=p, params=(alpha, beta, p, h, c, B),
                           where="sec. 3.3 (preconditioning by H^-p, with momentum)",
                           derivation="sympy.solve of the fixed point of the second-moment system of "
                                      "theta <- theta - alpha h^-p g + beta (theta - theta_prev); times h/2",
                           unstable="alpha >= nqm.max_stable_lr",
                           description="steady-state expected loss of preconditioned heavy-ball SGD in "
                                       "one dimension"),
}


def _steady_state_loss(method: str) -> Formula:
    """1/2 h E theta^2 at the fixed point of the moment system, oo where unstable."""
    spec = _STEADY[method]
    fixed = sp.solve([sp.Eq(e, v) for e, v in zip(_moment_system(spec["power"]), _STATE)], _STATE,
                     dict=True)
    (point,) = fixed
    loss = sp.factor(sp.simplify(h * point[theta_sq] / 2))
    return Formula(
        expr=sp.Piecewise((loss, _stable(alpha, beta, spec["power"])), (sp.oo, True)),
        evaluate_as=below_pole(loss, _stable(alpha, beta, spec["power"]), zero_when=sp.Eq(c, 0)),
        params=spec["params"], source=cite("zhang2019", spec["where"]), derived=True,
        derivation=spec["derivation"],
        conditions=(f"the limit t -> oo of 1/2 h E[theta_t^2]; oo where {spec['unstable']}",),
        domains={"B": _BATCH, "beta": _MOMENTUM}, description=spec["description"],
    )


FORMULAS.register_variants("{method}_steady_state_loss", method=tuple(_STEADY))(_steady_state_loss)


@FORMULAS.register("sgd_steady_state_loss")
def _sgd_steady_state_loss() -> Formula:
    (fixed,) = sp.solve(sp.Eq(_moment_system(0)[0].subs(beta, 0), theta_sq), theta_sq)
    loss = sp.factor(h * fixed / 2)
    return Formula(
        expr=sp.Piecewise((loss, _stable(alpha, 0, 0)), (sp.oo, True)),
        evaluate_as=below_pole(loss, _stable(alpha, 0, 0), zero_when=sp.Eq(c, 0)),
        params=(alpha, h, c, B),
        source=cite("zhang2019", "sec. 3.1 (SGD dynamics of the NQM)"), derived=True,
        derivation="sympy.solve of s = (1 - alpha h)^2 s + alpha^2 c / B (SGD second moment); times h/2",
        conditions=("the limit t -> oo of nqm.sgd_expected_loss; oo where alpha h >= 2",),
        domains={"B": _BATCH}, description="steady-state expected loss of SGD in one dimension",
    )
