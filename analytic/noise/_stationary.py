r"""SGD's stationary covariance on a quadratic: the Ornstein-Uhlenbeck limit and the exact chain.

Model (Mandt, Hoffman & Blei 2017, arXiv:1704.04289v2, sec. 3): loss
$L(\theta) = \tfrac12\theta^\top H\theta$, a mini-batch gradient $H\theta + \xi$ with
$\mathbb E\xi = 0$, $\operatorname{Cov}\xi = C/S$ ($S$ = ``batch_size``), fresh every step,
constant SGD $\theta_{t+1} = \theta_t - \eta(H\theta_t + \xi_t)$. In the eigenbasis of $H$
(curvatures $\lambda_i$; $C_{ij}$ = ``noise_cov`` the noise covariance in that basis) sympy
solves, entry by entry:

* the continuous-time (Ornstein-Uhlenbeck) approximation
  $d\theta = -\eta H\theta\,dt + (\eta/\sqrt S) B\,dW$, $BB^\top = C$, whose stationary
  covariance solves the Lyapunov equation $H\Sigma + \Sigma H = (\eta/S) C$:
  $$\Sigma^{\rm OU}_{ij} = \frac{\eta C_{ij}}{S(\lambda_i + \lambda_j)}\quad(\text{``ou\_covariance''});$$
* the exact stationary covariance of the discrete chain, the discrete Lyapunov equation
  $\Sigma = (I - \eta H)\Sigma(I - \eta H) + \eta^2 C/S$ (exact for every $\eta\lambda_{\max} < 2$):
  $$\Sigma_{ij} = \frac{\eta C_{ij}}{S(\lambda_i + \lambda_j - \eta\lambda_i\lambda_j)}\quad
  (\text{``sgd\_covariance''});$$
* their difference: $\Sigma_{ij}/\Sigma^{\rm OU}_{ij} - 1 = \eta\lambda_i\lambda_j/(\lambda_i +
  \lambda_j - \eta\lambda_i\lambda_j)$ (``covariance_relative_gap``), whose slope at $\eta = 0$ is
  $\lambda_i\lambda_j/(\lambda_i + \lambda_j)$ (``covariance_gap_slope``; $\lambda/2$ on the diagonal):
  the OU covariance is too small by $O(\eta)$;
* the KL-optimal constant learning rate (their Theorem 1): with the posterior
  $f \propto e^{-N L}$, covariance $(N H)^{-1}$, and $q = \mathcal N(0, \Sigma^{\rm OU}(\eta))$,
  $\Sigma^{\rm OU}(\eta) = \eta\Sigma_1$ and $\operatorname{Tr}(H\Sigma^{\rm OU}) = \eta\operatorname{Tr}C/(2S)$
  (the trace of the Lyapunov equation), so
  $\mathrm{KL}(q\|f) = \tfrac12[N\eta\operatorname{Tr}C/(2S) - D\log\eta] + \text{const}$ and
  $$\eta^* = \frac{2 D S}{N\operatorname{Tr}C}\quad(\text{``kl\_optimal\_lr''}).$$
  At $\eta^*$ the stationary covariance *equals* the posterior only when $C \propto I$
  (then $\Sigma^{\rm OU} = \eta c/(2S)\,H^{-1}$); for noise proportional to the Hessian,
  $C \propto H$, $\Sigma^{\rm OU} \propto I$ and equality needs their preconditioned
  variant (Theorem 2, preconditioner $\propto C^{-1}$), not a scalar learning rate.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.noise._symbols import batch_size, dim, lam_i, lam_j, n_data, noise_cov, noise_trace
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("noise")

_BATCH = sp.Interval(1, sp.oo)
_STABLE = (eta * lam_i < 2, eta * lam_j < 2)
_MODEL = ("quadratic loss 1/2 theta^T H theta, mini-batch gradient noise of covariance C/batch_size, fresh "
          "every step; entry (i, j) in H's eigenbasis")
_KEEP = sp.UnevaluatedExpr


def _solve_entry(equation: sp.Expr) -> sp.Expr:
    """The one solution s of a linear equation in the covariance entry s."""
    s = sp.Symbol("s", real=True)
    (solution,) = sp.solve(equation(s), s)
    return sp.factor(solution)


@FORMULAS.register("ou_covariance")
def _ou_covariance() -> Formula:
    # H Sigma + Sigma H = (eta/S) C, entry (i, j) in the eigenbasis of H
    entry = _solve_entry(lambda s: lam_i * s + s * lam_j - eta * noise_cov / batch_size)
    return Formula(
        expr=entry, params=(eta, lam_i, lam_j, noise_cov, batch_size),
        # eta / (lam_i + lam_j) times C / S: no eta C overflow where both are huge
        evaluate_as=_KEEP(eta / (lam_i + lam_j)) * _KEEP(noise_cov / batch_size),
        source=cite("mandt2017", "sec. 3 (Ornstein-Uhlenbeck approximation of constant SGD)"), derived=True,
        derivation="sympy.solve of the continuous Lyapunov equation H Sigma + Sigma H = (eta/S) C entry by "
                   "entry in H's eigenbasis: (lam_i + lam_j) s = eta C_ij / S",
        conditions=(_MODEL, "continuous-time limit: O(eta) from the exact chain (noise.sgd_covariance)"),
        domains={"batch_size": _BATCH},
        description="stationary covariance entry of the OU process approximating constant SGD",
    )


@FORMULAS.register("sgd_covariance")
def _sgd_covariance() -> Formula:
    # Sigma = (I - eta H) Sigma (I - eta H) + eta^2 C / S, entry (i, j) in the eigenbasis of H
    entry = _solve_entry(lambda s: (1 - eta * lam_i) * (1 - eta * lam_j) * s + eta**2 * noise_cov / batch_size - s)
    return Formula(
        expr=entry, params=(eta, lam_i, lam_j, noise_cov, batch_size),
        # lam_i + lam_j - eta lam_i lam_j = lam_i (1 - eta lam_j/2) + lam_j (1 - eta lam_i/2): both terms
        # positive below the stability edge (no cancellation, no lam_i lam_j overflow)
        evaluate_as=_KEEP(eta / (lam_i * (1 - eta * lam_j / 2) + lam_j * (1 - eta * lam_i / 2)))
        * _KEEP(noise_cov / batch_size),
        source=cite("mandt2017", "sec. 3 (constant SGD as a Markov chain; its exact stationary covariance)"),
        derived=True,
        derivation="sympy.solve of the discrete Lyapunov equation Sigma = (I - eta H) Sigma (I - eta H) + "
                   "eta^2 C/S entry by entry in H's eigenbasis",
        conditions=(_MODEL, "exact for every eta with eta lam < 2 along every direction (the chain is stable)"),
        domains={"batch_size": _BATCH}, constraints=_STABLE,
        description="exact stationary covariance entry of constant SGD on a quadratic",
    )


@FORMULAS.register("covariance_relative_gap")
def _covariance_relative_gap() -> Formula:
    gap = sp.factor(sp.simplify(_sgd_covariance().expr / _ou_covariance().expr - 1))
    return Formula(
        expr=gap, params=(eta, lam_i, lam_j),
        # divided through by lam_i lam_j: eta / ((1/lam_i - eta/2) + (1/lam_j - eta/2))
        evaluate_as=eta / ((1 / lam_i - eta / 2) + (1 / lam_j - eta / 2)),
        source=cite("mandt2017", "sec. 3 (the OU approximation is a small-eta limit)"), derived=True,
        derivation="sympy: sgd_covariance / ou_covariance - 1, simplified (C_ij and S cancel)",
        conditions=(_MODEL, "eta lam < 2 along both directions"), constraints=_STABLE,
        description="relative amount by which the exact SGD covariance exceeds the OU one",
    )


@FORMULAS.register("covariance_gap_slope")
def _covariance_gap_slope() -> Formula:
    slope = sp.factor(sp.diff(_covariance_relative_gap().expr, eta).subs(eta, 0))
    return Formula(
        expr=slope, params=(lam_i, lam_j),
        evaluate_as=1 / (1 / lam_i + 1 / lam_j),  # no lam_i lam_j overflow
        source=cite("mandt2017", "sec. 3 (the OU approximation is a small-eta limit)"), derived=True,
        derivation="sympy: d/deta of covariance_relative_gap at eta = 0 (its first-order coefficient)",
        conditions=(_MODEL, "relative gap = slope * eta + O(eta^2)"),
        description="first-order coefficient in eta of the OU covariance's relative error (lam/2 on the diagonal)",
    )


@FORMULAS.register("kl_optimal_lr")
def _kl_optimal_lr() -> Formula:
    log_det_rest = sp.Symbol("log_det_rest", real=True)  # log det(N H Sigma_1): independent of eta
    # Gaussian KL(N(0, Sigma) || N(0, (N H)^-1)) = 1/2 [Tr(N H Sigma) - log det(N H Sigma) - D], with
    # Sigma = eta Sigma_1 and Tr(H Sigma) = 1/2 Tr(H Sigma + Sigma H) = eta Tr C / (2 S)
    kl = (n_data * eta * noise_trace / (2 * batch_size) - dim * sp.log(eta) - log_det_rest - dim) / 2
    (optimum,) = sp.solve(sp.diff(kl, eta), eta)
    assert sp.simplify(sp.diff(kl, eta, 2).subs(eta, optimum)).is_positive  # a minimum
    return Formula(
        expr=sp.factor(optimum), params=(dim, batch_size, n_data, noise_trace),
        evaluate_as=2 * dim * (batch_size / n_data) / noise_trace,
        source=cite("mandt2017", "sec. 3, Theorem 1 (KL-optimal constant learning rate)"), derived=True,
        derivation="sympy: KL(N(0, eta Sigma_1) || N(0, (N H)^-1)) as a function of eta (trace of the "
                   "Lyapunov equation: Tr(H Sigma) = eta Tr C/(2S)), d/deta = 0 solved for eta",
        conditions=(_MODEL, "OU (small-eta) stationary distribution vs the posterior exp(-N L); the KL is zero "
                    "at the optimum only for isotropic noise C = c I"),
        domains={"batch_size": _BATCH},
        description="learning rate minimising KL(SGD's OU stationary distribution || posterior)",
    )
