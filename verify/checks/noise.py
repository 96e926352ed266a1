"""Gradient noise: SGD's stationary covariance (exact chain vs OU), the KL-optimal learning rate,
unadjusted Langevin's bias, Polyak-Ruppert averaging. Chains from ``numeric.noise``."""

from __future__ import annotations

import numpy as np

from analytic.noise import stationary_covariance
from numeric import noise as sim
from verify.core import Context, check, compare, compare_outcome

_ANGLE = 0.5  # rotation of H's eigenbasis against the coordinates (H and C do not commute)
_CURVATURES = np.array([1.0, 0.25])
_BATCH = 4.0


def _rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


def _problem():
    """H = R diag(1, 1/4) R^T, C = [[1, 0.3], [0.3, 0.5]] (per example), batch size 4."""
    rot = _rotation(_ANGLE)
    return rot @ np.diag(_CURVATURES) @ rot.T, np.array([[1.0, 0.3], [0.3, 0.5]])


def _entries(formula, lr, curvatures, rotated):
    """Per-entry Formula values in H's eigenbasis (the same assembly as stationary_covariance)."""
    lam_i, lam_j = np.meshgrid(curvatures, curvatures, indexing="ij")
    values = dict(eta=lr, lam_i=lam_i, lam_j=lam_j, noise_cov=rotated, batch_size=_BATCH)
    return np.asarray(formula.jax(*(np.asarray(values[n], float) for n in formula.param_names)))


@check("noise.stationary_covariance", smoke=True, uses={
    "sgd": "noise.sgd_covariance", "ou": "noise.ou_covariance", "gap": "noise.covariance_relative_gap",
    "slope": "noise.covariance_gap_slope"})
def stationary_covariance_check(ctx: Context, sgd, ou, gap, slope):
    """Constant SGD's stationary covariance: exact discrete Lyapunov solution vs chains, OU's O(eta) error."""
    hessian, noise_cov = _problem()
    lrs = np.array([0.1, 0.2, 0.4, 0.8])  # eta lam_max from 0.1 to 0.8
    # quick (and smoke): 512 chains x 2000 steps after 600 of burn-in, the shape of every chain program of
    # this family, compiled once
    chains, steps = (128, 2000) if ctx.quick else (1024, 50_000)
    run = ctx.measure(sim.sgd_chains, ctx.key("noise.stationary_covariance"), hessian, noise_cov, lrs, _BATCH,
                      chains=chains, steps=steps, burn_in=600)  # burn-in: (1 - 0.1 * 0.25)^1200 ~ 1e-13
    mean, sem = np.asarray(run.mean), np.asarray(run.sem)
    predicted = np.stack([np.asarray(stationary_covariance(hessian, noise_cov, lr, _BATCH, formula=sgd))
                          for lr in lrs])
    yield compare(f"exact SGD covariance (discrete Lyapunov) vs {chains} chains x {steps} steps, eta lam_max "
                  f"in {lrs.tolist()}", predicted, mean, 4 * sem,
                  "4 Monte Carlo standard errors over independent chains (batch means: within-chain "
                  "autocorrelation included)", relative=False)
    iterated = np.stack([np.asarray(ctx.measure(sim.sgd_second_moment, hessian, noise_cov, lr, _BATCH)) for lr in lrs])
    yield compare("exact SGD covariance vs Smith's doubling iteration of the second-moment map", predicted,
                  iterated, 1e-10, "float64 round-off of 64 doublings and an eigendecomposition")
    # H's eigenbasis: the measured relative excess over the OU covariance, per diagonal entry
    curvatures, basis = np.linalg.eigh(hessian)
    rotated = basis.T @ noise_cov @ basis
    ou_diag = np.stack([np.diag(_entries(ou, lr, curvatures, rotated)) for lr in lrs])
    per_chain = np.einsum("ki,lcij,jm->lckm", basis.T, np.asarray(run.per_chain), basis)
    diag = np.diagonal(per_chain, axis1=-2, axis2=-1)  # (lr, chain, mode)
    measured_gap = diag.mean(1) / ou_diag - 1
    gap_sem = diag.std(1, ddof=1) / np.sqrt(chains) / ou_diag
    lr_grid, lam_grid = np.meshgrid(lrs, curvatures, indexing="ij")
    predicted_gap = np.asarray(gap.jax(lr_grid, lam_grid, lam_grid))
    yield compare("relative excess of the SGD covariance over the OU one, eigen-directions x eta: formula vs "
                  "chains", predicted_gap, measured_gap, 4 * gap_sem, "4 Monte Carlo standard errors",
                  relative=False)
    exact_gaps = np.stack([np.diag(basis.T @ m @ basis) for m in iterated]) / ou_diag - 1
    yield compare("relative excess over the OU covariance: formula vs the doubling iteration's exact moments",
                  predicted_gap, exact_gaps, 1e-9, "float64 round-off of 64 doublings (relative to gaps >= 0.01)")
    # fitted slope over eta: gap / (eta lam) = a + b q + c q^2 (q = eta lam) by weighted least squares
    q, y, w = (lam_grid * lr_grid).ravel(), (measured_gap / (lr_grid * lam_grid)).ravel(), \
        (gap_sem / (lr_grid * lam_grid)).ravel()
    design = np.vander(q, 3, increasing=True) / w[:, None]
    coef, *_ = np.linalg.lstsq(design, y / w, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    y_exact = (exact_gaps / (lr_grid * lam_grid)).ravel()
    a2 = np.linalg.lstsq(np.vander(q, 3, increasing=True), y_exact, rcond=None)[0][0]
    a3 = np.linalg.lstsq(np.vander(q, 4, increasing=True), y_exact, rcond=None)[0][0]
    slopes = np.asarray(slope.jax(curvatures, curvatures)) / curvatures  # gap slope in eta, per unit lam
    yield compare("OU error's slope in eta (per unit curvature) from a fit to the chains at 4 step sizes vs "
                  "d/deta of the gap at 0", slopes, coef[0], 4 * np.sqrt(cov[0, 0]) + abs(a2 - a3),
                  "4 standard errors of the fitted intercept (Monte Carlo) plus the fit's truncation "
                  "(quadratic vs cubic fit to the exact moments: discretisation of the O(eta) expansion)",
                  relative=False)
    # the same slope, deterministic: Richardson extrapolation of gap / eta at eta -> 0, every entry
    small = np.array([1e-3, 2e-3, 4e-3])
    exact = np.stack([basis.T @ np.asarray(ctx.measure(sim.sgd_second_moment, hessian, noise_cov, lr, _BATCH))
                      @ basis for lr in small])
    ou_small = np.stack([_entries(ou, lr, curvatures, rotated) for lr in small])
    per_eta = (exact / ou_small - 1) / small[:, None, None]
    richardson = 2 * per_eta[0] - per_eta[1]
    coarse = 2 * per_eta[1] - per_eta[2]
    lam_i, lam_j = np.meshgrid(curvatures, curvatures, indexing="ij")
    yield compare("OU error's slope d/deta (Sigma / Sigma_OU - 1) at eta = 0, all entries: formula vs Richardson "
                  "extrapolation of the exact moments at eta = 1e-3, 2e-3", np.asarray(slope.jax(lam_i, lam_j)),
                  richardson, np.abs(richardson - coarse) + 1e-7,
                  "Richardson extrapolation: its change from (2e-3, 4e-3) to (1e-3, 2e-3) (O(eta^2) discretisation), "
                  "plus float64 round-off of the doubling sums (~1e-13 / eta)", relative=False)
    ctx.figure("noise_stationary_covariance", {
        "eta": lrs, "predicted_lam_1": predicted_gap[:, 1], "measured_lam_1": measured_gap[:, 1],
        "predicted_lam_0.25": predicted_gap[:, 0], "measured_lam_0.25": measured_gap[:, 0],
        "first_order_lam_1": lrs * np.asarray(slope.jax(curvatures[1], curvatures[1]))},
        x="eta", ys=("predicted_lam_1", "measured_lam_1", "predicted_lam_0.25", "measured_lam_0.25",
                     "first_order_lam_1"),
        title="constant SGD: stationary variance over the OU prediction, minus 1 (lam = 1 and 1/4)",
        ylabel="Sigma_ii / Sigma_OU_ii - 1 (H eigenbasis)")


@check("noise.kl_optimal_lr", smoke=True, uses={"optimal": "noise.kl_optimal_lr", "ou": "noise.ou_covariance"})
def kl_optimal_lr_check(ctx: Context, optimal, ou):
    """Theorem 1 of Mandt et al.: the KL-optimal constant learning rate; exact posterior only for isotropic noise."""
    hessian, noise_cov = _problem()
    n_data = 400.0
    predicted = float(optimal(dim=2, batch_size=_BATCH, n_data=n_data, noise_trace=float(np.trace(noise_cov))))
    searched = ctx.measure(sim.ou_kl_minimiser, hessian, noise_cov, _BATCH, n_data)
    yield compare("KL-optimal learning rate, non-commuting H and C: 2 D S / (N Tr C) vs Brent search over the "
                  "Kronecker-solved OU covariance", predicted, searched, 1e-7,
                  "Brent tolerance 1e-12 in log(eta) and float64 round-off of a 4 x 4 solve")

    def kl_at_optimum(c):
        lr = float(optimal(dim=2, batch_size=_BATCH, n_data=n_data, noise_trace=float(np.trace(c))))
        m = n_data * hessian @ np.asarray(stationary_covariance(hessian, c, lr, _BATCH, "continuous", formula=ou))
        return 0.5 * (np.trace(m) - np.linalg.slogdet(m)[1] - 2)

    yield compare("KL(OU stationary || posterior) at the optimum, isotropic noise C = I/2: zero", 0.0,
                  kl_at_optimum(0.5 * np.eye(2)), 1e-12, "float64 round-off (exact equality)", relative=False)
    kl_hessian_noise = kl_at_optimum(hessian)
    yield compare_outcome("noise proportional to the Hessian (C = H): KL at the scalar optimum",
                          "positive (> 1e-3)", "positive (> 1e-3)" if kl_hessian_noise > 1e-3 else
                          f"{kl_hessian_noise:.3g}", "float64 round-off is ~1e-15: C = H needs Theorem 2's "
                          "preconditioner, not a scalar learning rate, for equality")
    # chains at the optimum with isotropic noise: their covariance is the posterior (N H)^-1, up to O(eta)
    iso = 0.5 * np.eye(2)
    lr = float(optimal(dim=2, batch_size=_BATCH, n_data=n_data, noise_trace=1.0))  # 2 * 2 * 4 / 400 = 0.04
    # the stationary_covariance check's sizes (4 step sizes x chains): the same compiled chain program
    chains, steps = (512, 2000) if ctx.quick else (4096, 50_000)
    run = ctx.measure(sim.sgd_chains, ctx.key("noise.kl_optimal_lr"), hessian, iso, [lr], _BATCH, chains=chains,
                      steps=steps, burn_in=600)  # (1 - 0.04 / 4)^1200 ~ 6e-6 of the (zero) start
    posterior = np.linalg.inv(n_data * hessian)
    yield compare(f"isotropic noise, SGD at the KL-optimal eta = {lr:.3g}: chains' covariance vs posterior "
                  "(N H)^-1", posterior, np.asarray(run.mean[0]),
                  4 * np.asarray(run.sem[0]) + lr * _CURVATURES.max() * np.abs(posterior).max(),
                  "4 Monte Carlo standard errors plus the O(eta) discretisation of the exact chain (relative "
                  "excess eta lam / (2 - eta lam) <= eta lam_max)", relative=False)


@check("noise.langevin", smoke=True, uses={"variance": "noise.ula_variance", "bias": "noise.ula_bias"})
def langevin_check(ctx: Context, variance, bias):
    """Unadjusted Langevin on a quadratic: stationary variance and its exact O(eta) bias vs Gibbs."""
    lams, lrs, temperature = np.array([1.0, 0.25]), np.array([0.1, 0.4, 0.8, 1.0]), 1.0
    chains, steps = (128, 2000) if ctx.quick else (1024, 50_000)
    run = ctx.measure(sim.langevin_chains, ctx.key("noise.langevin"), lams, lrs, temperature, chains=chains,
                      steps=steps, burn_in=600)
    lr_grid, lam_grid = np.meshgrid(lrs, lams, indexing="ij")
    mean, sem = np.asarray(run.mean), np.asarray(run.sem)
    predicted = np.asarray(variance.jax(lr_grid, lam_grid, temperature))
    yield compare("ULA stationary variance 2T / (lam (2 - eta lam)) vs chains", predicted, mean, 4 * sem,
                  "4 Monte Carlo standard errors over independent chains", relative=False)
    predicted_bias = np.asarray(bias.jax(lr_grid, lam_grid, temperature))
    yield compare("ULA bias vs Gibbs eta T / (2 - eta lam): formula vs chains' variance - T/lam", predicted_bias,
                  mean - temperature / lam_grid, 4 * sem, "4 Monte Carlo standard errors", relative=False)
    worst = int(np.argmax(lr_grid * lam_grid))
    z = float(((mean - temperature / lam_grid) / sem).ravel()[worst])
    yield compare_outcome("chains reject the Gibbs variance T/lam at eta lam = 1 (> 4 SE)", "rejected",
                          "rejected" if z > 4 else f"not rejected ({z:.2g} SE)",
                          "4 Monte Carlo standard errors: the O(eta) bias is real")
    exact = np.array([[ctx.measure(sim.langevin_second_moment, float(l), float(e), temperature) for l in lams]
                      for e in lrs])
    yield compare("ULA variance vs the doubling iteration of v <- (1 - eta lam)^2 v + 2 eta T", predicted, exact,
                  1e-12, "float64 round-off")
    yield compare("ULA bias vs the doubling iteration minus T/lam", predicted_bias, exact - temperature / lam_grid,
                  1e-11, "float64 round-off (relative to a bias >= 0.05)")


@check("noise.polyak_averaging", smoke=True, uses={"averaged": "noise.averaged_variance",
                                                   "ratio": "noise.averaging_variance_ratio"})
def polyak_averaging_check(ctx: Context, averaged, ratio):
    """Polyak-Ruppert averaging of constant SGD: variance noise / (S lam^2 t), reduction (2 - q)/(q t)."""
    lam, lr, noise_var, batch = 1.0, 0.2, 1.0, 2.0
    horizons = np.array([125, 500, 2000])
    chains = 512 if ctx.quick else 65_536
    # eta and eta/4 in one run; burn-in: (1 - 0.05)^1200 ~ 1e-27 of the (zero) start
    both = ctx.measure(sim.averaged_sgd_chains, ctx.key("noise.polyak_averaging"), lam, [lr, lr / 4], noise_var,
                       horizons, batch, chains=chains, burn_in=600)
    averages = np.asarray(both.averages)[:, 0]
    var = averages.var(axis=1, ddof=1)
    se = np.sqrt((np.mean((averages - averages.mean(1, keepdims=True)) ** 4, axis=1) - var**2) / chains)
    q = lr * lam
    horizon_bias = 2 / (q * (2 - q) * horizons)  # the exact variance is below the leading order by < this
    predicted = np.asarray(averaged.jax(noise_var, batch, lam, horizons.astype(float)))
    yield compare(f"variance of the average of t = {horizons.tolist()} iterates vs {chains} chains", predicted, var,
                  4 * se / predicted + horizon_bias,
                  "4 Monte Carlo standard errors (fourth moment) plus the finite horizon O(1/(eta lam t))")
    last = np.asarray(both.last)[0]
    last_var = last.var(ddof=1)
    ratio_se = (var / last_var) * np.sqrt((se / var) ** 2 + 2 / (chains - 1))
    yield compare("variance reduction Var(average) / Var(last iterate) vs chains",
                  np.asarray(ratio.jax(lr, lam, horizons.astype(float))), var / last_var,
                  4 * ratio_se / (var / last_var) + horizon_bias,
                  "4 standard errors of a ratio of two Monte Carlo variances plus the finite horizon O(1/(eta lam t))")
    long = 100_000
    exact = ctx.measure(sim.averaged_second_moment, lam, lr, noise_var, long, batch)
    yield compare(f"variance of the average at t = {long}: formula vs exact joint-moment iteration",
                  float(averaged(noise=noise_var, batch_size=batch, lam=lam, t=long)), exact,
                  2 / (q * (2 - q) * long) + 1e-12, "finite horizon O(1/(eta lam t)) and float64 round-off")
    stationary = float(ctx.measure(sim.sgd_second_moment, [[lam]], [[noise_var]], lr, batch)[0, 0])
    yield compare(f"variance reduction at t = {long}: formula vs exact iteration over the doubling stationary "
                  "variance", float(ratio(eta=lr, lam=lam, t=long)), exact / stationary,
                  2 / (q * (2 - q) * long) + 1e-12, "finite horizon O(1/(eta lam t)) and float64 round-off")
    small_var = float(np.asarray(both.averages)[-1, 1].var(ddof=1))
    yield compare(f"eta-independence: variance at t = {horizons[-1]} with eta/4 vs the formula", predicted[-1],
                  small_var, 4 * np.sqrt(2 / (chains - 1)) + 2 / (q / 4 * (2 - q / 4) * horizons[-1]),
                  "4 Monte Carlo standard errors (Gaussian) plus the finite horizon O(1/(eta lam t)) at eta/4")
    ctx.figure("noise_polyak_averaging", {"steps": horizons, "predicted": predicted, "measured": var,
                                          "measured_last_iterate": np.full(horizons.shape, last_var)},
               x="steps", ys=("predicted", "measured", "measured_last_iterate"), logx=True, logy=True,
               title=f"Polyak-Ruppert averaging, lam = {lam}, eta = {lr}: variance of the average of t iterates",
               ylabel="Var(theta_bar_t)")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("noise.sgd_covariance", "the eta^2 lam_i lam_j term's eta dropped (eta lam_i lam_j -> lam_i lam_j eta^2)",
            "eta*noise_cov/(batch_size*(lam_i + lam_j - eta**2*lam_i*lam_j))"),
    mistake("noise.ou_covariance", "the Lyapunov sum replaced by twice one curvature",
            "eta*noise_cov/(batch_size*2*lam_i)"),
    mistake("noise.covariance_relative_gap", "the denominator's eta term lost", "eta*lam_i*lam_j/(lam_i + lam_j)"),
    mistake("noise.covariance_gap_slope", "the sum's harmonic mean instead of half of it",
            "2*lam_i*lam_j/(lam_i + lam_j)"),
    mistake("noise.kl_optimal_lr", "the factor 2 of the Lyapunov trace lost", "batch_size*dim/(n_data*noise_trace)"),
    mistake("noise.ula_variance", "the Gibbs variance (no discretisation bias)", "temperature/lam"),
    mistake("noise.ula_bias", "first order only", "eta*temperature/2"),
    mistake("noise.averaged_variance", "the last iterate's variance over t", "eta**0*noise/(batch_size*lam*t)"),
    mistake("noise.averaging_variance_ratio", "the factor (2 - eta lam) taken as 2", "2/(eta*lam*t)"),
)
