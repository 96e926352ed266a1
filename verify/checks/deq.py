"""Deep equilibrium models: the implicit (IFT) gradient vs jax.grad through unrolled steps; unrolling's error vs k."""

from __future__ import annotations

import numpy as np
import scipy.optimize

from numeric import deq as sim
from verify.core import Context, check, compare, compare_outcome

_EPS = np.finfo(float).eps
_STEPS = np.arange(1, 101)  # unrolled steps k (one compiled program for the whole grid)
_LINEAR_WEIGHTS = np.array([-0.8, -0.4, 0.3, 0.6, 0.85])
_TANH_WEIGHTS = np.array([-0.7, -0.3, 0.55, 0.7, 0.85])


def _cases(ctx: Context, weights, drive_scale=1.0):
    rng = np.random.default_rng(3100 + ctx.seed)
    return rng.uniform(-drive_scale, drive_scale, weights.size), rng.uniform(-1.5, 1.5, weights.size)


def _fit_window(error, gradient):
    """The k where the (c k + d) rate^(k-1) law is resolved: |e_k| below 1e-5 of its largest value (the
    O(rate^(2k)) terms are then ~1e-5 relative) and above 1e-9 (1 + |g|) (round-off of the two gradients
    ~1e-15 is then < 1e-6 relative). Chosen from the measured errors alone."""
    size = np.abs(error)
    return (size <= 1e-5 * size.max()) & (size >= 1e-9 * (1 + abs(gradient)))


def _round_off(gradient, offset):
    """float64 round-off of k unrolled steps (~k eps each on z_k's tangent) and of the implicit solve."""
    return 64 * _EPS * (1 + np.abs(gradient)[:, None] + np.abs(offset)[:, None] * _STEPS) * _STEPS


@check("deq.linear_unrolled_gradient", smoke=True, uses={
    "fixed_point": "deq.linear_fixed_point", "ift": "deq.linear_ift_gradient", "error": "deq.linear_unrolled_error"})
def linear_unrolled_gradient(ctx: Context, fixed_point, ift, error):
    """Linear layer: fixed point and IFT gradient vs the DEQ backward pass; jax.grad through k steps minus it vs the error law."""
    drive, start = _cases(ctx, _LINEAR_WEIGHTS)
    implicit = ctx.measure(sim.implicit_gradient, _LINEAR_WEIGHTS, drive, "linear")
    yield compare("fixed point z* = drive / (1 - weight) vs forward iteration", fixed_point(weight=_LINEAR_WEIGHTS,
                  drive=drive), implicit.fixed_point, 1e-12,
                  "float64 round-off; the iteration stops when a step moves z by < 1e-15 relative")
    g = np.asarray(ift(weight=_LINEAR_WEIGHTS, drive=drive))
    yield compare("IFT gradient dz*/dweight vs the DEQ implicit backward pass (custom_vjp)", g,
                  implicit.gradient, 1e-11, "float64 round-off of two iterated fixed points (1e-15 stopping rule, "
                  "amplified by 1/(1 - weight) <= 7)")
    z_star = np.asarray(implicit.fixed_point)
    weights2, drive2 = np.tile(_LINEAR_WEIGHTS, 2), np.tile(drive, 2)
    starts2 = np.concatenate([start, z_star])  # five starts off z*, five at z*
    unrolled = np.asarray(ctx.measure(sim.unrolled_gradients, weights2, drive2, starts2, _STEPS, "linear"))
    measured = unrolled - np.tile(np.asarray(implicit.gradient), 2)[:, None]
    k = _STEPS.astype(float)
    predicted = np.asarray(error(weight=weights2[:, None], drive=drive2[:, None], initial_state=starts2[:, None], k=k))
    tolerance = 1e-10 * np.abs(predicted) + _round_off(np.tile(g, 2), starts2 - np.tile(z_star, 2))
    yield compare(f"unrolled error from z0 != z*, k = 1..{_STEPS[-1]}: weight^(k-1)[k(z0 - z*) - weight g] vs jax.grad",
                  predicted[:5], measured[:5], tolerance[:5], "float64 round-off: 64 eps k (1 + |g| + k |z0 - z*|) "
                  "absolute, plus 1e-10 relative", relative=False)
    yield compare(f"unrolled error from z*, k = 1..{_STEPS[-1]}: -weight^k g vs jax.grad", predicted[5:],
                  measured[5:], tolerance[5:], "float64 round-off: 64 eps k (1 + |g|) absolute, plus 1e-10 relative",
                  relative=False)
    ctx.memo["deq.linear_curves"] = (k, predicted[[3, 8]], measured[[3, 8]])


def _fit_rate(k, error):
    """Fit e_k = (c k + d) rate^(k-1) (signed, so a sign change of c k + d is fine): rate, its standard
    error, c and its standard error. Weights: k crude^(k-1), the envelope, with ``crude`` the rate of a
    straight-line fit of log|e_k| (from the data alone)."""
    crude = np.exp(np.polyfit(k, np.log(np.abs(error)), 1)[0])
    envelope = k * crude ** (k - 1)

    def model(kk, c, d, rate):
        return (c * kk + d) * rate ** (kk - 1)

    start = np.linalg.lstsq(np.stack([k, np.ones_like(k)], 1) * (crude ** (k - 1))[:, None], error, rcond=None)[0]
    params, cov = scipy.optimize.curve_fit(model, k, error, p0=(*start, crude), sigma=envelope, maxfev=20000)
    return params[2], np.sqrt(cov[2, 2]), params[0], np.sqrt(cov[0, 0])


@check("deq.tanh_unrolled_gradient", smoke=True, uses={
    "ift": "deq.tanh_ift_gradient", "rate": "deq.tanh_contraction_rate",
    "from_fixed_point": "deq.tanh_unrolled_error_from_fixed_point"})
def tanh_unrolled_gradient(ctx: Context, ift, rate, from_fixed_point):
    """tanh layer: IFT gradient vs DEQ backward pass and finite differences; unrolled error from z* exact, from z0 fitted rate."""
    drive, start = _cases(ctx, _TANH_WEIGHTS, 0.5)
    implicit = ctx.measure(sim.implicit_gradient, _TANH_WEIGHTS, drive, "tanh")
    z_star = np.asarray(implicit.fixed_point)
    g = np.asarray(ift(weight=_TANH_WEIGHTS, fixed_point=z_star))
    yield compare("IFT gradient z*(1 - z*^2)/(1 - weight(1 - z*^2)) vs the DEQ implicit backward pass", g,
                  implicit.gradient, 1e-11, "float64 round-off of two iterated fixed points (1e-15 stopping rule)")
    difference = np.asarray(ctx.measure(sim.fixed_point_difference, _TANH_WEIGHTS, drive, "tanh"))
    yield compare("IFT gradient vs central difference of the forward fixed point", g, difference, 1e-7,
                  "central difference, step 1e-5: truncation ~ step^2 |z*'''| ~ 1e-10, rounding ~ eps / step ~ 1e-11")
    weights2, drive2 = np.tile(_TANH_WEIGHTS, 2), np.tile(drive, 2)
    starts2 = np.concatenate([start, z_star])
    unrolled = np.asarray(ctx.measure(sim.unrolled_gradients, weights2, drive2, starts2, _STEPS, "tanh"))
    measured = unrolled - np.tile(np.asarray(implicit.gradient), 2)[:, None]
    k = _STEPS.astype(float)
    predicted = np.asarray(from_fixed_point(weight=_TANH_WEIGHTS[:, None], fixed_point=z_star[:, None], k=k))
    yield compare(f"unrolled error from z*, k = 1..{_STEPS[-1]}: -rate^k g vs jax.grad", predicted, measured[5:],
                  1e-10 * np.abs(predicted) + _round_off(g, np.zeros(5)),
                  "float64 round-off: 64 eps k (1 + |g|) absolute, plus 1e-10 relative", relative=False)
    rho = np.asarray(rate(weight=_TANH_WEIGHTS, fixed_point=z_star))
    positive = _TANH_WEIGHTS > 0  # a negative rate alternates the sign of e_k: fit the positive-weight cases
    windows = [_fit_window(measured[i], g[i]) for i in np.flatnonzero(positive)]
    fits = np.array([_fit_rate(k[w], measured[i, w]) for i, w in zip(np.flatnonzero(positive), windows)])
    fitted, fitted_se, slope_c, slope_c_se = fits.T
    spans = ", ".join(f"{k[w][0]:.0f}..{k[w][-1]:.0f}" for w in windows)
    yield compare(f"rate from z0 != z*: fit of (c k + d) rate^(k-1) over k = {spans} vs weight (1 - z*^2)",
                  rho[positive], fitted,
                  4 * fitted_se / rho[positive] + 1e-6,
                  "4 standard errors of the fitted rate (a fitted log-slope; residuals: the O(rate^(2k)) terms and round-off), "
                  "plus 1e-6")
    resolved = np.abs(slope_c) > 10 * slope_c_se
    yield compare_outcome("from z0 != z* the error carries a factor k: fitted c of (c k + d) rate^(k-1) nonzero "
                          "(> 10 SE) in every case", "c != 0 in every case", "c != 0 in every case" if
                          np.all(resolved) else f"c consistent with 0 in {int(np.sum(~resolved))} cases",
                          "the k rate^(k-1) law (not rate^k) from a start off the fixed point; 10 standard errors "
                          "of the fitted coefficient")
    lin_k, lin_pred, lin_meas = ctx.memo.get("deq.linear_curves", (k, np.full((2, k.size), np.nan),
                                                                     np.full((2, k.size), np.nan)))
    ctx.figure("deq_unrolled_error", {
        "k": k, "predicted_linear_from_z0": np.abs(lin_pred[0]), "measured_linear_from_z0": np.abs(lin_meas[0]),
        "predicted_linear_from_zstar": np.abs(lin_pred[1]), "measured_linear_from_zstar": np.abs(lin_meas[1]),
        "predicted_tanh_from_zstar": np.abs(predicted[3]), "measured_tanh_from_zstar": np.abs(measured[8]),
        "measured_tanh_from_z0": np.abs(measured[3])},
        x="k", ys=("predicted_linear_from_z0", "measured_linear_from_z0", "predicted_linear_from_zstar",
                   "measured_linear_from_zstar", "predicted_tanh_from_zstar", "measured_tanh_from_zstar",
                   "measured_tanh_from_z0"), logy=True,
        title=f"DEQ: |unrolled - implicit gradient| vs unrolled steps k (linear weight {_LINEAR_WEIGHTS[3]}, "
              f"tanh weight {_TANH_WEIGHTS[3]})", ylabel="|dz_k/dweight - dz*/dweight|")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("deq.linear_ift_gradient", "a power of (1 - weight) lost", "drive/(1 - weight)"),
    mistake("deq.linear_unrolled_error", "rho^k from every start (the k (z0 - z*) term dropped)",
            "-weight**k*drive/(1 - weight)**2"),
    mistake("deq.tanh_ift_gradient", "the Jacobian factor (1 - z*^2) dropped from the denominator",
            "fixed_point*(1 - fixed_point**2)/(1 - weight)"),
    mistake("deq.tanh_contraction_rate", "the derivative of tanh forgotten", "weight"),
    mistake("deq.tanh_unrolled_error_from_fixed_point", "rate^(k-1) instead of rate^k",
            "fixed_point*(weight*(1 - fixed_point**2))**(k - 1)*(1 - fixed_point**2)/(weight*(1 - fixed_point**2) - 1)"),
)
