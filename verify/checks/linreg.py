"""Linear regression: every closed form of ``analytic.linreg`` against direct training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

from numeric import linreg as sim
from verify.core import Context, check, compare, compare_outcome



def _problem(ctx: Context, salt: str, eigenvalues, n: int):
    """A realisable least-squares problem with a prescribed Hessian spectrum.

    Returns the design, labels, w* and the initial mode errors e_i = v_i^T (w0 - w*)
    for w0 = 0, with v_i the eigenvectors of X^T X / n (from numpy, not the formula).
    """
    eigenvalues = jnp.asarray(eigenvalues, dtype=jnp.float64)
    X = sim.design_with_spectrum(ctx.key(salt), n, eigenvalues)
    w_star = jax.random.normal(ctx.key(salt + "/w"), (X.shape[1],), X.dtype)
    y = X @ w_star
    ev, vec = np.linalg.eigh(np.asarray(X.T @ X / n))
    errors = vec.T @ (0.0 - np.asarray(w_star))
    return X, y, w_star, ev, errors


@check("linreg.gd_loss_curve", uses={"mode_error": "linreg.gd_mode_error"})
def gd_loss_curve(ctx: Context, mode_error):
    """GD loss curve from the per-mode solution vs direct GD on least squares (float64)."""
    d, n, steps, lam_min = (20, 60, 200, 0.05) if ctx.quick else (200, 600, 2000, 0.005)
    X, y, w_star, ev, errors = _problem(ctx, "gd_loss_curve", np.geomspace(lam_min, 2.0, d), n)
    eta = 0.9
    measured = ctx.measure(sim.gd_least_squares, X, y, jnp.zeros(d), eta, steps).losses
    t = jnp.arange(steps + 1.0)[:, None]
    mode_errors = mode_error.jax(eta, ev[None, :], t, errors[None, :])
    predicted = 0.5 * jnp.sum(ev * mode_errors**2, axis=-1)
    ctx.figure("linreg_gd_loss_curve", {"step": np.arange(steps + 1), "predicted": predicted,
                                         "measured": measured}, x="step", ys=("predicted", "measured"),
               logy=True, title=f"GD on least squares, d={d}, eta={eta}")
    # Round-off in w (~1e-16 |w*|) perturbs the loss by ~2e-16 sqrt(L0 / L) relatively:
    # compare while the loss is above 1e-12 L0, where that stays below 1e-9.
    resolved = np.asarray(predicted) >= 1e-12 * float(predicted[0])
    yield compare(f"d={d}, {int(resolved.sum())} of {steps + 1} steps", np.asarray(predicted)[resolved],
                  np.asarray(measured)[resolved], 1e-9,
                  "float64: round-off in w perturbs L by ~2e-16 sqrt(L0/L) relative; compared while "
                  "L >= 1e-12 L0, so <= 2e-10 there")


@check("linreg.critical_lr", uses={"threshold": "linreg.critical_lr"})
def critical_lr(ctx: Context, threshold):
    """GD just below critical_lr converges, just above diverges at rate |1 - eta lam_max|."""
    d, n, steps = (10, 40, 3000) if ctx.quick else (100, 400, 6000)
    spectrum = np.geomspace(0.2, 1.0, d)
    X, y, _, ev, _ = _problem(ctx, "critical_lr", spectrum, n)
    eta_c = float(threshold(lam_max=float(ev[-1])))
    for factor in (0.99, 1.01):
        run = ctx.measure(sim.gd_least_squares, X, y, jnp.zeros(d), factor * eta_c, steps)
        outcome = "diverges" if bool(run.diverged) else "converges"
        yield compare_outcome(f"eta={factor}*critical", "converges" if factor < 1 else "diverges",
                              outcome, "categorical: converged (loss fell) or diverged (grew/inf)")
        if factor > 1:
            yield compare(f"growth at eta={factor}*critical", abs(1 - factor * eta_c * ev[-1]),
                          float(run.growth_rate), 1e-6,
                          "subdominant modes shrink relative to the stiffest by > 1e-20 over the "
                          "run; float64 round-off")


def _contraction(weights, w_star, high: float = 1e-3, low: float = 1e-11) -> float:
    """Per-step contraction of ||w_t - w*|| between the steps where it first falls
    below ``high`` and ``low`` times its start (well above float64 round-off); if it never
    gets there (a rate too slow, or growth), over the second half of the run instead."""
    err = np.linalg.norm(np.asarray(weights) - np.asarray(w_star), axis=-1)
    ratio = err / err[0]
    start, stop = int(np.argmax(ratio < high)), int(np.argmax(ratio < low))
    if not 0 < start < stop:
        start, stop = len(err) // 2, len(err) - 1
    return float((err[stop] / err[start]) ** (1.0 / (stop - start)))


@check("linreg.optimal_rate", uses={"rate": "linreg.optimal_rate", "steps_formula": "linreg.optimal_steps",
                                     "optimal_lr": "linreg.optimal_lr"})
def optimal_rate(ctx: Context, rate, steps_formula, optimal_lr):
    """Measured worst-case contraction at optimal_lr vs optimal_rate, and steps to eps."""
    for kappa in (10.0, 100.0) if ctx.quick else (10.0, 100.0, 1000.0):
        d = 8
        # Interior eigenvalues well inside [1, kappa] contract much faster than the ends.
        spectrum = np.concatenate([[1.0], np.geomspace(3.0, kappa / 3.0, d - 2), [kappa]])
        X, y, w_star, ev, _ = _problem(ctx, f"optimal_rate/{kappa}", spectrum, 4 * d)
        eta = float(optimal_lr(lam_min=float(ev[0]), lam_max=float(ev[-1])))
        run = ctx.measure(sim.gd_least_squares, X, y, jnp.zeros(d), eta, int(15 * kappa))
        measured = _contraction(run.weights, w_star)
        yield compare(f"kappa={kappa:g}", float(rate(kappa=kappa)), measured, 1e-6,
                      "interior modes (eigenvalues in [3, kappa/3]) have decayed by > 1e6 relative "
                      "to the extreme ones by the window; float64")
    # Steps to relative error eps, on the two extreme modes alone (error exactly r^t).
    for kappa in (10.0, 100.0, 1000.0):  # ~69, ~691, ~6908 steps: one step is 1.4%, 0.14%, 0.014%
        X, y, w_star, _, _ = _problem(ctx, f"optimal_steps/{kappa}", [1.0, kappa], 4)
        eps = 1e-6
        eta = float(optimal_lr(lam_min=1.0, lam_max=kappa))
        predicted = float(np.ceil(steps_formula(kappa=kappa, eps=eps)))
        run = ctx.measure(sim.gd_least_squares, X, y, jnp.zeros(2), eta, int(2 * predicted) + 10)
        err = np.linalg.norm(np.asarray(run.weights) - np.asarray(w_star), axis=-1)
        measured = float(np.argmax(err / err[0] <= eps))
        yield compare(f"steps to eps=1e-6, kappa={kappa:g}", predicted, measured, 1.0 / predicted,
                      "integer step count: round-off can move r^t across eps by one step (tolerance "
                      "one step, relative to the count)")


@check("linreg.gradient_flow_limit", uses={"flow": "linreg.gf_mode_error"})
def gradient_flow_limit(ctx: Context, flow):
    """GD at time t = eta * steps approaches gradient flow with error O(eta) (fitted slope)."""
    d, n, horizon = 10, 40, 5.0
    X, y, w_star, ev, errors = _problem(ctx, "gradient_flow_limit", np.geomspace(0.1, 1.0, d), n)
    etas = np.array([0.2, 0.1, 0.05, 0.025] if ctx.quick else [0.2, 0.1, 0.05, 0.025, 0.0125, 0.00625])
    gaps = []
    for eta in etas:
        steps = int(round(horizon / eta))
        losses = np.asarray(ctx.measure(sim.gd_least_squares, X, y, jnp.zeros(d), eta, steps).losses)
        times = eta * np.arange(steps + 1)
        flow_errors = flow.jax(ev[None, :], times[:, None], errors[None, :])
        flow_loss = 0.5 * np.sum(ev * np.asarray(flow_errors) ** 2, axis=-1)
        gaps.append(np.max(np.abs(losses - flow_loss)) / flow_loss[0])
    fit = scipy.stats.linregress(np.log(etas), np.log(gaps))
    ctx.figure("linreg_gradient_flow_limit", {"eta": etas, "max_relative_gap": gaps}, x="eta",
               ys=("max_relative_gap",), logx=True, logy=True, title="GD vs gradient flow",
               reference={"slope": 1.0})
    yield compare("log-log slope of gap vs eta", 1.0, fit.slope, 0.1,
                  "GD - flow = O(eta) + O(eta^2): the eta^2 term tilts the fit at the largest eta",
                  relative=False)


def _finite_n_gap(n: int, d: int, sigma2: float) -> float:
    """How far the exact finite-n expected min-norm risk sits from its large-n form.

    For Gaussian designs E tr (X^T X)^{-1} = d / (n - d - 1) (d < n) and
    E tr (X X^T)^{-1} = n / (d - n - 1) (d > n) (inverse-Wishart means), against
    d / (n - d) and n / (d - n) as n, d -> oo; the bias part r2 (1 - n/d) is exact at
    every n. The gap sizes the tolerance and does not depend on the formula tested.
    """
    m = abs(n - d)
    return sigma2 * min(n, d) / (m * (m - 1))


@check("linreg.ridgeless_risk", uses={"risk": "linreg.ridgeless_risk", "ridge_risk": "linreg.ridge_risk"})
def ridgeless_risk(ctx: Context, risk, ridge_risk):
    """Double descent: Monte Carlo min-norm (and ridge) risk vs the asymptotic formula."""
    r2, sigma2 = 1.0, 0.25
    n, trials = (100, 100) if ctx.quick else (400, 1000)
    gammas = [0.25, 0.5, 2.0, 4.0] if ctx.quick else [0.1, 0.25, 0.5, 0.75, 1.5, 2.0, 4.0, 8.0]
    points = []
    for gamma in gammas:
        d = int(round(gamma * n))
        est = ctx.measure(sim.min_norm_risk, ctx.key(f"ridgeless/{gamma}"), n, d, r2, sigma2, trials)
        predicted = float(risk(gamma=d / n, r2=r2, sigma2=sigma2))
        finite_n_gap = _finite_n_gap(n, d, sigma2)
        points.append((d / n, predicted, est.mean, est.standard_error))
        yield compare(f"gamma={d / n:g}", predicted, est.mean, 4 * est.standard_error + finite_n_gap,
                      f"4 Monte Carlo SE ({trials} trials) + exact finite-n gap "
                      f"{finite_n_gap:.2g} at n={n}", relative=False)
    for gamma, penalty in ((0.5, 0.5), (2.0, 0.5)):
        d = int(gamma * n)
        est = ctx.measure(sim.ridge_risk, ctx.key(f"ridge/{gamma}"), n, d, r2, sigma2, penalty, trials)
        predicted = float(ridge_risk(gamma=gamma, r2=r2, sigma2=sigma2, ridge=penalty))
        yield compare(f"ridge={penalty}, gamma={gamma:g}", predicted, est.mean,
                      4 * est.standard_error + 2.0 * predicted / n,
                      f"4 Monte Carlo SE ({trials} trials) + O(1/n) finite-size correction of the "
                      f"Marchenko-Pastur limit, allowed 2/n relative at n={n}", relative=False)
    # The limit itself, deterministically: the same bias-variance integrals over the
    # Marchenko-Pastur spectrum by quadrature (numeric.linreg.spectral_ridge_risk).
    for gamma, penalty in ((0.25, 0.05), (0.5, 0.5), (2.0, 0.05), (4.0, 3.0)):
        yield compare(f"ridge={penalty}, gamma={gamma:g}: limit by quadrature over the spectrum",
                      float(ridge_risk(gamma=gamma, r2=r2, sigma2=sigma2, ridge=penalty)),
                      sim.spectral_ridge_risk(gamma, r2, sigma2, penalty), 1e-10,
                      "round-off: adaptive quadrature to 1e-13 of smooth integrands (the square-root "
                      "end points substituted away) and float64 evaluation of the closed form")
    # One table: the asymptotic curve on a dense grid (broken at the pole gamma = 1)
    # and the Monte Carlo points (measured is NaN off them).
    g, p, m, se = map(np.array, zip(*points))
    dense = np.concatenate([np.geomspace(0.05, 0.97, 60), [1.0], np.geomspace(1.03, 20, 60)])
    gamma_all = np.concatenate([dense, g])
    order = np.argsort(gamma_all, kind="stable")
    curve = np.where(dense == 1.0, np.nan, np.asarray(risk(gamma=dense, r2=r2, sigma2=sigma2)))
    nan_dense = np.full(dense.shape, np.nan)
    ctx.figure("linreg_double_descent", {
        "gamma": gamma_all[order],
        "predicted": np.concatenate([curve, p])[order],
        "measured": np.concatenate([nan_dense, m])[order],
        "standard_error": np.concatenate([nan_dense, se])[order],
    }, x="gamma", ys=("predicted", "measured"), logx=True, logy=True,
        title=f"double descent: min-norm least squares, n={n}, r2={r2}, sigma2={sigma2}",
        reference={"vline": (1.0, "interpolation threshold gamma = 1")})


@check("linreg.feature_conditioning", uses={"kappa_formula": "linreg.two_feature_kappa"})
def feature_conditioning(ctx: Context, kappa_formula):
    """kappa of H for scaled, correlated features: raw, standardised, whitened."""
    n, boot = (20000, 40) if ctx.quick else (200000, 100)
    scale, rho = 10.0, 0.8
    X = sim.correlated_design(ctx.key("feature_conditioning"), n, scale, rho)
    rng = np.random.default_rng(0)
    transforms = {"raw": (lambda A: A, scale), "standardised": (sim.standardize_features, 1.0)}
    for label, (transform, s) in transforms.items():
        measured = sim.condition_number(transform(X))
        resampled = [sim.condition_number(transform(X[rng.integers(0, n, n)])) for _ in range(boot)]
        se = float(np.std(resampled, ddof=1))
        predicted = float(kappa_formula(scale=s, rho=rho))
        yield compare(f"{label}, scale={s:g}, rho={rho}", predicted, measured, 4 * se / predicted,
                      f"4 bootstrap standard errors ({boot} resamples) of the sample kappa, n={n}")
    yield compare("whitened", 1.0, sim.condition_number(sim.whiten_features(X)), 1e-10,
                  "whitening makes H the identity up to float64 round-off")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate linreg --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("linreg.critical_lr", "a factor 2 lost: 1/lam_max", "1/lam_max"),
    mistake("linreg.optimal_lr", "a factor 2 lost: 1/(lam_max + lam_min)", "1/(lam_max + lam_min)"),
    mistake("linreg.gd_mode_error", "the loss's power for the error: (1 - eta lam)^(2t)", "e0*(1 - eta*lam)**(2*t)"),
    mistake("linreg.ridgeless_risk", "underparameterised variance without gamma: sigma2/(1 - gamma)",
            "Piecewise((sigma2/(1 - gamma), gamma < 1), ((gamma**2*r2 - 2*gamma*r2 + gamma*sigma2 + r2)"
            "/(gamma*(gamma - 1)), True))"),
)
