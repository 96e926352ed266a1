"""K-FAC: factorised vs exact Fisher blocks; natural-gradient and K-FAC training curves of deep linear networks."""

from __future__ import annotations

import numpy as np

from analytic.kfac import fisher_block
from numeric import kfac as sim
from verify.core import Context, check, compare

_DEPTHS = (1, 2, 3, 4, 5, 6)
_ETA = 0.1  # learning rate of the training curves: (1 - 6 eta)^2 = 0.16 still converges for K-FAC at depth 6
_WINDOW = (1e-18, 1e-6)  # fit where loss / loss_0 lies here: past the transient, above the round-off floor


def _fitted_factor(losses: np.ndarray):
    """Per-step loss factor exp(slope) of log loss over the window, its standard error, and the drift of
    the slope between the window's halves (how far the rate still is from settling)."""
    relative = losses / losses[0]
    steps = np.flatnonzero((relative <= _WINDOW[1]) & (relative >= _WINDOW[0]))
    if steps.size < 8:
        raise ValueError(f"only {steps.size} steps in the fitting window {_WINDOW}: run longer")
    logs = np.log(losses[steps])
    (slope, intercept), cov = np.polyfit(steps, logs, 1, cov=True)
    half = steps.size // 2
    first = np.polyfit(steps[:half], logs[:half], 1)[0]
    second = np.polyfit(steps[half:], logs[half:], 1)[0]
    factor = np.exp(slope)
    return factor, factor * np.sqrt(cov[0, 0]), factor * abs(first - second), steps


def _fit_all(curves: np.ndarray):
    fits = [_fitted_factor(c) for c in curves]
    return (np.array([f[0] for f in fits]), np.array([f[1] for f in fits]), np.array([f[2] for f in fits]),
            [f[3] for f in fits])


_RATE_REASON = ("4 standard errors of the fitted log-loss slope plus the drift of the slope between the "
                "window's halves (finite horizon: the O(eta^2 |E|^2) terms still decaying)")


_FLOW_ETAS = (0.02, 0.01)  # two small learning rates: gradient flow by Richardson extrapolation
_FLOW_TIMES = 0.2 * np.arange(1, 8)  # t = eta x steps: whole steps at both rates (<= 140 at eta = 0.01)


@check("kfac.natural_gradient_rates", smoke=True, uses={
    "natural": "kfac.natural_gradient_loss_factor", "kfac": "kfac.kfac_loss_factor",
    "flow": "kfac.natural_gradient_flow_loss_ratio"})
def natural_gradient_rates(ctx: Context, natural, kfac, flow):
    """Exact natural gradient's loss factor is (1 - eta)^2 at depths 1-6; K-FAC's is (1 - depth eta)^2;
    natural-gradient flow's loss_t / loss_0 is exp(-2 t) along the whole curve."""
    width, examples, steps = 3, 12, 150
    depths = np.array(_DEPTHS)
    # one compiled program: natural gradient at eta, K-FAC at eta and at eta / depth, for every depth,
    # and natural gradient at the two small learning rates of the gradient-flow row
    rates = np.concatenate([np.full(12, _ETA), _ETA / depths, np.repeat(_FLOW_ETAS, 6)])
    curves = np.asarray(ctx.measure(sim.deep_linear_training, 1000 + ctx.seed, _DEPTHS * 5, width, examples,
                                    tuple(rates), steps, ("natural",) * 6 + ("kfac",) * 12
                                    + ("natural",) * 12).losses)
    exact, blockwise, slow = curves[:6], curves[6:18], curves[18:]
    coarse, fine = (slow[6 * i:6 * (i + 1)] / slow[6 * i:6 * (i + 1), :1] for i in range(2))
    at = {eta: np.rint(_FLOW_TIMES / eta).astype(int) for eta in _FLOW_ETAS}
    coarse, fine = coarse[:, at[_FLOW_ETAS[0]]], fine[:, at[_FLOW_ETAS[1]]]
    extrapolated = 2 * fine - coarse  # the O(eta) discretisation error removed (eta halved)
    yield compare(f"exact natural-gradient flow, depths 1-6: loss_t / loss_0 at t = {_FLOW_TIMES[0]:g}..."
                  f"{_FLOW_TIMES[-1]:g}, extrapolated from eta = {_FLOW_ETAS[0]:g}, {_FLOW_ETAS[1]:g}, vs "
                  f"exp(-2 t)", np.asarray(flow.jax(_FLOW_TIMES)) * np.ones((6, 1)), extrapolated,
                  np.abs(fine - coarse) / np.abs(extrapolated) + 1e-12,
                  "discretisation: Richardson extrapolation in the learning rate removes the O(eta) error; "
                  "what remains is O(eta^2), bounded by the O(eta) correction |L(eta/2) - L(eta)| itself; "
                  "float64 round-off", category="discretisation")
    columns = {"t": _FLOW_TIMES, **{f"measured_depth{d}": extrapolated[i] for i, d in enumerate(_DEPTHS)},
               "predicted_exp(-2t)": np.asarray(flow.jax(_FLOW_TIMES))}
    ctx.figure("kfac_natural_gradient_flow", columns, x="t", ys=tuple(columns)[1:], logy=True,
               title=f"natural-gradient flow, depths 1-6: loss_t / loss_0 (Richardson from eta = {_FLOW_ETAS[0]:g}, "
                     f"{_FLOW_ETAS[1]:g}) vs exp(-2t)", ylabel="loss_t / loss_0")
    factor, se, drift, _ = _fit_all(exact)
    yield compare(f"exact natural gradient, depths 1-6 (width {width}, {examples} Gaussian inputs, eta {_ETA}): "
                  f"fitted loss factor per step vs (1 - eta)^2", np.asarray(natural.jax(_ETA)) * np.ones(6),
                  factor, (4 * se + drift) / factor + 1e-12, _RATE_REASON + "; float64 round-off")
    k_factor, k_se, k_drift, _ = _fit_all(blockwise[:6])
    yield compare(f"K-FAC (block-diagonal), eta {_ETA}, depths 1-6: fitted loss factor vs (1 - depth eta)^2",
                  np.asarray(kfac.jax(_ETA, depths)), k_factor, (4 * k_se + k_drift) / k_factor + 1e-12,
                  _RATE_REASON + "; float64 round-off")
    s_factor, s_se, s_drift, _ = _fit_all(blockwise[6:])
    yield compare(f"K-FAC with learning_rate eta / depth, depths 1-6: fitted loss factor vs (1 - depth (eta/depth))^2 "
                  f"= natural gradient's", np.asarray(kfac.jax(_ETA / depths, depths)), s_factor,
                  (4 * s_se + s_drift) / s_factor + 1e-12, _RATE_REASON + "; float64 round-off")
    t = np.arange(steps + 1)
    columns = {"step": t}
    for i, d in enumerate(_DEPTHS):
        columns[f"measured_depth{d}"] = exact[i] / exact[i, 0]
    columns["predicted_all_depths"] = np.asarray(natural.jax(_ETA)) ** t
    ctx.figure("kfac_natural_gradient_curves", columns, x="step", ys=tuple(columns)[1:], logy=True,
               title=f"exact natural gradient on deep linear nets, depths 1-6 (eta = {_ETA}): loss_t / loss_0 "
                     f"vs (1 - eta)^(2t)", ylabel="loss_t / loss_0")
    columns = {"step": t}
    for i, d in enumerate(_DEPTHS):
        columns[f"measured_depth{d}"] = np.maximum(blockwise[i] / blockwise[i, 0], 1e-30)
        columns[f"predicted_depth{d}"] = np.maximum(np.asarray(kfac.jax(_ETA, d)) ** t, 1e-30)
    ctx.figure("kfac_kfac_curves", columns, x="step", ys=tuple(columns)[1:], logy=True,
               title=f"block-diagonal K-FAC on deep linear nets (eta = {_ETA}): loss_t / loss_0 vs "
                     f"(1 - depth eta)^(2t) (clipped at 1e-30)", ylabel="loss_t / loss_0")


def _layer(ctx: Context):
    """A 2 x 3 layer W, a teacher W*, inputs a = S z: D = W - W* and Sigma = S S^T."""
    rng = np.random.default_rng(3000 + ctx.seed)
    w, teacher = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    scale = np.eye(3) + 0.3 * rng.normal(size=(3, 3))
    return w, teacher, scale


@check("kfac.fisher_factorisation", smoke=True, uses={"entry": "kfac.gaussian_fisher_entry"})
def fisher_factorisation(ctx: Context, entry):
    """K-FAC's A (x) G against the exact Fisher: exact for deep linear nets; the empirical Fisher's Isserlis gap."""
    rng = np.random.default_rng(2000 + ctx.seed)
    depth, width, examples = 3, 3, 16
    weights = np.eye(width) + 0.4 * rng.normal(size=(depth, width, width))
    inputs = rng.normal(size=(examples, width)) @ (np.eye(width) + 0.3 * rng.normal(size=(width, width)))
    blocks = ctx.measure(sim.deep_linear_fisher, weights, inputs)
    fisher = np.asarray(blocks.fisher)
    a, g = np.asarray(blocks.input_moments), np.asarray(blocks.gradient_moments)
    predicted = np.block([[fisher_block(a[l, m], g[l, m], formula=entry) for m in range(depth)]
                          for l in range(depth)])
    scale = np.max(np.abs(fisher))
    yield compare(f"deep linear net (depth {depth}, width {width}, {examples} inputs): all {depth}x{depth} Fisher "
                  f"blocks by autodiff vs A_lm (x) G_lm (max |F| {scale:.3g})", predicted, fisher,
                  1e-12 * scale, "float64 round-off of the Jacobian products (~1e-15 relative to max |F|)",
                  relative=False)
    w, teacher, scale_matrix = _layer(ctx)
    examples, replicates = (256, 32) if ctx.quick else (4096, 256)
    sigma = scale_matrix @ scale_matrix.T
    noise = 0.5
    diff = w - teacher
    cross = sigma @ diff.T  # C = E[a g^T], g = D a - eps
    grad_moment = diff @ sigma @ diff.T + noise**2 * np.eye(2)
    gap = (fisher_block(sigma, grad_moment, cross, formula=entry) - fisher_block(sigma, grad_moment, formula=entry))
    for labels, predicted_gap, what in (("teacher", gap, "empirical Fisher (teacher labels): gap = Isserlis cross terms"),
                                        ("model", np.zeros_like(gap), "labels sampled from the model: gap = 0")):
        run = ctx.measure(sim.empirical_fisher_gap, 2000 + ctx.seed + (labels == "model"), w, teacher,
                          scale_matrix, noise, examples, replicates, labels)
        measured = np.asarray(run.gap)
        se = measured.std(0, ddof=1) / np.sqrt(replicates)
        yield compare(f"linear layer 2x3, Gaussian inputs, {replicates} x {examples} examples: {what} "
                      f"(max |gap| {np.max(np.abs(gap)):.3g})", predicted_gap, measured.mean(0),
                      4 * se + 1e-12, "4 Monte Carlo standard errors over replicates (per entry), plus float64 "
                      "round-off", relative=False)


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("kfac.gaussian_fisher_entry", "one Isserlis pairing dropped",
            "cross_ik*cross_jl + gradient_moment*input_moment"),
    mistake("kfac.kfac_loss_factor", "the depth lost: K-FAC's step read as natural gradient's", "(eta - 1)**2"),
    mistake("kfac.natural_gradient_loss_factor", "the loss factor taken as the error factor (not squared)",
            "1 - eta"),
    mistake("kfac.natural_gradient_flow_loss_ratio", "the error's decay taken as the loss's (not squared)",
            "exp(-t)"),
)
