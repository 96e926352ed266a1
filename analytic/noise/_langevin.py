r"""The unadjusted Langevin algorithm on a quadratic, and Polyak-Ruppert averaging of SGD.

Langevin (Mandt, Hoffman & Blei 2017, arXiv:1704.04289v2, sec. 5, where they quantify
the finite-learning-rate error of Langevin-type samplers): potential $U = \tfrac12\lambda\theta^2$
along one eigen-direction, Gibbs density $\propto e^{-U/T}$ (variance $T/\lambda$), and the
unadjusted chain $\theta_{t+1} = \theta_t - \eta\lambda\theta_t + \sqrt{2\eta T}\,\xi_t$,
$\xi_t \sim \mathcal N(0, 1)$. Its stationary distribution is Gaussian (a linear chain with
Gaussian noise), so one moment equation settles it: sympy solves
$v = (1 - \eta\lambda)^2 v + 2\eta T$ for
$$v = \frac{2T}{\lambda(2 - \eta\lambda)} = \frac{T}{\lambda}\Big(1 + \frac{\eta\lambda}{2 - \eta\lambda}\Big)
\quad(\text{``ula\_variance''}),$$
and its bias against Gibbs, $v - T/\lambda = \eta T/(2 - \eta\lambda)$ (``ula_bias``; exact, $O(\eta)$:
$\eta T/2$ to first order). Because both are Gaussians, the bias of the variance is the whole error.

Polyak-Ruppert averaging (Polyak & Juditsky 1992; Mandt et al. 2017, sec. 6 on why
averaging is optimal): constant SGD on one NQM direction, $x_{t+1} = r x_t + \eta\xi_t$,
$r = 1 - \eta\lambda$, $\operatorname{Var}\xi = \sigma^2/S$ ($\sigma^2$ = ``noise``), started
stationary (variance $s = \eta^2\sigma^2/(S(1 - r^2))$, autocovariance $s r^k$). The variance
of the mean of $t$ consecutive iterates is $\tfrac{s}{t^2}\sum_{a,b} r^{|a-b|}$, and $t$ times it
tends to the long-run variance $s\sum_{k\in\mathbb Z} r^{|k|}$, which sympy sums:
$$\operatorname{Var}\bar\theta_t = \frac{\sigma^2}{S\lambda^2 t}\,\big(1 + O(1/(\eta\lambda t))\big)
\quad(\text{``averaged\_variance''}),$$
independent of $\eta$: the Cramér-Rao-like $H^{-1}CH^{-1}/(St)$. Against the last iterate's
variance $s$ the reduction is $\operatorname{Var}\bar\theta_t / s \to (2 - \eta\lambda)/(\eta\lambda t)$
(``averaging_variance_ratio``): $t$ steps are worth $\eta\lambda t/(2 - \eta\lambda)$ independent draws.
"""

from __future__ import annotations

import sympy as sp

from analytic.noise._stationary import FORMULAS
from analytic.noise._symbols import batch_size, noise, temperature
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam, t

_POSITIVE = sp.Interval.open(0, sp.oo)
_BATCH = sp.Interval(1, sp.oo)
_HORIZON = sp.Interval(1, sp.oo)
_STABLE = (eta * lam < 2,)
_ULA = "unadjusted Langevin on U = lam theta^2 / 2 at temperature T; stationary (t -> oo), eta lam < 2"


def _ula_fixed_point() -> sp.Expr:
    v = sp.Symbol("v", positive=True)
    (solution,) = sp.solve(sp.Eq(v, (1 - eta * lam) ** 2 * v + 2 * eta * temperature), v)
    return sp.factor(solution)


@FORMULAS.register("ula_variance")
def _ula_variance() -> Formula:
    return Formula(
        expr=_ula_fixed_point(), params=(eta, lam, temperature),
        evaluate_as=(temperature / lam) / (1 - eta * lam / 2),
        source=cite("mandt2017", "sec. 5 (finite-learning-rate error of Langevin-type samplers)"), derived=True,
        derivation="sympy.solve of v = (1 - eta lam)^2 v + 2 eta T, the stationary second moment of "
                   "theta <- theta - eta lam theta + sqrt(2 eta T) xi",
        conditions=(_ULA,), domains={"lam": _POSITIVE}, constraints=_STABLE,
        description="stationary variance of the unadjusted Langevin algorithm on a quadratic",
    )


@FORMULAS.register("ula_bias")
def _ula_bias() -> Formula:
    gibbs = temperature / lam  # the variance of exp(-lam theta^2 / (2 T))
    return Formula(
        expr=sp.factor(sp.simplify(_ula_fixed_point() - gibbs)), params=(eta, lam, temperature),
        evaluate_as=temperature / (2 / eta - lam),  # no eta T overflow
        source=cite("mandt2017", "sec. 5 (finite-learning-rate error of Langevin-type samplers)"), derived=True,
        derivation="sympy: ula_variance minus the Gibbs variance T/lam, simplified",
        conditions=(_ULA, "exact; eta T / 2 to first order in eta"), domains={"lam": _POSITIVE},
        constraints=_STABLE,
        description="bias of the unadjusted Langevin stationary variance relative to the Gibbs variance",
    )


def _averaged_variance_leading() -> sp.Expr:
    """lim t Var(mean of t stationary AR(1) iterates) = s sum_k r^|k|, the long-run variance (sympy sum)."""
    r, k = sp.Symbol("r", positive=True), sp.Symbol("k", integer=True, positive=True)
    stationary = eta**2 * noise / (batch_size * (1 - r**2))
    one_side = sp.summation(r**k, (k, 1, sp.oo))  # converges for 0 < r < 1: r / (1 - r)
    if isinstance(one_side, sp.Piecewise):
        one_side = one_side.args[0][0]
    leading = stationary * (1 + 2 * one_side)
    return sp.factor(sp.simplify(leading.subs(r, 1 - eta * lam)))


@FORMULAS.register("averaged_variance")
def _averaged_variance() -> Formula:
    leading = _averaged_variance_leading()
    return Formula(
        expr=leading / t, params=(noise, batch_size, lam, t),
        evaluate_as=(noise / batch_size) / (lam**2 * t),
        source=cite("polyak1992", "Theorem (asymptotic normality of the averaged iterate)") + "; "
        + cite("mandt2017", "sec. 6 (iterate averaging)"), derived=True,
        derivation="sympy.summation of the stationary AR(1) autocovariances s r^|k| over all lags k (the "
                   "limit of t Var(mean of t iterates)), r = 1 - eta lam, divided by t",
        conditions=("constant SGD on one NQM direction, started stationary, averaged over t steps",
                    "leading order in 1/(eta lam t); the exact finite-t variance is smaller by a relative "
                    "O(1/(eta lam t))"),
        domains={"batch_size": _BATCH, "lam": _POSITIVE, "t": _HORIZON},
        description="variance of the Polyak-Ruppert average of t SGD iterates (independent of eta)",
    )


@FORMULAS.register("averaging_variance_ratio")
def _averaging_variance_ratio() -> Formula:
    stationary = eta**2 * noise / (batch_size * (1 - (1 - eta * lam) ** 2))
    ratio = sp.factor(sp.simplify(_averaged_variance().expr / stationary))
    return Formula(
        expr=ratio, params=(eta, lam, t),
        evaluate_as=(2 / (eta * lam) - 1) / t,
        source=cite("mandt2017", "sec. 6 (iterate averaging)"), derived=True,
        derivation="sympy: averaged_variance divided by the last iterate's stationary variance "
                   "eta^2 noise / (S (1 - (1 - eta lam)^2))",
        conditions=("constant SGD on one NQM direction, started stationary, averaged over t steps",
                    "leading order in 1/(eta lam t)"),
        domains={"lam": _POSITIVE, "t": _HORIZON}, constraints=_STABLE,
        description="variance of the averaged iterate over that of the last iterate",
    )
