"""Early stopping as ridge (Ali, Kolter & Tibshirani 2019): filters, risk along the path, the 1.6862 bound, MP limit."""

from __future__ import annotations

import numpy as np

from analytic.early_stopping import gradient_flow_risk_mp, spectral_risk
from numeric import early_stopping as sim
from verify.core import Context, check, compare


_N, _P, _SIGMA = 60, 20, 1.0  # one design shape and draw count for every run here: one compilation each


def _shared_data(ctx: Context):
    """A Gaussian design X (1, n, p), beta_0 on the unit sphere, ``draws`` noise draws y = X beta_0 + noise;
    and an orthogonal design (X^T X / n = I) with pure-noise y (beta_0 = 0)."""
    def make():
        draws = 400 if ctx.quick else 4000
        rng = np.random.default_rng(7000 + ctx.seed)
        x = rng.normal(size=(1, _N, _P))
        beta = rng.normal(size=_P)
        beta /= np.linalg.norm(beta)
        y = x[0] @ beta + _SIGMA * rng.normal(size=(draws, _N))
        q, _ = np.linalg.qr(rng.normal(size=(_N, _P)))
        return x, y, beta, (np.sqrt(_N) * q)[None], _SIGMA * rng.normal(size=(draws, _N))
    return ctx.memoise(("early_stopping.data", ctx.seed, ctx.size), make)


def _eigen(x):
    """Eigenvalues and eigenvectors of X^T X / n for each draw."""
    return np.linalg.eigh(np.einsum("dni,dnj->dij", x, x) / x.shape[1])


@check("early_stopping.filters", smoke=True, uses={
    "gd": "early_stopping.gd_filter", "ridge": "early_stopping.ridge_filter",
    "flow": "early_stopping.gradient_flow_filter", "matched": "early_stopping.matched_ridge"})
def filters(ctx: Context, gd, ridge, flow, matched):
    """GD, gradient-flow and ridge estimates are the least-squares solution filtered per eigen-mode."""
    x, y, *_ = _shared_data(ctx)
    s, v = _eigen(x)
    s, v = s[0], v[0]
    least_squares = v.T @ np.linalg.solve(x[0].T @ x[0], x[0].T @ y[0])  # in the eigenbasis (draw 0)
    scale = np.max(np.abs(least_squares))
    lr, steps = 0.5 / s.max(), np.array([1, 5, 20, 100])
    measured = np.asarray(ctx.measure(sim.gd_estimates, x, y, lr, steps))[0] @ v
    predicted = np.asarray(gd.jax(lr, s[None], steps[:, None].astype(float))) * least_squares
    yield compare(f"GD after t = {steps.tolist()} steps: eigen-coefficients vs (1 - (1 - eta lam)^t) beta_ls", predicted,
                  measured, 1e-11 * scale, "float64 round-off of 100 matrix-vector steps and an eigh", relative=False)
    penalties = np.array([0.01, 0.1, 1.0])
    measured = np.asarray(ctx.measure(sim.ridge_estimates, x, y, penalties))[0] @ v
    predicted = np.asarray(ridge.jax(s[None], penalties[:, None])) * least_squares
    yield compare(f"ridge at {penalties.tolist()}: eigen-coefficients vs lam/(lam + ridge) beta_ls", predicted, measured,
                  1e-11 * scale, "float64 round-off of a 20 x 20 solve and an eigh", relative=False)
    # gradient flow at time tau from GD with two step sizes (O(eta) discretisation, Richardson)
    fine = 0.05 / s.max()
    times = np.array([0.5, 2.0, 8.0]) / s.mean()  # at most 8 / 0.05 (lam_max / lam_mean) ~ 400 < 512 steps
    coarse_steps = np.round(times / (2 * fine)).astype(int)
    fine_steps = 2 * coarse_steps
    times = fine_steps * fine  # exactly reachable by both
    coarse_run = np.asarray(ctx.measure(sim.gd_estimates, x, y, 2 * fine, coarse_steps))[0] @ v
    fine_run = np.asarray(ctx.measure(sim.gd_estimates, x, y, fine, fine_steps))[0] @ v
    predicted = np.asarray(flow.jax(s[None], times[:, None])) * least_squares
    yield compare(f"gradient flow at t = {np.round(times, 3).tolist()}: 1 - exp(-lam t) vs GD at eta lam_max = 0.05",
                  predicted, fine_run, 2 * np.abs(fine_run - coarse_run) + 1e-12 * scale,
                  "O(eta) discretisation from two step sizes (Richardson: twice the difference of the runs)",
                  relative=False)
    # calibration: on modes with eta t lam small the GD and ridge coefficients agree at ridge = 1/(eta t)
    lr_small, few = 0.02 / s.max(), np.array([1, 2, 3])
    gd_run = np.asarray(ctx.measure(sim.gd_estimates, x, y, lr_small, few))[0] @ v
    penalties = np.asarray(matched.jax(lr_small, few.astype(float)))
    ridge_run = np.asarray(ctx.measure(sim.ridge_estimates, x, y, penalties))[0] @ v
    small = lr_small * few[:, None] * s[None]
    yield compare(f"ridge at 1/(eta t), t = {few.tolist()}: GD/ridge coefficient ratio per mode -> 1 (max eta t lam = "
                  f"{small.max():.3g})", np.ones_like(small), gd_run / ridge_run, 2 * small,
                  "leading order: the filters differ at O(eta t lam) (finite-size of the small-curvature expansion)",
                  relative=False)



@check("early_stopping.risk_path", uses={
    "gd": "early_stopping.gd_filter", "ridge": "early_stopping.ridge_filter",
    "matched": "early_stopping.matched_ridge", "constant": "early_stopping.risk_ratio_constant"},
    blind={"matched": "it only chooses the ridge grid, shared by prediction and simulation; "
           "early_stopping.filters compares it"})
def risk_path(ctx: Context, gd, ridge, matched, constant):
    """Monte Carlo risk of GD over t and of ridge over 1/(eta t) vs the exact per-mode risk; the ratio's sharp constant."""
    x, y, beta, *_ = _shared_data(ctx)
    draws = y.shape[0]
    s, v = _eigen(x)
    s, v = s[0], v[0]
    lr = 0.5 / s.max()
    steps = np.unique(np.round(np.geomspace(1, 400, 16)).astype(int))
    penalties = np.asarray(matched.jax(lr, steps.astype(float)))
    gd_errors = np.sum((np.asarray(ctx.measure(sim.gd_estimates, x, y, lr, steps)) - beta) ** 2, axis=-1)
    ridge_errors = np.sum((np.asarray(ctx.measure(sim.ridge_estimates, x, y, penalties)) - beta) ** 2, -1)
    signal = v.T @ beta
    predicted_gd = np.asarray(spectral_risk(gd.jax(lr, s[None], steps[:, None].astype(float)), s, signal,
                                            _SIGMA**2, _N))
    predicted_ridge = np.asarray(spectral_risk(ridge.jax(s[None], penalties[:, None]), s, signal, _SIGMA**2, _N))
    for name, errors, predicted in (("GD", gd_errors, predicted_gd), ("ridge at 1/(eta t)", ridge_errors,
                                                                      predicted_ridge)):
        mean, se = errors.mean(0), errors.std(0, ddof=1) / np.sqrt(draws)
        yield compare(f"{name}: risk |beta - beta_0|^2 at t = {steps[0]}..{steps[-1]} ({steps.size} points), "
                      f"{draws} noise draws", predicted, mean, 4 * se, "4 Monte Carlo standard errors", relative=False)
    ctx.figure("early_stopping_risk_path", {
        "steps": steps, "predicted_gd": predicted_gd, "measured_gd": gd_errors.mean(0),
        "predicted_ridge_at_1/(eta_t)": predicted_ridge, "measured_ridge_at_1/(eta_t)": ridge_errors.mean(0)},
        x="steps", ys=("predicted_gd", "predicted_ridge_at_1/(eta_t)", "measured_gd", "measured_ridge_at_1/(eta_t)"),
        logx=True, title=f"early-stopped GD vs ridge at ridge = 1/(eta t) (n = {_N}, p = {_P}, sigma = {_SIGMA})",
        ylabel="estimation risk E|beta - beta_0|^2")
    yield from _sharp_constant(ctx, float(constant.jax()))


def _sharp_constant(ctx: Context, bound: float):
    """Orthogonal design (X^T X / n = I), beta_0 = 0: the GF / ridge risk ratio is (f_gf / f_ridge)^2 on every
    mode and draw, so its maximum over t is the supremum; GD at two step sizes stands in for the flow."""

    *_, x, y = _shared_data(ctx)
    times = np.linspace(1.70, 1.89, 16)  # around the supremum at s t = 1.793 (s = 1)
    sups, rates = [], (2.5e-3, 2e-3)  # both runs fit one 1024-step scan: one compilation
    for lr in rates:
        steps = np.round(times / lr).astype(int)
        gd_run = np.asarray(ctx.measure(sim.gd_estimates, x, y, lr, steps))
        ridge_run = np.asarray(ctx.measure(sim.ridge_estimates, x, y, 1 / (steps * lr)))
        ratio = np.sum(gd_run**2, axis=(0, 2)) / np.sum(ridge_run**2, axis=(0, 2))  # beta_0 = 0: risk = |beta|^2
        top = int(np.clip(np.argmax(ratio), 1, times.size - 2))  # the parabola through the top three points
        a, b, c = np.polyfit(steps[top - 1: top + 2] * lr, ratio[top - 1: top + 2], 2)
        sups.append(float(c - b**2 / (4 * a)))
    # O(eta) error: e(eta) = c eta, so the finer run is off by |difference| rates[1] / (rates[0] - rates[1])
    discretisation = abs(sups[1] - sups[0]) * rates[1] / (rates[0] - rates[1])
    yield compare("sup over t of Risk(gradient flow, t) / Risk(ridge, 1/t) (orthogonal design, beta_0 = 0) vs the "
                  "derived constant 1.68591", bound, sups[1], 2 * discretisation / bound + 1e-6,
                  "O(eta) discretisation of the flow from two step sizes (Richardson, factor 2) plus the grid "
                  "resolution (a parabola through the top three of 16 points: O(dt^3) < 1e-6)")


@check("early_stopping.marchenko_pastur", uses={
    "flow": "early_stopping.gradient_flow_filter", "ridge_mp": "linreg.ridge_risk",
    "constant": "early_stopping.risk_ratio_constant"},
    blind={"constant": "used as a bound only here (a larger constant passes too); its value is compared with a "
           "tight row in early_stopping.risk_path"})
def marchenko_pastur(ctx: Context, flow, ridge_mp, constant):
    """The Marchenko-Pastur limit of gradient flow's risk (quadrature) and ridge's (closed form) vs Gaussian designs."""
    gamma, r2, sigma2 = 0.5, 1.0, 1.0
    dense = np.geomspace(0.25, 16.0, 25)  # every 4th point is 0.25 * 2^k
    times = dense[::4]
    rng = np.random.default_rng(9000 + ctx.seed)
    sizes, designs = (20, 80), (400, 100) if ctx.quick else (4000, 1000)
    means, errors = {}, {}
    for p, count in zip(sizes, designs):
        x = rng.normal(size=(count, int(p / gamma), p))
        risks = ctx.measure(sim.flow_and_ridge_risks, x, times, r2, sigma2)  # (2, designs, times)
        means[p], errors[p] = risks.mean(1), risks.std(1, ddof=1) / np.sqrt(count)
    small, large = sizes
    finite_size = 2 * np.abs(means[large] - means[small]) * small / (large - small)  # c/p from two sizes, x2
    curves = np.stack([np.asarray(gradient_flow_risk_mp(dense, gamma, r2, sigma2, filter=flow)),
                       np.asarray(ridge_mp.jax(gamma, r2, sigma2, 1 / dense))])
    predicted = curves[:, ::4]
    tolerance = 4 * errors[large] + finite_size
    for i, name in enumerate(("gradient flow at t (quadrature)", "ridge at 1/t (closed form)")):
        yield compare(f"gamma = {gamma}: MP limit of {name} vs the mean exact risk of the flow / ridge solution "
                      f"over {designs[1]} Gaussian designs "
                      f"(p = {large}), t = {times.round(3).tolist()}", predicted[i], means[large][i], tolerance[i],
                      "4 standard errors over designs + finite-size O(1/p) from two sizes (p = 20, 80), x2",
                      relative=False)
    ratio = curves[0] / curves[1]
    yield compare(f"asymptotic Risk(gf, t) / Risk(ridge, 1/t) <= {float(constant.jax()):.5f} over t "
                  f"(max {ratio.max():.4f})", 1.0, max(1.0, float(np.max(ratio / constant.jax()))), 1e-12,
                  "float64 round-off (a bound: the measured ratio below)", relative=False)
    measured_ratio = means[large][0] / means[large][1]
    yield compare("measured Risk(gf, t) / Risk(ridge, 1/t) on the designs <= the constant (max "
                  f"{measured_ratio.max():.4f})", 0.0, float(np.max(np.maximum(measured_ratio - constant.jax(), 0))),
                  1e-12, "float64 round-off (a bound that holds for every design)", relative=False)
    measured = np.full((2, dense.size), np.nan)
    measured[:, ::4] = means[large]
    ctx.figure("early_stopping_mp_risk", {
        "t": dense, "predicted_gradient_flow": curves[0], "predicted_ridge_at_1/t": curves[1],
        "measured_gradient_flow": measured[0], "measured_ridge_at_1/t": measured[1]},
        x="t", ys=("predicted_gradient_flow", "predicted_ridge_at_1/t", "measured_gradient_flow",
                   "measured_ridge_at_1/t"), logx=True,
        title=f"Marchenko-Pastur limit (gamma = {gamma}, r2 = {r2}, sigma2 = {sigma2}): early-stopped vs ridge risk",
        ylabel="estimation risk E|beta - beta_0|^2")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("early_stopping.gd_filter", "one step too many (t + 1 for t)", "1 - (1 - eta*lam)**(t + 1)"),
    mistake("early_stopping.matched_ridge", "the calibration without the learning rate (ridge = 1/t)", "1/t"),
    mistake("early_stopping.gradient_flow_filter", "the flow's rate doubled (a factor 2 from the loss's 1/2)",
            "1 - exp(-2*lam*t)"),
)
