"""Normalisation, weight decay and dropout: ``analytic.normalization`` against direct training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from analytic.normalization import dropout_fixed_point
from numeric import linreg as ls
from numeric import normalization as sim
from verify.core import Context, check, compare, not_reproduced


def _rng(ctx: Context, salt: str) -> np.random.Generator:
    return np.random.default_rng(np.asarray(jax.random.key_data(ctx.key(salt))).tolist())


def _synthetic_task(ctx: Context):
    """Inputs, noisy teacher labels, initial hidden weights and the fixed readout (shared)."""
    def build():
        n, d_in, width = (1024, 8, 32) if ctx.quick else (16384, 32, 256)
        rng = _rng(ctx, "normalization/task")
        x = rng.normal(size=(n, d_in))
        y = rng.normal(size=n)  # pure label noise: the gradient noise is stationary
        params, readout = sim.init_normalized_mlp(ctx.key("normalization/init"), d_in, width)
        return jnp.asarray(x), jnp.asarray(y), params, readout
    return ctx.memoise("normalization/task", build)


@check("normalization.norm_growth", uses={"growth": "normalization.norm_growth"}, smoke=True)
def norm_growth(ctx: Context, growth):
    """SGD without weight decay on a layer-normalised network: |w_{t+1}|^2 = |w_t|^2 + eta^2 |g_t|^2
    at every step (Pythagoras), and the gradient is orthogonal to w."""
    x, y, params, readout = _synthetic_task(ctx)
    eta, steps = 0.5, (100 if ctx.smoke else 400)
    trace = sim.NormTrace(*map(np.asarray, ctx.measure(
        sim.train_normalized_mlp, ctx.key("norm_growth"), x, y, readout, params, "sgd", eta, 0.0, steps=steps)))
    predicted = growth(w_sq=trace.norm_sq, eta=eta, g_sq=trace.grad_sq)
    yield compare(f"|w_(t+1)|^2, hidden layers W1 and W2, {steps} steps", predicted,
                  trace.next_norm_sq, 1e-12,
                  "exact identity; float64 round-off in the sums of squares (~1e-15 relative)")
    cosine = np.abs(trace.grad_dot_weight) / np.sqrt(trace.grad_sq * trace.norm_sq)
    yield compare("max |cos(w_t, g_t)| (scale invariance: g _|_ w)", 0.0, float(np.max(cosine)), 1e-12,
                  "layer norm without epsilon is exactly scale invariant; float64 round-off",
                  relative=False)
    # The whole run: the product of the per-step predicted factors against the measured growth
    # |w_T|^2 / |w_0|^2 (the effective learning rate eta/|w|^2 falls by it).
    measured_total = trace.next_norm_sq[-1] / trace.norm_sq[0]
    predicted_total = np.prod(np.asarray(predicted) / trace.norm_sq, axis=0)
    yield compare(f"|w_T|^2 / |w_0|^2 over {steps} steps (W1, W2): product of the predicted factors",
                  predicted_total, measured_total, 8 * steps * np.finfo(float).eps,
                  f"float64 round-off: <= 8 eps per step (the identity, the ratio and the product) over "
                  f"{steps} steps", category="round-off")


def _equilibrium(ctx: Context, optimizer: str, eta: float, wd: float, beta: float):
    x, y, params, readout = _synthetic_task(ctx)
    steps = 3000 if ctx.quick else 20000
    trace = sim.NormTrace(*map(np.asarray, ctx.measure(
        sim.train_normalized_mlp, ctx.key(f"equilibrium/{optimizer}"), x, y, readout, params, optimizer, eta, wd,
        beta, steps=steps)))
    window = slice(steps // 2, None)
    blocks = 10  # the window in consecutive blocks: their spread measures noise and drift
    step_sq = trace.step_sq[window].reshape(blocks, -1, 2).mean(1)
    norm_sq = trace.norm_sq[window].reshape(blocks, -1, 2).mean(1)
    ratio = np.sqrt(step_sq.mean(0) / norm_sq.mean(0))
    standard_error = np.sqrt(step_sq / norm_sq).std(0, ddof=1) / np.sqrt(blocks)
    return trace, window, ratio, standard_error


_SETTINGS = (("sgd", 0.5, 4e-3, 0.0), ("pytorch", 0.05, 4e-3, 0.9), ("ema", 0.5, 1e-2, 0.8))


@check("normalization.equilibrium_angular_update",
       uses={"pytorch": "normalization.equilibrium_angular_update",
             "ema": "normalization.ema_equilibrium_angular_update",
             "adamw": "normalization.adamw_equilibrium_angular_update",
             "norm": "normalization.sgd_equilibrium_norm",
             "adamw_norm": "normalization.adamw_equilibrium_norm"})
def equilibrium_angular_update(ctx: Context, pytorch, ema, adamw, norm, adamw_norm):
    """Layer-normalised network with weight decay: the measured angular update per step
    sqrt(mean |w_{t+1} - w_t|^2 / mean |w_t|^2) over the second half of training vs the
    equilibrium value; SGD's equilibrium norm from the measured scale-free gradient norm; AdamW's
    equilibrium norm from the exact balance on the measured statistics of its update direction."""
    figure = {}
    for optimizer, eta, wd, beta in _SETTINGS:
        formula = ema if optimizer == "ema" else pytorch
        trace, window, ratio, standard_error = _equilibrium(ctx, optimizer, eta, wd, beta)
        predicted = float(formula(eta=eta, wd=wd, beta=beta))
        yield compare(f"{optimizer}: eta={eta}, wd={wd}, beta={beta} (W1, W2)", predicted, ratio,
                      4 * standard_error / predicted + 2e-3,
                      "4 standard errors over 10 blocks of the second half (noise and residual "
                      "drift of the equilibrium) + 2e-3 for the window's boundary terms")
        steps = np.arange(trace.norm_sq.shape[0])
        update = np.sqrt(trace.step_sq[:, 0] / trace.norm_sq[:, 0])
        smooth = np.convolve(update, np.ones(50) / 50, mode="same")
        figure[optimizer] = (steps, smooth, predicted, np.sqrt(trace.norm_sq[:, 0]))
        if optimizer == "sgd":
            gw_sq = (trace.grad_sq * trace.norm_sq)[window].mean(0)
            measured = np.sqrt(trace.norm_sq[window]).mean(0)
            norm_predicted = np.asarray(norm(eta=eta, wd=wd, gw_sq=gw_sq))
            yield compare("sgd: equilibrium |w| from the measured |g|^2 |w|^2 (W1, W2)",
                          norm_predicted, measured, 2e-2,
                          "|g|^2|w|^2 fluctuates and drifts as the loss falls: Jensen and "
                          "non-stationarity, ~1% at this window")
    eta, wd, beta1 = 0.01, 0.2, 0.9
    trace, window, ratio, standard_error = _equilibrium(ctx, "adamw", eta, wd, beta1)
    kosson = float(adamw(eta=eta, wd=wd, beta1=beta1))
    # Both hidden layers: the approximation holds for W1 (within 1.6 standard errors) and not for W2
    # (5.3 standard errors away), a fixed split of this setting.
    yield compare(f"adamw: eta={eta}, wd={wd}, beta1={beta1}, W1", kosson, float(ratio[0]),
                  4 * float(standard_error[0]) / kosson + 2 * eta * wd,
                  "4 standard errors over 10 blocks of the second half + the O(eta wd) = 2e-3 (x2) terms the "
                  "leading-order form drops (finite-size in eta wd)", category="statistical+finite-size")
    yield not_reproduced(f"adamw: eta={eta}, wd={wd}, beta1={beta1}, W2", kosson,
                         float(ratio[1]), float(standard_error[1]),
                         "Kosson et al.'s form is leading order in eta wd with Adam's normaliser taken as "
                         "a scalar; Adam's per-coordinate normaliser is not orthogonal to w, which moves "
                         "the equilibrium of W2 (standard error over 10 blocks of the second half)",
                         what="standard errors")
    yield from _adamw_balance(trace, window, eta, wd, kosson, ratio, adamw_norm)
    steps = figure["sgd"][0]
    ctx.figure("normalization_angular_update", {
        "step": steps,
        **{f"measured_{k}": v[1] for k, v in figure.items()},
        **{f"predicted_{k}": np.full(steps.shape, v[2]) for k, v in figure.items()},
    }, x="step", ys=tuple(f"{kind}_{k}" for k in figure for kind in ("predicted", "measured")),
        logy=True, title="angular update per step of W1 (50-step mean) vs equilibrium")
    ctx.figure("normalization_weight_norm", {
        "step": steps, "predicted_sgd": np.full(steps.shape, float(norm_predicted[0])),
        **{f"measured_{k}": v[3] for k, v in figure.items()}},
        x="step", ys=("predicted_sgd", *(f"measured_{k}" for k in figure)), logy=True,
        title="|W1| converging to equilibrium (line: SGD equilibrium norm)")


def _adamw_direction(trace: sim.NormTrace, eta: float, wd: float):
    """Per step and layer: |u|^2 and <w, u> of AdamW's direction u, from w' = w - eta (u + wd w):
    <w, w' - w> = (|w'|^2 - |w|^2 - |w' - w|^2) / 2, u = -(w' - w)/eta - wd w."""
    w_dot_step = (trace.next_norm_sq - trace.norm_sq - trace.step_sq) / 2
    u_sq = (trace.step_sq + 2 * eta * wd * w_dot_step + (eta * wd) ** 2 * trace.norm_sq) / eta**2
    return u_sq, -(w_dot_step + eta * wd * trace.norm_sq) / eta


def _adamw_balance(trace, window, eta, wd, kosson, ratio, adamw_norm):
    """AdamW's equilibrium |w| = sqrt(E|w|^2) from the exact norm balance on the measured E|u|^2
    and E<w, u> / |w| over the window; the standard error from 10 blocks of it. The balance
    reads |w'-w|^2/|w|^2 = 2 eta (wd + <w,u>/|w|^2): with momentum <w,u>/|w|^2 nearly cancels wd,
    so the prediction amplifies errors in <w,u> (by wd / (wd + <w,u>/|w|^2) ~ 18 here)."""
    blocks = 10

    def balance(u_sq, w_dot_u, norm_sq):  # means over axis 0 -> (prediction, measurement)
        r = np.sqrt(norm_sq.mean(0))
        return np.asarray(adamw_norm(eta=eta, wd=wd, u_sq=u_sq.mean(0), u_radial=w_dot_u.mean(0) / r)), r

    stats = (*_adamw_direction(trace, eta, wd), trace.norm_sq)
    predicted, measured = balance(*(v[window] for v in stats))
    per_block = [balance(*(v[window].reshape(blocks, -1, 2)[b] for v in stats)) for b in range(blocks)]
    standard_error = np.std([p - m for p, m in per_block], axis=0, ddof=1) / np.sqrt(blocks)
    yield compare("adamw: equilibrium |w| from the balance on measured E|u|^2, E<w,u>/|w| (W1, W2)",
                  predicted, measured, 4 * standard_error / predicted,
                  "4 standard errors of (balance - measured) over 10 blocks of the second half: the "
                  "blocks' boundary terms |w_end|^2 - |w_start|^2 (stationarity) amplified ~18x")
    # (The split of theta^2 - Kosson^2 into the radial <w,u> term and the drift of |w| is an exact
    # identity on the measured means; it is shown in the README, not as a row.)


def _relaxation_fit(norm_sq: np.ndarray, reference: np.ndarray):
    """Rate per step of |w|^4 - E|w*|^4 (mean over chains) for each layer: least-squares slope of
    its log until it first falls by e^2; jackknife standard error over the chains.

    ``norm_sq`` (chains, steps, layers) after the rescale, ``reference`` the same at scale 1."""
    chains, steps, layers = norm_sq.shape

    def rates(keep):
        deviation = (norm_sq[keep] ** 2).mean(0) - (reference[keep] ** 2).mean((0, 1))
        out = []
        for layer in range(layers):
            d = np.abs(deviation[:, layer])
            end = int(np.argmax(d < d[0] / np.e**2)) or steps
            out.append(-np.polyfit(np.arange(end), np.log(d[:end]), 1)[0])
        return np.array(out), deviation

    rate, deviation = rates(np.arange(chains))
    leave_one_out = np.array([rates(np.delete(np.arange(chains), c))[0] for c in range(chains)])
    spread = np.sqrt((chains - 1) / chains * ((leave_one_out - leave_one_out.mean(0)) ** 2).sum(0))
    return rate, spread, deviation


_RELAXATION = (("sgd", 0.5, 4e-3, 0.0), ("pytorch", 0.25, 4e-3, 0.5))


def _mean_map_rates(eta: float, wd: float, beta: float, dims, scales, burn_in: int, steps: int):
    r"""Relaxation rates per step of the mean second-moment map, (scales, layers).

    With $v \leftarrow \beta v + g + \lambda w$, $w \leftarrow w - \eta v$ and the sphere-noise gradient
    ($g \perp w$, fresh each step, $E|g|^2 = (d-1)/|w|^2$), the means $a = |w|^2$, $b = \langle w, v\rangle$,
    $c = |v|^2$ obey, with $|w|^2$ taken as deterministic (its relative spread is $O(d^{-1/2})$):
    $\langle w, v'\rangle = \beta b + \lambda a$, $c' = \beta^2 c + \lambda^2 a + 2\beta\lambda b + (d-1)/a$,
    $a' = a - 2\eta\langle w, v'\rangle + \eta^2 c'$, $b' = \langle w, v'\rangle - \eta c'$. The simulation's
    protocol (start $|w|^2 = 1$, $v = 0$; ``burn_in`` steps to the fixed point; $w \to$ scale $w$, $v$
    kept) and ``_relaxation_fit``'s fit of $a^2 - a_\ast^2$.
    """
    d = np.asarray(dims, dtype=float)[None, :]
    factor = np.asarray(scales, dtype=float)[:, None]

    def iterate(a, b, c, n, trace=None):
        for t in range(n):
            if trace is not None:
                trace[t] = a
            w_dot_v = beta * b + wd * a
            c = beta**2 * c + wd**2 * a + 2 * beta * wd * b + (d - 1) / a
            a, b = a - 2 * eta * w_dot_v + eta**2 * c, w_dot_v - eta * c
        return a, b, c

    a, b, c = iterate(np.ones_like(d), np.zeros_like(d), np.zeros_like(d), burn_in)
    trace = np.empty((steps, factor.size, d.size))
    iterate(factor**2 * a, factor * b, c + 0 * factor, steps, trace)
    gap = np.abs(trace**2 - a**2)
    rates = np.empty((factor.size, d.size))
    for i in range(factor.size):
        for layer in range(d.size):
            end = int(np.argmax(gap[:, i, layer] < gap[0, i, layer] / np.e**2)) or steps
            rates[i, layer] = -np.polyfit(np.arange(end), np.log(gap[:end, i, layer]), 1)[0]
    return rates


def _leading_order_error(eta: float, wd: float, beta: float, dims, scales, burn_in: int, steps: int):
    """Relative error of the leading-order (continuous-time) rate at this step size and rescale, from
    the mean second-moment map alone (no Formula): its rate r(eta) against the Richardson limit
    2 (2 r(eta/2)) - r(eta) of r per unit eta (corrections O(eta wd), the momentum's lag and the
    nonlinear start vanish as eta -> 0: in continuous time |w|^4 relaxes exactly exponentially)."""
    coarse = _mean_map_rates(eta, wd, beta, dims, scales, burn_in, steps)
    fine = 2 * _mean_map_rates(eta / 2, wd, beta, dims, scales, 2 * burn_in, 2 * steps)
    return np.abs(coarse / (2 * fine - coarse) - 1)


@check("normalization.equilibrium_relaxation", uses={"rate": "normalization.equilibrium_relaxation_rate"},
       smoke=True)
def equilibrium_relaxation(ctx: Context, rate):
    """Time to reach the norm equilibrium. A scale-invariant objective with stationary gradient
    noise (sum over two weight vectors of <xi_t, w/|w|>, xi_t ~ N(0, I)) is trained to its weight-
    decay equilibrium, its weights multiplied by 2 and by 0.5, and the rate at which
    |w|^4 - E|w*|^4 returns to 0 fitted; then the same protocol on the layer-normalised network,
    where the scale-free gradient norm moves with the effective learning rate (INFO)."""
    chains, steps = (4, 600) if ctx.smoke else ((16, 600) if ctx.quick else (64, 2000))
    network_chains, network_steps = (4, 400) if ctx.quick else (chains, steps)  # INFO only
    dims = (64, 256) if ctx.quick else (256, 1024)
    curves = {}
    burn_in = 1500
    for optimizer, eta, wd, beta in _RELAXATION:
        run = sim.RescaleRun(*map(np.asarray, ctx.measure(
            sim.sphere_noise_then_rescale, ctx.key(f"relaxation/{optimizer}"), optimizer, eta, wd,
            beta, dims=dims, scales=(1.0, 2.0, 0.5), burn_in=burn_in, steps=steps, chains=chains)))
        predicted = float(rate(eta=eta, wd=wd, beta=beta))
        leading_order = _leading_order_error(eta, wd, beta, dims, (2.0, 0.5), burn_in, steps)
        for i, scale in ((1, "2x"), (2, "0.5x")):
            measured, spread, deviation = _relaxation_fit(run.norm_sq[i], run.norm_sq[0])
            allowance = leading_order[i - 1]
            yield compare(f"{optimizer} (eta={eta}, wd={wd}, beta={beta}), w -> {scale} w: rate of "
                          f"|w|^4 - |w*|^4 per step (dims {dims})", predicted, measured,
                          4 * spread / predicted + allowance,
                          f"4 jackknife standard errors over {chains} chains (seed spread) + "
                          f"{np.max(allowance):.2%}: the rate of the mean second-moment map "
                          "through the same protocol, relative to its eta -> 0 limit (_leading_order_error: "
                          "O(eta wd) terms, the momentum's lag, the nonlinear start)")
            curves[f"{optimizer}_{scale}"] = (predicted, deviation[:, 0] / deviation[0, 0])
    x, y, params, readout = _synthetic_task(ctx)
    eta, wd = 0.5, 4e-3
    run = sim.RescaleRun(*map(np.asarray, ctx.measure(
        sim.train_then_rescale, ctx.key("relaxation/network"), x, y, readout, params, "sgd", eta, wd,
        scales=(1.0, 2.0), burn_in=3000 if ctx.quick else 20000, steps=network_steps,
        chains=network_chains)))
    measured, spread, _ = _relaxation_fit(run.norm_sq[1], run.norm_sq[0])
    scale_free = (run.grad_sq * run.norm_sq).mean(1)  # (scale, step, layer)
    before, after = scale_free[0].mean(0), scale_free[1, network_steps // 2:].mean(0)
    for layer in (0, 1):
        yield not_reproduced(
            f"network sgd (eta={eta}, wd={wd}), w -> 2x w, W{layer + 1}: rate of |w|^4 - |w*|^4; "
            f"|g|^2|w|^2 moves from {before[layer]:.3g} to {after[layer]:.3g} after the rescale",
            float(rate(eta=eta, wd=wd, beta=0.0)), float(measured[layer]), float(spread[layer]),
            f"the rate assumes a stationary |g|^2|w|^2; in the network it depends on the effective "
            f"learning rate eta/|w|^2 (4x smaller after the rescale), which feeds back (jackknife "
            f"standard error over {network_chains} chains)", what="jackknife standard errors")
    step = np.arange(min(steps, 400))  # to ~e^-3.2, above the equilibrium's own fluctuations
    ctx.figure("normalization_relaxation", {
        "step": step,
        **{f"predicted_{k}": np.exp(-v[0] * step) for k, v in curves.items()},
        **{f"measured_{k}": np.abs(v[1][step]) for k, v in curves.items()}},
        x="step", ys=tuple(f"{kind}_{k}" for k in curves for kind in ("predicted", "measured")),
        logy=True, ylabel="|w|^4 - |w*|^4, relative to its value at the rescale",
        title="return to the norm equilibrium after w -> 2w, w/2 (stationary-noise objective, "
              "first vector): exp(-rate t)")


@check("normalization.dropout_ridge_penalty", uses={"penalty": "normalization.dropout_ridge_penalty"},
       smoke=True)
def dropout_ridge_penalty(ctx: Context, penalty):
    """SGD with sampled inverted-dropout masks on least squares: the mean iterate (Polyak average
    over steps, mean over chains) vs the minimiser of least squares + p/(1-p) sum_j (X^T X)_jj w_j^2.

    The expected gradient is linear in w with mask-independent coefficients, so the mean iterate
    follows GD on the expected objective exactly: the only error is Monte Carlo."""
    n, d = (40, 6) if ctx.quick else (200, 20)
    chains, steps = (16, 2000) if ctx.smoke else ((32, 3000) if ctx.quick else (512, 20000))
    rng = _rng(ctx, "dropout")
    X = rng.normal(size=(n, d)) * np.geomspace(0.5, 2.0, d)
    y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
    columns = {"weight": np.arange(1.0, d + 1), "least_squares": np.linalg.lstsq(X, y, rcond=None)[0]}
    for p in (0.2, 0.5):
        curvature = np.linalg.eigvalsh(X.T @ X / n)[-1] / (1 - p)
        run = ctx.measure(sim.dropout_sgd_least_squares, ctx.key(f"dropout/{p}"), X, y, p, 0.5 / curvature, steps,
                          steps // 2, chains)
        means = np.asarray(run.mean_weights)
        se = means.std(axis=0, ddof=1) / np.sqrt(chains)
        predicted = np.asarray(dropout_fixed_point(X, y, p, penalty=penalty))
        yield compare(f"p={p}: mean SGD iterate, {d} weights, {chains} chains", predicted, means.mean(0),
                      5 * se, "5 Monte Carlo standard errors (spread over independent chains)",
                      relative=False)
        columns.update({f"predicted_drop_rate_{p}": predicted, f"measured_drop_rate_{p}": means.mean(0),
                        f"measured_drop_rate_{p}_se": se})
    ctx.figure("normalization_dropout_shrinkage", columns, x="weight",
               ys=("predicted_drop_rate_0.2", "measured_drop_rate_0.2", "predicted_drop_rate_0.5",
                   "measured_drop_rate_0.5", "least_squares"),
               title=f"dropout as a ridge penalty: mean SGD iterate with dropout vs the penalised minimiser "
                     f"(n={n}, feature scales 0.5-2)", ylabel="weight $w_j$")


def _exact_design(ctx: Context, n: int, scale: float, rho: float) -> np.ndarray:
    """Two centred features whose sample covariance is exactly [[s^2, rho s], [rho s, 1]]."""
    z = np.asarray(ls.whiten_features(_rng(ctx, "conditioning").normal(size=(n, 2))))
    cov = np.array([[scale**2, rho * scale], [rho * scale, 1.0]])
    return z @ np.linalg.cholesky(cov).T


@check("normalization.batchnorm_conditioning",
       uses={"kappa_formula": "linreg.two_feature_kappa", "steps_formula": "linreg.optimal_steps",
             "optimal_lr": "linreg.optimal_lr"})
def batchnorm_conditioning(ctx: Context, kappa_formula, steps_formula, optimal_lr):
    """GD iteration counts at the optimal learning rate for a linear layer on raw, standardised
    (batch-norm style) and whitened inputs vs kappa of each Hessian."""
    scale, rho, eps = 10.0, 0.8, 1e-6
    X = _exact_design(ctx, 64 if ctx.quick else 1024, scale, rho)
    w_star = np.array([0.7, -1.3])
    designs = {"raw": (X, scale), "standardised": (np.asarray(ls.standardize_features(X)), 1.0)}
    for label, (A, s) in designs.items():
        kappa = float(kappa_formula(scale=s, rho=rho))
        ev = np.linalg.eigvalsh(A.T @ A / A.shape[0])
        eta = float(optimal_lr(lam_min=ev[0], lam_max=ev[-1]))
        predicted = int(np.ceil(steps_formula(kappa=kappa, eps=eps)))
        budget = int(np.ceil(2 * ev[-1] / ev[0] * np.log(1 / eps))) + 10
        run = ls.gd_least_squares(A, A @ w_star, np.zeros(2), eta, budget)
        err = np.linalg.norm(np.asarray(run.weights) - w_star, axis=-1)
        measured = int(np.argmax(err / err[0] <= eps))
        yield compare(f"{label} (scale={s:g}, rho={rho}): GD steps to 1e-6, kappa={kappa:.4g}",
                      predicted, measured, 1.0, "integer step count; on two modes at the optimal lr "
                      "the error contracts exactly by the rate each step", relative=False)
    W = np.asarray(ls.whiten_features(X))
    run = ls.gd_least_squares(W, W @ w_star, np.zeros(2), 1.0, 3)
    err = np.linalg.norm(np.asarray(run.weights) - w_star, axis=-1)
    yield compare("whitened: kappa = 1, GD at eta = 1/lam converges in one step", 0.0, err[1] / err[0],
                  1e-12, "float64 round-off", relative=False)

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate normalization --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("normalization.norm_growth", "wrong power of eta: w^2 + eta g^2", "w_sq + eta*g_sq"),
    mistake("normalization.equilibrium_angular_update", "a factor sqrt 2 lost", "sqrt(eta*wd/(beta + 1))"),
    mistake("normalization.dropout_ridge_penalty", "wrong power: p/(1 - p)^2", "p/(1 - p)**2"),
    mistake("normalization.equilibrium_relaxation_rate", "the rate of |w|^2, not |w|^4: a factor 2 lost",
            "2*eta*wd/(1 - beta)"),
    mistake("normalization.equilibrium_relaxation_rate", "the momentum factor of the angular update, 1/(1 + beta)",
            "4*eta*wd/(1 + beta)"),
)
