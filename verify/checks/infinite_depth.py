"""Random deep ResNets vs the infinite-depth formulas: growth of |x_L|^2 and of input gradients, log-normal spread, limits."""

from __future__ import annotations

import numpy as np

from numeric import infinite_depth as sim
from verify.core import Context, check, compare, compare_outcome

_SCALE, _SIGMA = 1.5, 1.0  # branch_scale alpha and sigma_w: alpha^2 sigma_w^2 = 2.25
_RELU_SCALE = 0.75  # ReLU networks: a smaller spread (log-variance ~ 2 alpha^2 sigma_w^2 / width), so 256 resolve ~5%
_DEPTHS = np.array([4, 8, 16, 32])
_EXPONENTS = (0.5, 1.0)
_WIDTH = 16  # log-variance 4 a^2 s^2 / width = 0.56: the median-mean gap is resolved with 256 networks


def _mean_se(values):
    """Sample mean and standard error over the last axis."""
    return values.mean(-1), values.std(-1, ddof=1) / np.sqrt(values.shape[-1])


def _weighted_slope(x, y, se):
    """Weighted least-squares slope of y on x and its standard error (weights 1/se^2)."""
    w = 1 / se**2
    xm = np.sum(w * x) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    slope = np.sum(w * (x - xm) * y) / sxx
    return slope, np.sqrt(1 / sxx)


def _samples(ctx: Context) -> int:
    return 64 if ctx.smoke else 256 if ctx.quick else 4096


def _run(ctx: Context, width, identity: bool):
    """ReLU networks at p = 1/2 and (if ``identity``) identity ones at every (depth, p): one program per width."""
    depths, exponents = _DEPTHS, np.full(_DEPTHS.size, 0.5)
    activations = np.array(["relu"] * _DEPTHS.size)
    if identity:
        depths = np.concatenate([np.tile(_DEPTHS, len(_EXPONENTS)), depths])
        exponents = np.concatenate([np.repeat(_EXPONENTS, _DEPTHS.size), exponents])
        activations = np.concatenate([np.array(["identity"] * (depths.size - _DEPTHS.size)), activations])
    scales = np.where(activations == "relu", _RELU_SCALE, _SCALE)
    out = ctx.measure(sim.random_resnets, ctx.key("infinite_depth"), depths, width, scales, _SIGMA, exponents,
                      activations, _samples(ctx))
    return depths, exponents, activations, out


def _select(run, activation, samples):
    depths, exponents, activations, out = run
    keep = activations == activation
    return depths[keep], exponents[keep], type(out)(*(np.asarray(v)[keep] for v in out)), samples


@check("infinite_depth.identity_resnet", uses={
    "growth": "infinite_depth.mean_square_growth", "limit": "infinite_depth.sde_limit_growth",
    "displacement": "infinite_depth.residual_displacement", "log_mean": "infinite_depth.log_growth_mean",
    "log_variance": "infinite_depth.log_growth_variance"},
    blind={"log_variance": "a sample variance of 256 networks has ~9% relative standard error (4 SE = 35%); the "
                           "series is checked to ~1% against a 400,000-sample numpy Monte Carlo of the layer ratio in "
                           "tests/test_infinite_depth.py",
           "limit": "the depth limit is resolved to ~30% at quick size (4 standard errors of a Richardson "
                    "extrapolation of 256 networks), not to the 10% of the negative control; it is checked exactly "
                    "by sympy limit in tests/test_infinite_depth.py"})
def identity_resnet(ctx: Context, growth, limit, displacement, log_mean, log_variance):
    """Linear-branch ResNets, depths 4-32, scalings 1/sqrt(L) and 1/L: mean, median and spread of |x_L|^2, gradients, limits."""
    depths, exponents, out, samples = _select(_run(ctx, _WIDTH, True), "identity", _samples(ctx))
    kw = dict(branch_scale=_SCALE, sigma_w=_SIGMA, depth=depths, depth_exponent=exponents)
    labels = [f"L={d},p={p:g}" for d, p in zip(depths, exponents)]
    g = np.asarray(out.growth)
    mean, se = _mean_se(g)
    predicted = np.asarray(growth(**kw))
    yield compare(f"E|x_L|^2/|x_0|^2 = (1 + a^2 s^2 / L^2p)^L at {', '.join(labels)} ({samples} networks)",
                  predicted, mean, 4 * se, "4 Monte Carlo standard errors", relative=False)
    grad_mean, grad_se = _mean_se(np.asarray(out.gradient_growth))
    yield compare("input-gradient growth |d(u.x_L)/dx_0|^2/|u|^2: the same law (jax.vjp through the network)",
                  predicted, grad_mean, 4 * grad_se, "4 Monte Carlo standard errors", relative=False)
    moved_mean, moved_se = _mean_se(np.asarray(out.displacement))
    moved_predicted = np.asarray(displacement(**kw))
    yield compare("E|x_L - x_0|^2/|x_0|^2 = (1 + a^2 s^2 / L^2p)^L - 1", moved_predicted, moved_mean, 4 * moved_se,
                  "4 Monte Carlo standard errors", relative=False)
    for p in _EXPONENTS:  # fitted exponent of the displacement in L (p = 1: -> 0 like 1/L, the identity limit)
        rows = exponents == p
        slope, slope_se = _weighted_slope(np.log(depths[rows]), np.log(moved_mean[rows]),
                                          moved_se[rows] / moved_mean[rows])
        predicted_slope, _ = _weighted_slope(np.log(depths[rows]), np.log(moved_predicted[rows]),
                                             moved_se[rows] / moved_mean[rows])
        yield compare(f"p = {p:g}: fitted log-log slope of E|x_L - x_0|^2 over L = {_DEPTHS.tolist()}",
                      predicted_slope, slope, 4 * slope_se,
                      "4 standard errors of the weighted fitted log-slope (Monte Carlo errors of the means)",
                      relative=False)
    # log-normal spread (series in eps^2 = a^2 s^2 / L^2p through eps^8; used where eps^2 <= 0.3)
    eps2 = (_SCALE * _SIGMA) ** 2 / depths.astype(float) ** (2 * exponents)
    series = eps2 <= 0.3
    logs = np.log(g[series])
    log_mean_measured, log_se = _mean_se(logs)
    truncation = depths[series] * eps2[series] ** 5  # the first dropped term, ~ L eps^10 (coefficients <= 1)
    log_predicted = np.asarray(log_mean(width=_WIDTH, **{k: v[series] if k in ("depth", "depth_exponent") else v
                                                         for k, v in kw.items()}))
    yield compare(f"E log(|x_L|^2/|x_0|^2) (series through eps^8) at {np.array(labels)[series].tolist()}",
                  log_predicted, log_mean_measured, 4 * log_se + truncation,
                  "4 Monte Carlo standard errors plus the series truncation ~ L eps^10", relative=False)
    variance = logs.var(-1, ddof=1)
    centred = logs - logs.mean(-1, keepdims=True)
    variance_se = np.sqrt((np.mean(centred**4, -1) - variance**2) / samples)
    var_predicted = np.asarray(log_variance(width=_WIDTH, **{k: v[series] if k in ("depth", "depth_exponent") else v
                                                             for k, v in kw.items()}))
    yield compare("Var log(|x_L|^2/|x_0|^2) ~ 4 a^2 s^2 L^(1-2p) / width (series through eps^8)", var_predicted,
                  variance, 4 * variance_se + 4 * truncation,
                  "4 Monte Carlo standard errors of a sample variance (fourth moment) plus the series truncation "
                  "~ 4 L eps^10", relative=False)
    median = np.median(logs, -1)
    median_se = 1.2533 * np.sqrt(variance / samples)  # sqrt(pi/2) sd / sqrt(N): a Gaussian's sample median
    yield compare("log median of |x_L|^2/|x_0|^2 = E log (log-normal: the median is exp(E log), below the mean)",
                  log_predicted, median, 4 * median_se + truncation,
                  "4 standard errors of a sample median (sqrt(pi/2) sd/sqrt(N)) plus the series truncation",
                  relative=False)
    half = series & (exponents == 0.5)
    gap = np.log(mean[half]) - median[half[series]]
    gap_se = np.hypot(se[half] / mean[half], median_se[half[series]])
    predicted_gap = np.log(predicted[half]) - log_predicted[half[series]]
    yield compare("p = 1/2: log mean - log median = log E - E log (log-normal: ~ Var/2 = 2 a^2 s^2 / width)",
                  predicted_gap, gap, 4 * gap_se,
                  "4 Monte Carlo standard errors of the difference (mean's and median's errors combined)",
                  relative=False)
    # the p = 1/2 depth limit, by Richardson extrapolation in 1/L of the per-network growths
    at = {int(d): g[(depths == d) & (exponents == 0.5)][0] for d in _DEPTHS}
    late, early = 2 * at[32] - at[16], 2 * at[16] - at[8]  # cancel the O(1/L) term
    late_mean, late_se = _mean_se(late)
    residual = abs(late_mean - early.mean()) / 3  # the O(1/L^2) remainder at (16, 32) is 1/4 of that at (8, 16)
    yield compare("p = 1/2: depth limit exp(a^2 s^2) vs Richardson extrapolation 2 m(32) - m(16)",
                  float(limit(branch_scale=_SCALE, sigma_w=_SIGMA)), late_mean, 4 * late_se + residual,
                  "4 Monte Carlo standard errors (per-network, common random numbers) plus the O(1/L^2) finite-depth "
                  "remainder estimated from the (8, 16) extrapolation", relative=False)
    ctx.memo["infinite_depth.identity_curve"] = (mean[exponents == 0.5], predicted[exponents == 0.5])


@check("infinite_depth.relu_resnet", uses={"growth": "infinite_depth.relu_mean_square_growth"})
def relu_resnet(ctx: Context, growth):
    """ReLU-branch ResNets at 1/sqrt(L), widths 32 and 16: |x_L|^2 and input-gradient growth vs the infinite-width law."""
    depths, exponents, wide, samples = _select(_run(ctx, 2 * _WIDTH, False), "relu", _samples(ctx))
    _, _, narrow, _ = _select(_run(ctx, _WIDTH, True), "relu", _samples(ctx))
    predicted = np.asarray(growth(branch_scale=_RELU_SCALE, sigma_w=_SIGMA, depth=depths, depth_exponent=exponents))
    for field, label in (("growth", "E|x_L|^2/|x_0|^2"), ("gradient_growth", "input-gradient growth")):
        mean, se = _mean_se(np.asarray(getattr(wide, field)))
        narrow_mean, narrow_se = _mean_se(np.asarray(getattr(narrow, field)))
        finite_width = np.abs(narrow_mean - mean)  # O(1/width): the bias at width 32 is about half of this
        yield compare(f"ReLU {label} = (1 + a^2 s^2 / (2 L))^L at L = {_DEPTHS.tolist()}, a = {_RELU_SCALE}, width "
                      f"{2 * _WIDTH}", predicted, mean, 4 * se + finite_width,
                      "4 Monte Carlo standard errors plus the O(1/width) finite-width bias, estimated by the measured "
                      "difference from width 16", relative=False)
        if field == "growth":
            relu_mean = mean
    identity_mean, identity_predicted = ctx.memo.get("infinite_depth.identity_curve",
                                                     (np.full(_DEPTHS.size, np.nan), np.full(_DEPTHS.size, np.nan)))
    ctx.figure("infinite_depth_growth", {
        "depth": _DEPTHS, "predicted_identity": identity_predicted, "measured_identity": identity_mean,
        "predicted_relu_width32": predicted, "measured_relu_width32": relu_mean},
        x="depth", ys=("predicted_identity", "measured_identity", "predicted_relu_width32", "measured_relu_width32"),
        logx=True, title=f"ResNet x += (a/sqrt(L)) W phi(x): E|x_L|^2/|x_0|^2 vs depth (identity a = {_SCALE}, width "
                         f"{_WIDTH}; ReLU a = {_RELU_SCALE})",
        ylabel="E |x_L|^2 / |x_0|^2", reference={"hline": float(np.exp((_SCALE * _SIGMA) ** 2))})


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("infinite_depth.mean_square_growth", "sigma_w instead of sigma_w^2",
            "(branch_scale**2*sigma_w/depth**(2*depth_exponent) + 1)**depth"),
    mistake("infinite_depth.relu_mean_square_growth", "the ReLU's 1/2 forgotten",
            "(branch_scale**2*sigma_w**2/depth**(2*depth_exponent) + 1)**depth"),
    mistake("infinite_depth.sde_limit_growth", "exp(a s) instead of exp(a^2 s^2)", "exp(branch_scale*sigma_w)"),
    mistake("infinite_depth.log_growth_variance", "2 eps^2/width instead of 4 eps^2/width",
            "2*depth*branch_scale**2*sigma_w**2/(depth**(2*depth_exponent)*width)"),
)
