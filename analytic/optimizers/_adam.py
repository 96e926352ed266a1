r"""Adam and RMSprop with EMA momentum: the stability threshold and the noise-driven update.

Model statement (Cohen et al. 2022, arXiv:2207.14484v2, sec. 2 / eq. (1)): with the
preconditioner $P$ frozen,

$$m_{t+1} = \beta_1 m_t + (1-\beta_1)\nabla L(\theta_t),\qquad
  \theta_{t+1} = \theta_t - \eta P^{-1} m_{t+1}.$$

On a quadratic $L = \tfrac12\theta^\top H\theta$ the change of variables
$u = P^{1/2}\theta$ makes the dynamics those of EMA heavy ball on
$S = P^{-1/2}HP^{-1/2}$, which has the spectrum of $P^{-1}H$. Along an eigenvector of
$S$ with eigenvalue $\lambda$ the state $(m, x)$ evolves by a 2x2 matrix; the
linear-iteration engine (``linear_method``) derives it from the update rule, forms its
characteristic polynomial and solves for the $\lambda$ at which a root crosses the unit
circle at $z=-1$: the threshold on the preconditioned sharpness.

Noise: with $g_t$ i.i.d. zero-mean, variance $\sigma^2$ per coordinate and
$\beta_2\to 1$, $\sqrt{\hat v}\to\sigma$ and the update $\eta m/\sigma$ has the
stationary variance of an AR(1) process, which sympy solves for.
"""

from __future__ import annotations

import sympy as sp

from analytic import _iteration_engine as engine
from analytic._linear_method import linear_method
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.optimizers._symbols import beta1, beta2
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("optimizers")
_BETA1_DOMAIN = sp.Interval.Ropen(0, 1)


_m, _x = sp.symbols("m x", real=True)


def _ema_momentum_update(step: sp.Expr, momentum: sp.Expr, eigenvalue: sp.Expr) -> dict:
    """One step on the state (m, x): m' = b m + (1 - b) lam x, x' = x - step m' (the model statement)."""
    m_next = momentum * _m + (1 - momentum) * engine.mode_gradient(_x, eigenvalue)
    return {_m: m_next, _x: _x - step * m_next}


def ema_momentum_iteration_matrix(step: sp.Expr, momentum: sp.Expr, eigenvalue: sp.Expr) -> sp.Matrix:
    """The matrix taking (m_t, x_t) to (m_{t+1}, x_{t+1}) on one mode of curvature ``eigenvalue``.

    Read off the update rule (the engine's jacobian): m' = b m + (1 - b) lam x, x' = x - step m'.
    """
    update = _ema_momentum_update(step, momentum, eigenvalue)
    return engine.iteration_matrix(tuple(update.values()), tuple(update))


@FORMULAS.register("adam_sharpness_threshold")
def _adam_sharpness_threshold() -> Formula:
    derived = linear_method(_ema_momentum_update(eta, beta1, lam), params=(eta, beta1, lam), name="adam")
    # A real root leaves the unit disc through z = -1 (through z = +1 only at lam = 0).
    threshold = derived.critical(lam).expr
    numerator, denominator = sp.fraction(sp.factor(threshold))  # print as (2 + 2 b)/(eta (1 - b))
    return Formula(
        expr=sp.simplify(-numerator) / sp.simplify(-denominator),
        params=(eta, beta1),
        source=cite("cohen2022", "sec. 2, eq. (1) and the threshold 38/eta at beta1 = 0.9"),
        derived=True,
        derivation="linear_method on the EMA-momentum update of (m, x) on one mode of P^-1 H: "
                   "2x2 iteration matrix (sympy jacobian), charpoly, solved for lam at the root z = -1 "
                   "(sympy.solve)",
        conditions=("frozen preconditioner P; the iteration is stable iff lam_max(P^-1 H) is below "
                    "this threshold (for 0 <= beta1 < 1)",),
        domains={"beta1": _BETA1_DOMAIN},
        description="largest stable preconditioned sharpness lam_max(P^-1 H) of Adam/RMSprop "
                    "with EMA momentum",
    )


@FORMULAS.register("adam_noise_rms_update")
def _adam_noise_rms_update() -> Formula:
    var_m, sigma2 = sp.symbols("var_m sigma2_noise", positive=True)
    # Stationary variance of m <- beta1 m + (1 - beta1) g with white g of variance sigma2.
    (stationary,) = sp.solve(sp.Eq(var_m, beta1**2 * var_m + (1 - beta1) ** 2 * sigma2), var_m)
    # beta2 -> 1: v -> E[g^2] = sigma2, so the update is eta m / sqrt(sigma2).
    rms = sp.sqrt(sp.factor(eta**2 * stationary / sigma2))
    return Formula(
        expr=sp.simplify(rms),
        params=(eta, beta1),
        source=cite("kingma2014", "Algorithm 1"),
        derived=True,
        derivation="stationary variance of the AR(1) recursion m <- beta1 m + (1 - beta1) g "
                   "(sympy.solve), divided by v = sigma^2 (beta2 -> 1), square root",
        conditions=("gradient = stationary, temporally white, zero-mean noise; beta2 -> 1 "
                    "(the finite-beta2 correction is O(1 - beta2) and not included); "
                    "eps of Adam negligible against sqrt(v)",),
        domains={"beta1": _BETA1_DOMAIN},
        description="steady-state RMS of Adam's per-coordinate update under pure gradient noise",
    )


def _geometric_sum(ratio: sp.Expr) -> sp.Expr:
    """sum_{j >= 0} ratio^j for 0 <= ratio < 1 (sympy.summation, convergent branch)."""
    j = sp.Symbol("j", integer=True, nonnegative=True)
    q = sp.Symbol("q", positive=True)
    total = sp.summation(q**j, (j, 0, sp.oo))
    if isinstance(total, sp.Piecewise):
        total = total.args[0][0]
    return total.subs(q, ratio)


@FORMULAS.register("adam_noise_rms_update_finite_beta2")
def _adam_noise_rms_update_finite_beta2() -> Formula:
    # Unit-variance Gaussian g (sigma scales out of m / sqrt(v)). Stationary EMAs:
    # m = sum_k a_k g_{-k}, a_k = (1 - b1) b1^k;  v = sum_j w_j g_{-j}^2, w_j = (1 - b2) b2^j, sum w = 1.
    # 1/v = 1 - d + d^2 - ..., d = v - 1, so E[m^2 / v] = E m^2 - E[m^2 d] + E[m^2 d^2] + ...
    e = sp.Symbol("epsilon", positive=True)  # 1 - beta2
    fourth = 3  # E g^4 of a standard Gaussian
    mean_m2 = (1 - beta1) ** 2 * _geometric_sum(beta1**2)
    # E[m^2 d]: only k = l = j survives, with E[g^2 (g^2 - 1)] = fourth - 1.
    m2_d = (fourth - 1) * (1 - beta1) ** 2 * e * _geometric_sum(beta1**2 * (1 - e))
    # E[d^2] = Var(g^2) sum_j w_j^2; E[m^2 d^2] = E m^2 E d^2 + O(eps^2) (the remaining terms are
    # squares of E[m d] = 0 and fourth cumulants carrying two factors w).
    d2 = (fourth - 1) * e**2 * _geometric_sum((1 - e) ** 2)
    ratio = sp.simplify((mean_m2 - m2_d + mean_m2 * d2) / mean_m2)
    first_order = sp.series(ratio, e, 0, 2).removeO()
    mean_square = eta**2 * sp.factor(sp.simplify(mean_m2)) * sp.expand(first_order).subs(e, 1 - beta2)
    return Formula(
        expr=sp.sqrt(sp.factor(sp.simplify(mean_square))),
        params=(eta, beta1, beta2),
        source=cite("kingma2014", "Algorithm 1 (update rule); finite-beta2 correction derived here"),
        derived=True,
        derivation="E[m^2 / v] expanded in d = v/sigma^2 - 1: geometric sums (sympy.summation) for E m^2, "
                   "E[m^2 d] and E d^2 of Gaussian white g, then the series in 1 - beta2 to first order "
                   "(sympy.series); square root of the first-order mean square",
        conditions=("gradient = stationary, temporally white, zero-mean Gaussian noise; first order in "
                    "1 - beta2, valid for 1 - beta2 << 1 - beta1^2 (the O((1 - beta2)^2) rest is ~ (1 - beta2)^2 "
                    "in Monte Carlo); eps of Adam negligible; t >> 1/(1 - beta2) (bias correction inert)",),
        domains={"beta1": _BETA1_DOMAIN, "beta2": sp.Interval.Ropen(0, 1)},
        description="steady-state RMS of Adam's update under pure gradient noise, with the first-order "
                    "finite-beta2 correction",
    )
