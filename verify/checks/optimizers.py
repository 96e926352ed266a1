"""Adaptive and second-order optimisers: ``analytic.optimizers`` against direct runs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from analytic.references import cite
from numeric import eos as mlp
from numeric import linreg as ls
from numeric import optimizers as sim
from numeric.sharpness import sharpness
from verify.core import Context, check, compare, compare_outcome


def _quadratic_loss(x, H):
    return 0.5 * x @ H @ x


def _rng(ctx: Context, salt: str) -> np.random.Generator:
    """A numpy generator seeded from the check's key (problem set-up needs no compiled ops)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(ctx.key(salt))).tolist())


def _random_quadratic(ctx: Context, salt: str, d: int):
    """A dense SPD Hessian (Haar-rotated log-uniform spectrum) and a positive diagonal P."""
    rng = _rng(ctx, salt)
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q = q * np.sign(np.diag(r))
    H = (q * np.geomspace(0.1, 10.0, d)) @ q.T
    return H, np.exp(rng.uniform(-1.5, 1.5, d)), rng.normal(size=d)


def _critical_eta(H, P, x0, beta1: float, steps: int, rounds: int = 4, points: int = 33) -> float:
    """The learning rate where frozen-preconditioner Adam starts to diverge: a geometric grid of
    direct runs (vmap), refined ``rounds`` times around the first diverging point."""
    lo, hi = 1e-4, 1e4
    for _ in range(rounds):
        etas = np.geomspace(lo, hi, points)
        diverged = np.asarray(sim.frozen_adam_diverges(H, P, x0, etas, beta1, steps))
        first = int(np.argmax(diverged))
        if not diverged[first] or first == 0:
            raise RuntimeError(f"no convergence-to-divergence transition in [{lo:g}, {hi:g}]")
        lo, hi = etas[first - 1], etas[first]
    return float(np.sqrt(lo * hi))


@check("optimizers.adam_sharpness_threshold", uses={"threshold": "optimizers.adam_sharpness_threshold"},
       smoke=True)
def adam_sharpness_threshold(ctx: Context, threshold):
    """Frozen-preconditioner Adam on a quadratic: the divergence point, bracketed by bisection on
    direct runs, sits where lam_max(P^-1 H) (Lanczos, numeric.sharpness) equals the threshold."""
    d, steps = (8, 3000) if ctx.quick else (64, 20000)
    H, P, x0 = _random_quadratic(ctx, "adam_sharpness_threshold", d)
    precond_sharpness = float(sharpness(_quadratic_loss, x0, (H,), iterations=d, preconditioner=P).eigenvalue)
    betas = (0.0, 0.9) if ctx.smoke else (0.0, 0.5, 0.9, 0.99)
    measured = []
    for beta1 in betas:
        eta_c = _critical_eta(H, P, x0, beta1, steps)
        measured.append(eta_c * precond_sharpness)
        yield compare(f"beta1={beta1}: threshold at the measured critical eta={eta_c:.4g}",
                      float(threshold(eta=eta_c, beta1=beta1)), precond_sharpness, 2e-3,
                      f"grid refined to a factor 1.00002 in eta; a mode 1e-3 past the threshold grows by >= e^1 over "
                      f"{steps // 2} steps, so divergence is seen within 2e-3; Lanczos exact at d={d}")
    grid = np.linspace(0.0, 0.99, 100)
    line = np.asarray(threshold.jax(1.0, grid))  # eta * threshold: dimensionless
    ctx.figure("optimizers_adam_threshold", {
        "beta1": np.concatenate([grid, betas]),
        "predicted": np.concatenate([line, np.full(len(betas), np.nan)]),
        "measured": np.concatenate([np.full(grid.size, np.nan), measured]),
    }, x="beta1", ys=("predicted", "measured"), logy=True,
        title="frozen Adam: eta * lam_max(P^-1 H) at divergence vs (2+2b1)/(1-b1)")


def _tanh_mse(params, x, y):
    """Module-level loss (a static jit argument: one compilation per run)."""
    return mlp.mse_loss(params, x, y, "tanh")


def _fall_threshold(series: np.ndarray) -> float:
    """The ratio below which one record counts as falling: 3 robust standard deviations of the
    series' record-to-record jitter below 1.

    Between falls the sharpness ramps smoothly (v decays, so lam_max(P^-1 H) can only rise while the
    iteration is stable), so log records are locally linear plus the jitter of the measurement
    (Lanczos, round-off). Second differences of log records remove the ramp; for independent jitter
    of standard deviation sigma they have standard deviation sqrt(6) sigma. Their median absolute
    deviation (x 1.4826) is robust to the few records inside falls.
    """
    second = np.diff(np.log(np.asarray(series, dtype=float)), 2)
    sigma = 1.4826 * float(np.median(np.abs(second - np.median(second)))) / np.sqrt(6)
    return float(np.exp(-3 * sigma))


def _sawtooth(series: np.ndarray, drop: float | None = None) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Peaks of a sawtooth, where each fall ends, and the rise into each peak.

    A fall is a run of consecutive records each below ``drop`` times the one before (default
    :func:`_fall_threshold`: more than 3 robust standard deviations of the series' own jitter); a
    peak is the largest record between the end of the previous fall and the start of this one. The
    rise into a peak is its ratio to the record before it: the growth over one record interval at
    the top of the cycle, by which the cycle's true top can exceed the peak record.
    """
    drop = _fall_threshold(series) if drop is None else drop
    falls = [i for i in range(len(series) - 1) if series[i + 1] < drop * series[i]]
    starts = [i for i in falls if i - 1 not in falls]
    ends = [i + 1 for i in falls if i + 1 not in falls]
    where = [(ends[k - 1] if k else 0) + int(np.argmax(series[(ends[k - 1] if k else 0): start + 1]))
             for k, start in enumerate(starts)]
    rises = [series[i] / series[i - 1] if i > 0 else 1.0 for i in where]
    return np.array([series[i] for i in where]), ends, np.maximum(np.array(rises), 1.0)


def _edge_growth_rate(beta1: float, h: float = 1e-6) -> float:
    """kappa: per step, the unstable mode of the EMA-momentum iteration on a quadratic grows by
    1 + kappa delta when eta a is delta (relative) past its stability edge.

    The linear iteration m' = beta1 m + (1 - beta1) a theta, theta' = theta - eta m' (P frozen, bias
    corrections ~ 1), in x = eta a: its edge found by bisection on the spectral radius, kappa by a
    one-sided difference there (numerically, not from the threshold Formula under test).
    """
    def radius(x):
        t = np.array([[1 - x * (1 - beta1), -beta1], [(1 - beta1) * x, beta1]])
        return float(np.max(np.abs(np.linalg.eigvals(t))))

    lo, hi = 1e-3, 1e4  # stable, unstable
    for _ in range(100):
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if radius(mid) < 1 else (lo, mid)
    return (radius(hi * (1 + h)) - 1) / h


def _overshoot_bound(rise: float, record_every: int, beta1: float, eps: float) -> float:
    """Largest relative overshoot of a peak over the edge.

    Past the edge the sharpness keeps ramping at rate rho per step (rho = log(rise) / record_every,
    the rise measured into the peak), so the overshoot is delta_t = rho t and the unstable mode grows
    by exp(kappa rho t^2 / 2) (kappa: _edge_growth_rate). It cannot start below float64 round-off
    (eps relative) nor need more than growth to O(1) before it kicks v up: log(1/eps) >= kappa rho
    t^2 / 2, so delta <= sqrt(2 log(1/eps) rho / kappa).
    """
    rho = np.log(rise) / record_every
    return float(np.sqrt(2 * np.log(1 / eps) * rho / _edge_growth_rate(beta1)))


@check("optimizers.adam_edge_of_stability", uses={"threshold": "optimizers.adam_sharpness_threshold"},
       smoke=True, cites=cite("cohen2022", "sec. 3 (adaptive edge of stability)"))
def adam_edge_of_stability(ctx: Context, threshold):
    """Full-batch Adam (beta1 = 0.9, beta2 = 0.999) on a tanh MLP: the preconditioned sharpness
    lam_max(P^-1 H), P = sqrt(v_hat) + eps (Lanczos, numeric.sharpness), rises to 38/eta and then
    saws around it: every peak of the second half just above the threshold, every trough within 20%."""
    n, width, steps = (64, 16, 1600) if ctx.quick else (512, 64, 8000)
    etas = (0.02, 0.08) if ctx.smoke else ((0.02, 0.04, 0.08) if ctx.quick else (0.005, 0.01, 0.02, 0.04, 0.08))
    x = jax.random.normal(ctx.key("adam_edge/x"), (n, 8))
    y = jnp.sign(jax.random.normal(ctx.key("adam_edge/y"), (n,)))
    params = mlp.init_mlp(ctx.key("adam_edge/init"), 8, width, 2)
    run = sim.adam_preconditioned_sharpness(_tanh_mse, params, (x, y), etas, 0.9, 0.999, 1e-8, steps,
                                            record_every=10, lanczos=12 if ctx.quick else 20,
                                            key=ctx.key("adam_edge/lanczos"))
    sharp = np.asarray(run.preconditioned_sharpness)
    figure, measured_columns = {"step": run.sharpness_steps}, {}
    for i, eta in enumerate(etas):
        edge = float(threshold(eta=eta, beta1=0.9))
        figure[f"predicted_eta={eta}"] = np.full(run.sharpness_steps.shape, edge)
        measured_columns[f"measured_eta={eta}"] = sharp[i]
        drop = _fall_threshold(sharp[i])
        peaks, ends, rises = _sawtooth(sharp[i], drop)
        if bool(run.diverged[i]) or len(ends) < 2:
            yield compare_outcome(f"eta={eta}: preconditioned sharpness", "saws at the edge (>= 2 cycles)",
                                  "diverged" if bool(run.diverged[i]) else f"{len(ends)} cycles",
                                  f"categorical: a fall (records each below {drop:.5f} x the one before: 3 "
                                  "robust standard deviations of the series' jitter) ends each cycle")
            continue
        record_every = int(run.sharpness_steps[1] - run.sharpness_steps[0])
        eps = float(np.finfo(sharp.dtype).eps)
        bound = _overshoot_bound(float(np.max(rises[1:])), record_every, 0.9, eps)
        yield compare(f"eta={eta}: median of the {peaks.size - 1} peaks after the first vs 38/eta", edge,
                      float(np.median(peaks[1:])), bound,
                      f"overshoot bound sqrt(2 log(1/eps) rho / kappa) = {bound:.4f}: adaptive EoS (Cohen et al. "
                      "2022, sec. 3), the sharpness ramps on past the threshold at rho = log(rise)/"
                      f"{record_every} per step (largest rise into these peaks, {np.max(rises[1:]):.4f} per "
                      f"record: records every {record_every} steps) while the unstable mode grows from at "
                      f"least float64 round-off (eps = {eps:.2g}) to O(1) at kappa delta per step "
                      f"(kappa = {_edge_growth_rate(0.9):.2f}, the linear iteration's growth past its edge)",
                      category="round-off+discretisation")
        # A record can lie below its cycle's top by at most one interval's growth at the rate into it.
        below = int(np.sum(peaks * rises < edge))
        yield compare_outcome(f"eta={eta}: {peaks.size} peaks x their rise from the record before vs 38/eta",
                              "every peak above",
                              "every peak above" if below == 0 else f"{below} of {peaks.size} below",
                              "categorical: the sharpness only falls back once the iteration is unstable, "
                              "i.e. once lam_max(P^-1 H) is past the threshold; a peak record (every 10 "
                              "steps) can lie below its cycle's top by at most the growth over one record "
                              f"interval, measured as its ratio to the record before it ({np.min(rises):.4f}-"
                              f"{np.max(rises):.4f} here)")
        yield compare(f"eta={eta}: lowest record after the second cycle vs 38/eta", edge,
                      float(np.min(sharp[i, ends[1]:])), 0.2,
                      "after each spike v jumps and the sharpness falls back by 5-15% (tuning runs; the "
                      "first fall, from the largest overshoot, goes deeper) before ramping up again",
                      category="finite-size")
    figure.update(measured_columns)  # predictions first
    ctx.figure("optimizers_adam_edge", figure, x="step", ys=[k for k in figure if k != "step"], logy=True,
               ylabel="lam_max(P^-1 H)",
               title="full-batch Adam on a tanh MLP: lam_max(P^-1 H) (markers) vs the threshold 38/eta (lines)")


@check("optimizers.adam_noise_rms_update", uses={"rms": "optimizers.adam_noise_rms_update",
                                                 "rms_finite": "optimizers.adam_noise_rms_update_finite_beta2"},
       smoke=True)
def adam_noise_rms_update(ctx: Context, rms, rms_finite):
    """Adam fed white N(0, sigma^2) gradients: measured RMS update vs eta sqrt((1-b1)/(1+b1)) at
    beta2 -> 1, and vs eta sqrt(beta2 (1-b1)/(1+b1)) (first order in 1 - beta2) at beta2 = 0.99, 0.95."""
    coords, steps = (512, 2000) if ctx.smoke else ((1024, 3000) if ctx.quick else (65536, 20000))
    eta, beta2, sigma = 0.01, 0.9999, 3.0
    for beta1 in (0.0, 0.5, 0.9):
        run = ctx.measure(sim.adam_noise_updates, ctx.key(f"adam_noise/{beta1}"), eta, beta1, beta2, sigma,
                          coordinates=coords, steps=steps, window=steps // 2)
        predicted = float(rms(eta=eta, beta1=beta1))
        yield compare(f"beta1={beta1}, beta2={beta2}, {coords} coordinates", predicted, run.rms,
                      4 * run.standard_error / predicted + 2e-3,
                      "4 Monte Carlo standard errors (32 blocks of coordinates) + 2e-3 for v_hat's "
                      "finite averaging window (relative variance ~2/t, t >= 1500 steps)")
    for beta1, beta2 in ((0.0, 0.99), (0.9, 0.99), (0.0, 0.95), (0.5, 0.95)):
        run = ctx.measure(sim.adam_noise_updates, ctx.key(f"adam_noise/{beta1}/{beta2}"), eta, beta1, beta2, sigma,
                          coordinates=coords, steps=steps, window=steps // 2)
        predicted = float(rms_finite(eta=eta, beta1=beta1, beta2=beta2))
        limit = float(rms(eta=eta, beta1=beta1))
        second_order = 2 * (1 - beta2) ** 2
        yield compare(f"finite beta2: beta1={beta1}, beta2={beta2} (beta2 -> 1 form {limit / predicted - 1:+.2%} "
                      f"off)", predicted, run.rms, 4 * run.standard_error / predicted + second_order,
                      "4 Monte Carlo standard errors + 2 (1 - beta2)^2 for the neglected second order "
                      "(measured ~1.1 (1 - beta2)^2 at beta2 = 0.9, 0.95)")


def _least_squares(ctx: Context, salt: str, spectrum, n: int):
    """A realisable least-squares problem whose Hessian X^T X / n has exactly ``spectrum``."""
    rng = _rng(ctx, salt)
    spectrum = np.asarray(spectrum, dtype=float)
    d = spectrum.size
    u, _ = np.linalg.qr(rng.normal(size=(n, d)))
    v, _ = np.linalg.qr(rng.normal(size=(d, d)))
    X = np.sqrt(n) * (u * np.sqrt(spectrum)) @ v.T
    w_star = rng.normal(size=d)
    ev, vec = np.linalg.eigh(X.T @ X / n)
    return X, X @ w_star, w_star, ev, vec


def _steps_to(weights, w_star, eps: float) -> int:
    err = np.linalg.norm(np.asarray(weights) - w_star, axis=-1)
    hit = err / err[0] <= eps
    return int(np.argmax(hit)) if hit.any() else -1


@check("optimizers.natural_gradient_rate", uses={"rate": "optimizers.natural_gradient_rate",
                                                 "gd_rate": "linreg.optimal_rate",
                                                 "gd_lr": "linreg.optimal_lr"})
def natural_gradient_rate(ctx: Context, rate, gd_rate, gd_lr):
    """Damped natural gradient on least squares: per-mode contraction, and its kappa-free speed-up
    over GD at GD's optimal learning rate on the same spectrum."""
    d = 10 if ctx.quick else 100
    X, y, w_star, ev, vec = _least_squares(ctx, "natural_gradient", np.geomspace(0.01, 1.0, d), 4 * d)
    k = 5
    for eta, damping in ((0.5, 0.0), (0.7, 0.05), (1.2, 2.0)):
        run = ctx.measure(sim.natural_gradient_least_squares, X, y, np.zeros(d), eta, damping, k)
        modes = (np.asarray(run.weights) - w_star) @ vec  # e_i(t) on the eigenvectors of H
        measured = np.abs(modes[k] / modes[0]) ** (1.0 / k)
        yield compare(f"per-mode contraction, eta={eta}, damping={damping}, {d} modes",
                      np.asarray(rate(eta=eta, lam=ev, damping=damping)), measured, 1e-8,
                      "linear recursion, float64: Cholesky solve with cond(H + damping) <= 100 loses "
                      "<= 1e-13 per step")
    eps, eta = 1e-6, 0.5
    for kappa in (10.0, 1000.0) if ctx.quick else (10.0, 1000.0, 1e5):
        X, y, w_star, ev, _ = _least_squares(ctx, f"ng_vs_gd/{kappa}", [1.0, kappa], 4)
        ng = ctx.measure(sim.natural_gradient_least_squares, X, y, np.zeros(2), eta, 0.0, 64)
        ng_rate = float(np.max(rate(eta=eta, lam=ev, damping=0.0)))
        gd_eta = float(gd_lr(lam_min=float(ev[0]), lam_max=float(ev[-1])))
        budget = int(np.log(1 / eps) * kappa) + 10  # GD needs ~ kappa/2 log(1/eps)
        gd = ctx.measure(ls.gd_least_squares, X, y, np.zeros(2), gd_eta, budget)
        g_rate = float(gd_rate(kappa=float(ev[-1] / ev[0])))
        predicted_ng = int(np.ceil(np.log(eps) / np.log(ng_rate)))
        predicted_gd = int(np.ceil(np.log(eps) / np.log(g_rate)))
        yield compare(f"natural gradient steps to 1e-6, kappa={kappa:g} (eta={eta}, damping=0)",
                      predicted_ng, _steps_to(ng.weights, w_star, eps), 1.0,
                      "integer step count; both modes contract exactly by the rate: round-off moves "
                      "it by <= 1 step", relative=False)
        yield compare(f"GD at optimal lr, steps to 1e-6, kappa={kappa:g}",
                      predicted_gd, _steps_to(gd.weights, w_star, eps), 1.0,
                      "integer step count; at optimal lr both modes contract exactly by the rate",
                      relative=False)


def _power_law(dim: int):
    h = 1.0 / np.arange(1, dim + 1)
    return h, h.copy()  # c_i = h_i, as in Zhang et al. 2019


@check("optimizers.nqm_schedules",
       uses={"moment_step": "nqm.second_moment_step", "decay_time": "optimizers.nqm_step_decay_time"},
       smoke=True)
def nqm_schedules(ctx: Context, moment_step, decay_time):
    """Learning-rate schedules on the noisy quadratic model: the exact E[L_t] (the NQM moment map
    composed with the schedule, analytic.optimizers.scheduled_expected_loss) vs Monte Carlo SGD for
    constant, step decay, linear warm-up and cosine; the best step-decay point for the budget
    (exact scan) and, in one dimension, the closed-form decay step k*, both checked by Monte Carlo
    with common random numbers."""
    from analytic.optimizers import best_step_decay, scheduled_expected_loss

    dim, steps, chains = (32, 200, 1024) if ctx.quick else (1000, 2000, 8192)
    h, c = _power_law(dim)
    base, factor, batch = 1.0, 0.1, 16.0
    best = best_step_decay(base, factor, steps, h, c, batch, 1.0, moment_step=moment_step)
    schedules = {
        "constant": sim.learning_rate_schedule("constant", base, steps),
        f"step decay at k={best.decay_step} (best)": sim.learning_rate_schedule(
            "step", base, steps, decay_step=best.decay_step, factor=factor),
        f"step decay at k={steps // 4}": sim.learning_rate_schedule(
            "step", base, steps, decay_step=steps // 4, factor=factor),
        "linear warm-up (10%)": sim.learning_rate_schedule("warmup", base, steps, warmup=steps // 10),
        "cosine": sim.learning_rate_schedule("cosine", base, steps),
    }
    lrs = np.stack(list(schedules.values()))
    predicted = np.asarray(scheduled_expected_loss(lrs, h, c, batch, 1.0, moment_step=moment_step))
    run = ctx.measure(sim.nqm_scheduled_sgd, ctx.key("nqm_schedules"), h, c, 1.0, batch, lrs, chains=chains)
    mean, sem = np.asarray(run.loss_mean), np.asarray(run.loss_sem)
    times = np.unique(np.geomspace(1, steps, 7).astype(int))
    for i, name in enumerate(schedules):
        yield compare(f"{name}: E[L_t] at t={times.tolist()} ({dim} dims)", predicted[i, times], mean[i, times],
                      5 * sem[i, times] / predicted[i, times],
                      f"5 Monte Carlo standard errors ({chains} chains), per time")
    figure = {"step": np.arange(steps + 1)}
    for i, name in enumerate(schedules):
        figure[f"predicted_{name}"] = predicted[i]
    for i, name in enumerate(schedules):
        figure[f"measured_{name}"] = mean[i]
    ctx.figure("optimizers_nqm_schedules", figure, x="step", ys=[k for k in figure if k != "step"], logy=True,
               ylabel="E[L_t]", title=f"NQM ({dim} dims, h_i = c_i = 1/i): exact E[L_t] (lines) vs Monte Carlo")
    final = {name: float(predicted[i, -1]) for i, name in enumerate(schedules)}
    measured_best = min(range(len(schedules)), key=lambda i: mean[i, -1])
    yield compare_outcome(f"schedule with the lowest E[L_T] at T={steps}", min(final, key=final.get),
                          list(schedules)[measured_best],
                          "categorical: Monte Carlo means with common random numbers; the exact gaps are "
                          f"{sorted(final.values())[1] / min(final.values()) - 1:.0%} or more")
    # One dimension: the closed-form decay step k*, probed at 0.8 .. 1.2 k* by Monte Carlo. The
    # dimension is copied `dim` times (independent chains): at quick size the compiled runs above
    # are reused (same shapes).
    alpha, gamma, e0 = 0.05, 0.1, 10.0
    k_star = float(decay_time(alpha=alpha, gamma=gamma, h=1.0, c=1.0, B=1.0, e0=e0))
    factors = (0.8, 0.9, 1.0, 1.1, 1.2)
    budget = 200  # ~2 k*: later, the post-decay contraction hides the differences (= steps at quick size)
    probes = [min(max(int(round(f * k_star)), 0), budget) for f in factors]
    lrs = np.stack([sim.learning_rate_schedule("step", alpha, budget, decay_step=k, factor=gamma) for k in probes])
    ones = np.ones(dim)
    one = ctx.measure(sim.nqm_scheduled_sgd, ctx.key("nqm_schedules/1d"), ones, ones, e0, 1.0, lrs, chains=chains)
    finals = np.asarray(one.loss_mean)[:, -1] / dim
    outcome = f"lowest at k={probes[int(np.argmin(finals))]}"
    yield compare_outcome(f"1 dim (alpha={alpha}, gamma={gamma}, e0={e0}, T={budget}): Monte Carlo E[L_T] at decay "
                          f"steps {probes}, k*={k_star:.2f}", f"lowest at k={probes[2]}", outcome,
                          "categorical: the exact loss is 3-5% higher at 0.9 k* and 1.1 k*; Monte Carlo "
                          f"({chains} x {dim} chains, common random numbers) resolves ~0.8% (5 standard errors)")
    exact = np.asarray(scheduled_expected_loss(lrs, ones, ones, 1.0, e0, moment_step=moment_step))[:, -1] / dim
    yield compare(f"1 dim: E[L_T] at decay steps {probes} vs Monte Carlo", exact, finals,
                  5 * np.asarray(one.loss_sem)[:, -1] / dim / exact, "5 Monte Carlo standard errors")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate optimizers --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("optimizers.adam_sharpness_threshold", "dropped (1 + beta1): 2/(eta (1 - beta1))", "2/(eta*(1 - beta1))"),
    mistake("optimizers.adam_noise_rms_update", "dropped 1/(1 + beta1): eta sqrt(1 - beta1)", "eta*sqrt(1 - beta1)"),
    mistake("optimizers.natural_gradient_rate", "damping dropped from the denominator",
            "Abs(damping - eta*lam + lam)/lam"),
)
