"""The interpolation regime (Ma, Bassily & Belkin 2018): mini-batch SGD on interpolating least squares.

Designs (loss (1/n) sum 1/2 (x_i . w - y_i)^2, batches with replacement):
* two-direction: 2 points of squared norm 10 along e_1 (curvature L = 1), 18 of squared norm 0.2
  along e_2 (mu = 0.18); beta = 10, m* = 10;
* isotropic: 4 axes, 5 points of squared norm 4 on each (H = I, beta = 4): the bound is exact;
* Gaussian: 40 points in 8 dimensions (full rank, labels from a planted w*).
"""

from __future__ import annotations

import numpy as np

from numeric import interpolation as sim
from verify.core import Context, check, compare, compare_outcome

_BATCHES = np.array([1, 2, 4, 8, 16, 32, 64])
_TWO = dict(mu=0.18, L=1.0, norm_sq_soft=0.2, norm_sq_stiff=10.0)


def _two_direction() -> np.ndarray:
    x = np.zeros((20, 2))
    x[:2, 0], x[2:, 1] = np.sqrt(10.0), np.sqrt(0.2)
    return x


def _isotropic() -> np.ndarray:
    return np.repeat(2.0 * np.eye(4), 5, axis=0)  # 20 points, |x|^2 = 4, H = I


def _gaussian(ctx: Context) -> np.ndarray:
    return np.random.default_rng(3100 + ctx.seed).normal(size=(40, 8))


def _rates_from_blocks(block_means: np.ndarray, start: int):
    """Per configuration and coordinate: the per-step rate exp(slope of log mean e^2 over t >= start) and
    its jackknife standard error over the blocks of chains."""
    steps = np.arange(block_means.shape[2])[start:]

    def slope(means):  # means (configs, steps, d) -> (configs, d)
        logs = np.log(means[:, start:])
        centred = steps - steps.mean()
        return np.einsum("t,ctd->cd", centred, logs - logs.mean(1, keepdims=True)) / (centred @ centred)

    blocks = block_means.shape[1]
    full = slope(block_means.mean(1))
    leave_one = np.stack([slope(np.delete(block_means, b, axis=1).mean(1)) for b in range(blocks)])
    se = np.sqrt((blocks - 1) / blocks * ((leave_one - leave_one.mean(0)) ** 2).sum(0))
    return np.exp(full), np.exp(full) * se


@check("interpolation.exact_rate", smoke=True, uses={"mode": "interpolation.mode_contraction",
                                                     "exact": "interpolation.exact_optimal_lr"})
def exact_rate(ctx: Context, mode, exact):
    """Exact second-moment rate of mini-batch SGD and its rate-optimal step, vs operator spectra and chains."""
    x = _two_direction()
    exact_lr = np.asarray(exact.jax(*(np.asarray(_TWO[n] if n in _TWO else _BATCHES, float)
                                      for n in exact.param_names)))

    def predicted_rate(lr, m):
        stiff = mode.jax(lr, _TWO["L"], _TWO["norm_sq_stiff"], m)
        soft = mode.jax(lr, _TWO["mu"], _TWO["norm_sq_soft"], m)
        return np.maximum(np.asarray(stiff), np.asarray(soft))

    factors = np.array([0.5, 1.0, 1.5])
    grid_lr = (exact_lr[:, None] * factors).ravel()
    grid_m = np.repeat(_BATCHES, factors.size).astype(float)
    spectral = np.array([ctx.measure(sim.second_moment_rate, x, float(lr), float(m)) for lr, m in zip(grid_lr, grid_m)])
    yield compare(f"rate of E|e|^2: max_k mode_contraction vs the second-moment operator's spectral radius, m in "
                  f"{_BATCHES.tolist()}, eta = (0.5, 1, 1.5) eta_exact", predicted_rate(grid_lr, grid_m), spectral,
                  1e-12, "float64 round-off of a 4 x 4 eigenvalue problem")
    searched = np.array([ctx.measure(sim.rate_optimal_lr, x, float(m))[0] for m in _BATCHES])
    yield compare("rate-optimal step: crossing of the two directions' contractions vs Brent search of the "
                  "spectral radius", exact_lr, searched, 1e-7,
                  "bounded Brent search to 1e-13 at a kink (found to ~1e-9 relative), float64 round-off")
    a = {k: (1 - 1 / _BATCHES) * lam**2 + lam * beta / _BATCHES
         for k, lam, beta in (("L", 1.0, 10.0), ("mu", 0.18, 0.2))}
    valid = np.all((1.0 / a["L"] <= exact_lr) & (exact_lr <= 0.18 / a["mu"]))
    yield compare_outcome("the crossing is the optimum: stiff vertex lam_L/a_L below it, soft vertex above it, "
                          "every m", "yes", "yes" if valid else "no", "exact identity (the conditions of the "
                          "closed form, evaluated in float64)")
    # Monte Carlo: one SGD step from e = (1, 1) at the exact optimum (the factor multiplying E e_k^2)
    chosen = np.array([1, 4, 16, 64])
    lrs = exact_lr[np.searchsorted(_BATCHES, chosen)]
    samples = 4096 if ctx.smoke else 8192 if ctx.quick else 131_072
    # the data padded with two zero coordinates (they never move): the isotropic design's shape, so that both
    # checks' one-step runs share one compiled program
    one = ctx.measure(sim.sgd_errors, ctx.key("interpolation.exact_rate"), np.pad(x, ((0, 0), (0, 2))), lrs, chosen,
                      chains=samples, steps=1, blocks=16)
    factors = np.asarray(one.block_means)[:, :, 1, :2]  # (configs, blocks, d): E e_k'^2 from e_k = 1
    stiff = np.asarray(mode.jax(lrs, 1.0, 10.0, chosen.astype(float)))
    soft = np.asarray(mode.jax(lrs, 0.18, 0.2, chosen.astype(float)))
    yield compare(f"one SGD step at eta_exact, m in {chosen.tolist()}: E e_k'^2 / e_k^2 per direction, "
                  f"mode_contraction vs {samples} batches", np.stack([stiff, soft], 1), factors.mean(1),
                  4 * factors.std(1, ddof=1) / np.sqrt(factors.shape[1]),
                  "4 Monte Carlo standard errors over 16 blocks of batches", relative=False)
    # and over many steps at m = 1, where the per-step factors are bounded by 1 (no heavy tail)
    chains, steps = (256, 30) if ctx.smoke else (512, 40) if ctx.quick else (8192, 100)
    run = ctx.measure(sim.sgd_errors, ctx.key("interpolation.exact_rate/chains"), x, lrs[:1], chosen[:1],
                      chains=chains, steps=steps, blocks=16)
    measured, se = _rates_from_blocks(np.asarray(run.block_means), start=0)
    yield compare(f"m = 1, {chains} SGD chains over {steps} steps: fitted rate of E e_k^2 vs mode_contraction",
                  np.stack([stiff[:1], soft[:1]], 1), measured, 4 * se,
                  "4 jackknife standard errors over 16 blocks of chains (Monte Carlo)", relative=False)


@check("interpolation.bound", smoke=True, uses={
    "bound": "interpolation.bound_contraction", "bound_lr": "interpolation.bound_optimal_lr",
    "best": "interpolation.bound_optimal_contraction", "critical": "interpolation.critical_batch_size",
    "exact": "interpolation.exact_optimal_lr"})
def bound(ctx: Context, bound, bound_lr, best, critical, exact):
    """The paper's bound: exact on an isotropic design (step, rate, m*), loose by ~2x in step elsewhere."""
    iso = _isotropic()
    beta, lam = 4.0, 1.0
    m = _BATCHES.astype(float)
    lr_star = np.asarray(bound_lr.jax(lam, beta, m))
    grid = np.array([0.3, 1.0, 1.7])
    lrs, ms = (lr_star[:, None] * grid).ravel(), np.repeat(m, grid.size)
    spectral = np.array([ctx.measure(sim.second_moment_rate, iso, float(e), float(b)) for e, b in zip(lrs, ms)])
    yield compare("isotropic design (bound exact): bound_contraction vs the operator's spectral radius",
                  np.asarray(bound.jax(lrs, lam, lam, beta, ms)), spectral, 1e-12,
                  "float64 round-off of a 16 x 16 eigenvalue problem")
    searched = [ctx.measure(sim.rate_optimal_lr, iso, float(b)) for b in m]
    yield compare("isotropic design: eta*(m) = m / (beta + (m - 1) L) vs Brent search of the spectral radius",
                  lr_star, [s[0] for s in searched], 1e-7, "bounded Brent search to 1e-13, float64 round-off")
    yield compare("isotropic design: g*(m) vs the minimal spectral radius", np.asarray(best.jax(lam, lam, beta, m)),
                  [s[1] for s in searched], 1e-9, "Brent search: the rate is quadratic at its minimum (1e-9), "
                  "float64 round-off")
    gd = ctx.measure(sim.rate_optimal_lr, iso, np.inf)[1]
    measured_critical = (1 - gd) / (1 - searched[0][1])
    yield compare("critical batch size: beta / L vs (1 - optimal GD rate) / (1 - optimal rate at m = 1)",
                  float(critical(L=lam, max_norm_sq=beta)), measured_critical, 1e-7,
                  "Brent search of two minima (1e-9 each) and float64 round-off")
    samples = 4096 if ctx.smoke else 8192 if ctx.quick else 131_072
    chosen = np.array([1, 4, 16, 64])
    one = ctx.measure(sim.sgd_errors, ctx.key("interpolation.bound"), iso, lr_star[[0, 2, 4, 6]], chosen,
                      chains=samples, steps=1, blocks=16)
    factors = np.asarray(one.block_means)[:, :, 1].mean(-1)  # (configs, blocks): E |e'|^2 / |e|^2, e = 1
    predicted = np.asarray(best.jax(lam, lam, beta, chosen.astype(float)))
    yield compare(f"isotropic design, one SGD step at eta*(m), m in {chosen.tolist()}: g*(m) vs {samples} batches",
                  predicted, factors.mean(1), 4 * factors.std(1, ddof=1) / np.sqrt(factors.shape[1]),
                  "4 Monte Carlo standard errors over 16 blocks of batches", relative=False)
    # the two-direction design: the bound holds but its step is about half the best one
    x = _two_direction()
    two_star = np.asarray(bound_lr.jax(1.0, 10.0, m))
    best_exact = np.array([ctx.measure(sim.rate_optimal_lr, x, float(b))[0] for b in m])
    exact_lr = np.asarray(exact.jax(0.18, 1.0, 0.2, 10.0, m))
    yield compare(f"two-direction design: exact optimal step / bound's eta*(m), m in {_BATCHES.tolist()} "
                  f"(ratio {float((exact_lr / two_star).min()):.3g} to {float((exact_lr / two_star).max()):.3g})",
                  exact_lr / two_star, best_exact / two_star, 1e-7,
                  "Brent search of the spectral radius (1e-9 relative), float64 round-off")
    holds = all(ctx.measure(sim.second_moment_rate, x, float(f * s), float(b)) <=
                float(bound.jax(f * s, 0.18, 1.0, 10.0, b)) + 1e-12
                for s, b in zip(two_star, m) for f in (0.5, 1.0))
    yield compare_outcome("two-direction design: exact rate <= the bound at eta = eta*(m)/2 and eta*(m), every m",
                          "bound holds", "bound holds" if holds else "bound violated",
                          "float64 round-off (1e-12)")
    g = _gaussian(ctx)
    h = g.T @ g / g.shape[0]
    eig = np.linalg.eigvalsh(h)
    g_beta = float((g**2).sum(1).max())
    g_star = np.asarray(bound_lr.jax(eig[-1], g_beta, m))
    ratio = np.array([ctx.measure(sim.rate_optimal_lr, g, float(b))[0] for b in m]) / g_star
    g_holds = all(ctx.measure(sim.second_moment_rate, g, float(s), float(b)) <=
                  float(bound.jax(s, eig[0], eig[-1], g_beta, b)) + 1e-12 for s, b in zip(g_star, m))
    yield compare_outcome(f"Gaussian design (40 x 8): exact rate <= bound at eta*(m), and the exact optimal step "
                          f"is larger ({ratio.min():.3g} to {ratio.max():.3g} x eta*(m))", "both",
                          "both" if g_holds and np.all(ratio > 1) else f"holds={g_holds}, ratios={ratio.round(3)}",
                          "float64 round-off (1e-12) and the Brent search (1e-9)")
    ctx.figure("interpolation_optimal_steps", {
        "batch_size": m, "predicted_exact": exact_lr, "measured_exact": best_exact, "predicted_bound": two_star},
        x="batch_size", ys=("predicted_exact", "measured_exact", "predicted_bound"), logx=True, logy=True,
        title="two-direction design (beta = 10, L = 1, mu = 0.18): optimal SGD step vs batch size",
        ylabel="learning rate", reference={"vline": float(critical(L=1.0, max_norm_sq=10.0))})


from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("interpolation.mode_contraction", "the (m-1)/m lam^2 term taken as lam^2",
            "1 - 2*eta*lam + eta**2*lam*(lam + norm_sq/batch_size)"),
    mistake("interpolation.bound_contraction", "the batch-size average dropped (beta + (m-1) L)",
            "1 - eta*mu*(2 - eta*(max_norm_sq + (batch_size - 1)*L))"),
    mistake("interpolation.bound_optimal_lr", "the step that zeroes the bracket (twice the optimum)",
            "2*batch_size/(max_norm_sq + (batch_size - 1)*L)"),
    mistake("interpolation.bound_optimal_contraction", "the factor m lost", "1 - mu/(max_norm_sq + (batch_size - 1)*L)"),
    mistake("interpolation.critical_batch_size", "beta / L + 1", "max_norm_sq/L + 1"),
    mistake("interpolation.exact_optimal_lr", "the bound's step instead of the crossing",
            "batch_size/(norm_sq_stiff + (batch_size - 1)*L) + 0*mu*norm_sq_soft"),
)
