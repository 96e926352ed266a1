"""Edge-of-stability mechanisms: the minimalist example's GD vs its derived maps; grad lam_max = nabla^3 L[u, u];
Damian et al.'s self-stabilisation map vs GD on an MLP at the edge."""

from __future__ import annotations

import numpy as np

from numeric import eos_mechanisms as sim
from verify.core import Context, check, compare, compare_outcome

_START_PRODUCT = 1.05  # x0 y0: 5% off the valley of minima
_SHARPNESS_RATIOS = (0.7, 1.2, 2.0)  # the start's nearest-minimum sharpness over 2/eta
_EDGE_WINDOW = 0.03  # "at the edge": final sharpness in [(1 - 3%) 2/eta, 2/eta]


def _grid(ctx: Context):
    rates = (0.1, 0.3, 0.45, 0.6) if ctx.quick else (0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.49, 0.55, 0.6, 0.8)
    eta, ratio = (v.ravel() for v in np.meshgrid(rates, _SHARPNESS_RATIOS))
    imbalance = np.sqrt(np.maximum((ratio / eta) ** 2 - 4, 0.0))  # valley sharpness 2 sqrt(d^2 + 4) = ratio 2/eta
    x0 = np.sqrt((imbalance + np.sqrt(imbalance**2 + 4 * _START_PRODUCT**2)) / 2)
    return eta, x0, _START_PRODUCT / x0, imbalance


@check("eos_mechanisms.minimalist", smoke=True, uses={
    "factor": "eos_mechanisms.imbalance_factor", "sharpness": "eos_mechanisms.valley_sharpness",
    "multiplier": "eos_mechanisms.product_multiplier", "edge": "eos_mechanisms.edge_imbalance",
    "threshold": "eos.gd_sharpness_threshold"})
def minimalist(ctx: Context, factor, sharpness, multiplier, edge, threshold):
    """GD on (1 - x^2 y^2)^2/4 over a grid of learning rates and starts: imbalance factor, valley sharpness, outcome."""
    eta, x0, y0, _ = _grid(ctx)
    steps = 3000 if ctx.quick else 40_000  # eta = 0.05 needs ~1/eta^2 steps to settle after the oscillation
    run = ctx.measure(sim.minimalist_gd, x0, y0, eta, steps)
    finite = ~run.diverged
    x, y = run.x[finite], run.y[finite]
    p, d = x * y, x**2 - y**2
    rates = np.broadcast_to(eta[finite][:, None], p.shape)[:, :-1]
    keep = np.abs(d[:, :-1]) > 1e-3  # the ratio d'/d is resolved
    predicted = np.asarray(factor(eta=rates[keep], product=p[:, :-1][keep]))
    measured = d[:, 1:][keep] / d[:, :-1][keep]
    yield compare(f"imbalance factor d'/d = 1 - eta^2 (1 - p^2)^2 p^2 over {predicted.size} GD steps",
                  predicted, measured, 1e-9,
                  "float64 round-off of one GD step and a ratio of differences of squares (|d| > 1e-3)")
    on_valley = np.abs(p[:, -1] - 1) < 1e-10  # converged to a minimum x y = 1
    hessian_top = run.final_sharpness[finite][on_valley]
    predicted_top = np.asarray(sharpness(imbalance=d[on_valley, -1]))
    yield compare(f"valley sharpness 2 sqrt(d^2 + 4) vs jax.hessian's top eigenvalue at {int(on_valley.sum())} "
                  "converged points", predicted_top, hessian_top, 1e-8,
                  "float64 round-off of a 2 x 2 eigenvalue, plus the residual |xy - 1| < 1e-10 times ~3 s")
    # the multiplier at the minimum GD converges to: (p_{t+1} - 1)/(p_t - 1) once |p - 1| ~ 1e-6
    late_pred, late_meas, late_tol = [], [], []
    for i in np.nonzero(~run.diverged)[0]:
        offset = run.x[i] * run.y[i] - 1
        late = np.nonzero((np.abs(offset[:-1]) > 1e-7) & (np.abs(offset[:-1]) < 1e-5))[0]
        if late.size:
            t = late[-1]
            late_pred.append(float(multiplier(eta=eta[i], imbalance=run.x[i, t] ** 2 - run.y[i, t] ** 2)))
            late_meas.append(offset[t + 1] / offset[t])
            late_tol.append(20 * abs(offset[t]) + 1e-15 / abs(offset[t]))
    yield compare(f"product multiplier 1 - 2 eta sqrt(d^2 + 4) vs GD's (p' - 1)/(p - 1) near convergence, "
                  f"{len(late_pred)} runs", late_pred, late_meas, late_tol,
                  "second-order terms of the product map: O(|p - 1|) < 1e-5 times coefficients below 20; "
                  "float64 round-off 1e-16 / |p - 1|", relative=False)
    start_multiplier = np.asarray(multiplier(eta=eta, imbalance=_grid(ctx)[3]))
    limit = np.asarray(threshold(eta=eta))
    start_sharpness = 2 * np.sqrt(_grid(ctx)[3] ** 2 + 4)
    outcomes_p, outcomes_m, settled = [], [], np.zeros(eta.size, bool)
    for i in range(eta.size):
        edge_exists = eta[i] < 0.5 and np.isfinite(float(edge(eta=min(eta[i], 0.49))))
        if start_multiplier[i] > -1:
            outcomes_p.append("converges at its start's minimum")
        elif edge_exists:
            outcomes_p.append("converges at the edge")
        else:
            outcomes_p.append("does not converge")
        px = run.x[i, -2:] * run.y[i, -2:]
        converged = not run.diverged[i] and np.all(np.abs(np.abs(px) - 1) < 1e-4)  # settled on the valley
        settled[i] = converged
        s = run.final_sharpness[i]
        if not converged:
            outcomes_m.append("does not converge")
        elif abs(s - start_sharpness[i]) < _EDGE_WINDOW * start_sharpness[i]:
            outcomes_m.append("converges at its start's minimum")
        elif (1 - _EDGE_WINDOW) * limit[i] <= s <= limit[i]:
            outcomes_m.append("converges at the edge")
        else:
            outcomes_m.append(f"converges at sharpness {s:.4g} (2/eta = {limit[i]:.4g})")
    for label, expected in (("converges at the edge", True), ("converges at its start's minimum", True),
                            ("does not converge", True)):
        chosen = [i for i in range(eta.size) if outcomes_p[i] == label]
        measured_set = sorted({outcomes_m[i] for i in chosen})
        yield compare_outcome(f"{len(chosen)} runs predicted '{label}' (rates {sorted(set(eta[chosen].tolist()))})",
                              label, " / ".join(measured_set) if measured_set else label,
                              f"multiplier 1 - 2 eta sqrt(d0^2 + 4) vs -1 at the start's minimum; the edge minimum "
                              f"exists iff eta < 1/2; 'at the edge' = final sharpness within {_EDGE_WINDOW:.0%} "
                              f"below 2/eta (the grid resolution of the classification)")
    at_edge = np.array([o == "converges at the edge" for o in outcomes_p]) & settled
    gap = (limit[at_edge] - run.final_sharpness[at_edge]) / limit[at_edge]
    yield compare_outcome(f"final sharpness at or below 2/eta in all {int(at_edge.sum())} edge runs "
                          f"(measured gaps {np.round(gap, 4).tolist()})", "below", "below" if np.all(gap >= 0)
                          else "above", "a stable minimum needs multiplier >= -1: sharpness <= 2/eta exactly")
    final_d = np.abs(run.x[at_edge, -1] ** 2 - run.y[at_edge, -1] ** 2)
    d_edge = np.asarray(edge(eta=eta[at_edge]))
    inside = np.all((final_d <= d_edge) & (final_d >= (1 - 2 * _EDGE_WINDOW) * d_edge))
    yield compare_outcome(f"final imbalance |x^2 - y^2| of the edge runs vs the edge minimum's sqrt(1/eta^2 - 4) "
                          f"(ratios {np.round(final_d / d_edge, 4).tolist()})", "just below", "just below" if inside
                          else "outside", f"within {2 * _EDGE_WINDOW:.0%} below: the sharpness window of "
                          f"{_EDGE_WINDOW:.0%} maps to about twice that in d (dS/S = (d^2/(d^2+4)) dd/d)")
    path = int(np.argmax(at_edge))
    shown = np.arange(0, 801)  # the first 800 steps: the period-2 oscillation and the fall of the sharpness
    xs, ys = run.x[path, shown], run.y[path, shown]
    ctx.figure("eos_mechanisms_minimalist", {
        "step": shown, "measured_nearest_minimum_sharpness": 2 * np.sqrt((xs**2 - ys**2) ** 2 + 4),
        "measured_iterate_sharpness": 2 * (xs**2 + ys**2),
        "predicted_edge_2_over_eta": np.full(shown.shape, float(limit[path]))},
        x="step", ys=("predicted_edge_2_over_eta", "measured_nearest_minimum_sharpness", "measured_iterate_sharpness"),
        title=f"minimalist loss, eta={eta[path]}: GD oscillates across the valley while the nearest "
              f"minimum's sharpness 2 sqrt(d^2+4) falls to 2/eta",
        ylabel="sharpness (2 sqrt(d^2 + 4); 2 (x^2 + y^2) of the iterate)")


@check("eos_mechanisms.sharpness_gradient", smoke=True, no_formula=(
    "the identity grad lam_max = nabla^3 L[u, u] is measured on the simulation itself: nested jax.jvp "
    "against finite differences of lam_max, no closed form enters"),
    cites="Damian, Nichani, Lee 2023, arXiv:2209.15594v2, sec. 3 (self-stabilisation)")
def sharpness_gradient(ctx: Context):
    """grad lam_max = nabla^3 L[u, u] by nested jvp vs central differences of lam_max on a small tanh MLP."""
    result = ctx.measure(sim.sharpness_gradient, ctx.key("eos_mechanisms.sharpness_gradient"),
                         directions=4 if ctx.quick else 16)
    h_error = np.abs(result.difference_h - result.difference_2h) / 3  # Richardson: D_h - D_2h = -3 C h^2
    tolerance = 4 * h_error + 1e-9 + 1e-12 / 1e-3
    yield compare(f"v . nabla^3 L[u, u] vs (lam_max(theta + h v) - lam_max(theta - h v)) / 2h, "
                  f"{result.predicted.size} directions (eigen-gap {result.eigen_gap:.2g})",
                  result.predicted, result.difference_h, tolerance,
                  "central difference at h = 1e-3: truncation C h^2 estimated by Richardson from two step sizes "
                  "(x4), plus float64 round-off of eigh / h", relative=False)


# The network is part of the setup: PRNGKey(k)'s draw. Of keys 0-39 at these sizes, eight (2, 11, 12, 24,
# 26, 32, 34, 37) reach 2/eta by progressive sharpening after the initial transient (crossing after
# step 40) rather than during it. The rows were developed on key 12 (quick); full size runs all eight.
_STAB_KEYS = (12,)
_STAB_KEYS_FULL = (2, 11, 12, 24, 26, 32, 34, 37)
# float64 round-off of the step comparisons: gradients (relative 1e-16) differenced, and differences of
# parameters of size ~1 (absolute ~1e-16 each, a few dozen terms), with a margin
_ROUND_OFF, _ROUND_OFF_ABS = 1e-12, 1e-13


def _stab_runs(ctx: Context):
    import jax

    keys = _STAB_KEYS if ctx.quick else _STAB_KEYS_FULL
    return [ctx.measure(sim.self_stabilisation, jax.random.PRNGKey(k), steps=420 if ctx.quick else 600,
                        window=80 if ctx.quick else 160) for k in keys]


@check("eos_mechanisms.self_stabilisation", uses={
    "x_step": "eos_mechanisms.self_stabilisation_displacement_step",
    "y_step": "eos_mechanisms.self_stabilisation_sharpness_step",
    "amplitude": "eos_mechanisms.self_stabilisation_amplitude"})
def self_stabilisation(ctx: Context, x_step, y_step, amplitude):
    """GD on a tanh MLP through progressive sharpening, blow-up, self-stabilisation and return: the
    cubic model's map (x, y) -> (x', y') at every step of the event, and |x| = sqrt(2 alpha / beta)
    where the sharpness turns."""
    runs = _stab_runs(ctx)
    for run in runs:
        if run.start < 0:
            yield compare_outcome(f"GD reaches the edge and comes back below it (crossing step {run.crossing})",
                                  "crosses and returns", "no return within the run", "the event is what is measured")
            return
    eta = runs[0].learning_rate
    cat = lambda f: np.concatenate([f(r) for r in runs])  # noqa: E731  (all runs' windows in one row)
    x, s = cat(lambda r: r.displacement), cat(lambda r: r.centre_sharpness)
    rate, strength = cat(lambda r: r.sharpening_rate), cat(lambda r: r.stabilisation_strength)
    y = s - 2 / eta
    # one GD step in the model's coordinates about each step's centre c_t (see numeric)
    measured_x = cat(lambda r: r.next_displacement)
    predicted_x = np.asarray(x_step(eta=eta, displacement=x, sharpness_excess=y))
    dropped_x = eta * (np.abs(cat(lambda r: r.secant_curvature[0]) - s) * np.abs(x)
                       + np.abs(cat(lambda r: r.even_gradient_along_u[0]))
                       + np.abs(cat(lambda r: r.offset_gradient_along_u)))
    yield compare(f"x' = -(1 + eta y) x vs GD's next displacement along u, every step of {len(runs)} event(s) "
                  f"({x.size} steps, |x| from {np.abs(x).min():.1e} to {np.abs(x).max():.2f}; relative deviation "
                  f"median {np.median(np.abs(measured_x / predicted_x - 1)):.1e}, 90th percentile "
                  f"{np.percentile(np.abs(measured_x / predicted_x - 1), 90):.1e})",
                  predicted_x, measured_x, dropped_x + _ROUND_OFF * np.abs(measured_x) + _ROUND_OFF_ABS,
                  "Taylor terms the 2-D model drops, measured at each step: eta (|secant - centre curvature| |x| "
                  "(quartic), the even force along u (u . grad S x^2 / 2), the force from the iterate's offset "
                  "off the line c + R u); float64 round-off", relative=False)
    measured_y = y + cat(lambda r: r.sharpness_direction_step)
    predicted_y = np.asarray(y_step(eta=eta, sharpness_excess=y, sharpening_rate=rate,
                                    stabilisation_strength=strength, displacement=x))
    even, even_twice = cat(lambda r: r.even_rate[0]), cat(lambda r: r.even_rate[1])
    quartic = np.abs(even_twice - 4 * even + 3 * rate) / 12  # Richardson from |x| and 2|x|
    dropped_y = eta * (2 * quartic + np.abs(cat(lambda r: r.odd_rate[0])) + np.abs(cat(lambda r: r.offset_rate)))
    step_y = measured_y - y
    yield compare(f"y' = y + eta (alpha - beta x^2 / 2) vs GD's step along grad S_perp, every step "
                  f"(alpha from {rate.min():.1e} to {rate.max():.1e}, beta {strength.min():.2f} to "
                  f"{strength.max():.2f}; deviation over the step: median "
                  f"{np.median(np.abs(measured_y - predicted_y) / np.abs(step_y)):.1e}, 90th percentile "
                  f"{np.percentile(np.abs(measured_y - predicted_y) / np.abs(step_y), 90):.1e})", predicted_y, measured_y,
                  dropped_y + _ROUND_OFF * (np.abs(step_y) + np.abs(y)) + _ROUND_OFF_ABS,
                  "Taylor terms the 2-D model drops, measured at each step: the quartic x^4 term (Richardson "
                  "from the loss probed at |x| and 2|x|, x2), the part of the force odd in x, the force from the "
                  "iterate's offset off the line c + R u; float64 round-off", relative=False)
    # where GD's sharpness step changes sign, |x| should be sqrt(2 alpha / beta)
    offset = 0
    for run in runs:
        n = run.displacement.size
        step = run.sharpness_direction_step
        predicted_amp = np.asarray(amplitude(sharpening_rate=np.maximum(run.sharpening_rate, 1e-300),
                                             stabilisation_strength=run.stabilisation_strength))
        drop = dropped_y[offset: offset + n]
        for t in np.nonzero(np.sign(step[:-1]) * np.sign(step[1:]) < 0)[0][:2]:
            kind = "peak" if step[t] > 0 else "trough"
            lo, hi = run.displacement[t] ** 2, run.displacement[t + 1] ** 2
            # the zero of GD's y step, linear in x^2 between the two steps (exact for a step affine in x^2)
            turn = np.sqrt(lo + (hi - lo) * step[t] / (step[t] - step[t + 1]))
            strength_here = min(run.stabilisation_strength[t: t + 2])
            shift = max(drop[t], drop[t + 1]) / (eta * strength_here * turn)
            yield compare(f"|x| = sqrt(2 alpha / beta) where GD's sharpness turns ({kind} between steps "
                          f"{run.start + t} and {run.start + t + 1}, |x| {np.sqrt(lo):.3g} -> {np.sqrt(hi):.3g})",
                          (predicted_amp[t] + predicted_amp[t + 1]) / 2, turn,
                          abs(predicted_amp[t + 1] - predicted_amp[t]) / 2 + shift,
                          "discretisation: the turn (zero of GD's y step, interpolated linearly in x^2) falls "
                          "between two steps over which alpha and beta change (half the change of sqrt(2 alpha / "
                          "beta)); Taylor: the dropped terms of the y step (row above) shift the zero by their "
                          "size / (eta beta |x|)", relative=False)
        offset += n
    run = runs[0]
    steps = run.start + np.arange(run.displacement.size)
    window_y = run.centre_sharpness - 2 / eta
    next_y = np.asarray(y_step(eta=eta, sharpness_excess=window_y, sharpening_rate=run.sharpening_rate,
                               stabilisation_strength=run.stabilisation_strength, displacement=run.displacement))
    next_x = np.asarray(x_step(eta=eta, displacement=run.displacement, sharpness_excess=window_y))
    ctx.figure("eos_mechanisms_self_stabilisation", {
        "step": steps[1:],
        "measured_sharpness_above_2_over_eta": window_y[1:],
        "predicted_sharpness_above_2_over_eta": next_y[:-1],
        "measured_abs_displacement": np.abs(run.displacement[1:]),
        "predicted_abs_displacement": np.abs(next_x[:-1]),
        "predicted_sqrt_2alpha_over_beta": np.asarray(amplitude(
            sharpening_rate=np.maximum(run.sharpening_rate, 1e-300),
            stabilisation_strength=run.stabilisation_strength))[1:]},
        x="step", ys=("measured_sharpness_above_2_over_eta", "predicted_sharpness_above_2_over_eta",
                      "measured_abs_displacement", "predicted_abs_displacement", "predicted_sqrt_2alpha_over_beta"),
        title=f"tanh MLP at the edge, eta={eta}: markers GD, lines the map",
        ylabel="y = S - 2/eta;  |x| = |u . (theta - c)|", reference={"hline": 0.0})



from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("eos_mechanisms.imbalance_factor", "the square on (1 - p^2) lost",
            "1 - eta**2*(1 - product**2)*product**2"),
    mistake("eos_mechanisms.valley_sharpness", "the Hessian's factor 2 dropped", "sqrt(imbalance**2 + 4)"),
    mistake("eos_mechanisms.product_multiplier", "the stability line at sharpness 1/eta", "1 - 4*eta*sqrt(imbalance**2 + 4)"),
    mistake("eos_mechanisms.edge_imbalance", "the square root of d^2 = 1/eta^2 - 4 halved",
            "sqrt(1 - 4*eta**2)/(2*eta)"),
    mistake("eos_mechanisms.self_stabilisation_displacement_step", "the sharpness excess entering with the wrong sign",
            "-(1 - eta*sharpness_excess)*displacement"),
    mistake("eos_mechanisms.self_stabilisation_sharpness_step", "the 1/2 of the cubic term lost",
            "sharpness_excess + eta*(sharpening_rate - stabilisation_strength*displacement**2)"),
    mistake("eos_mechanisms.self_stabilisation_amplitude", "the factor 2 under the root lost",
            "sqrt(sharpening_rate/stabilisation_strength)"),
)
