"""Bilevel optimisation: ridge hypergradients three ways; short-horizon bias of the greedy learning rate."""

from __future__ import annotations

import numpy as np

from analytic.bilevel import greedy_schedule, ridge_hypergradient
from numeric import bilevel as sim
from verify.core import Context, check, compare, compare_outcome

_RIDGE, _ETA = 0.1, 0.6  # eta (lam_max + ridge) < 2 for the data below: every mode contracts
_DELTA = 1e-5  # central-difference step in ridge


def _ridge_data(ctx: Context):
    """A small random regression problem (train 24 x 5, validation 16 x 5), float64."""
    rng = np.random.default_rng(1000 + ctx.seed)
    x, x_val = rng.normal(size=(24, 5)), rng.normal(size=(16, 5))
    beta = rng.normal(size=5)
    y, y_val = x @ beta + 0.5 * rng.normal(size=24), x_val @ beta + 0.5 * rng.normal(size=16)
    return (x, y, x_val, y_val), rng.normal(size=5)


@check("bilevel.ridge_hypergradient", smoke=True, uses={
    "weight": "bilevel.ridge_weight", "ift": "bilevel.ift_sensitivity",
    "unrolled_weight": "bilevel.unrolled_weight", "unrolled": "bilevel.unrolled_sensitivity",
    "truncated": "bilevel.truncated_sensitivity"})
def ridge_hypergradient_check(ctx: Context, weight, ift, unrolled_weight, unrolled, truncated):
    """Implicit, unrolled and truncated ridge hypergradients vs jax.grad through a lax.scan loop and finite differences."""
    data, start = _ridge_data(ctx)
    formulas = {"ridge_weight": weight, "ift_sensitivity": ift, "unrolled_weight": unrolled_weight,
                "unrolled_sensitivity": unrolled, "truncated_sensitivity": truncated}

    def predict(method, **kwargs):
        return ridge_hypergradient(*data, _RIDGE, method, formulas=formulas, w0=None if method == "implicit"
                                   else start, **kwargs)

    exact = float(predict("implicit"))
    losses = np.asarray(sim.exact_validation_loss(data, np.array([_RIDGE - _DELTA, _RIDGE + _DELTA])))
    yield compare("implicit (IFT) vs central difference of L_val(w*(ridge))", exact,
                  (losses[1] - losses[0]) / (2 * _DELTA), 1e-7,
                  "central difference, step 1e-5: truncation ~ step^2 |L'''| ~ 1e-10, rounding ~ "
                  "eps L / step ~ 1e-11 (relative to |dL/dridge| ~ 0.1-1)")
    horizon = np.arange(0, 41 if ctx.smoke else 81)
    steps, last = np.meshgrid([10, 40], [1, 3, 10])
    steps, last = steps.ravel(), last.ravel()
    fixed_k = np.maximum(horizon, 3)
    # one vmapped jax.grad call for every (T, K): full backprop (K = T), truncated grid, K = 3, and T = 400
    all_steps = np.concatenate([horizon, steps, fixed_k, [400]])
    all_last = np.concatenate([horizon, last, np.full(horizon.shape, 3), [400]])
    grads = np.asarray(sim.ridge_hypergradients(data, _RIDGE, _ETA, all_steps, all_last, w0=start).hypergradient)
    measured, truncated_measured, fixed_k_measured, long = np.split(
        grads, np.cumsum([horizon.size, steps.size, horizon.size]))
    predicted = predict("unrolled", eta=_ETA, steps=horizon)
    yield compare(f"unrolled T = 1..{horizon[-1]}: closed form vs jax.grad through the loop",
                  predicted[1:], measured[1:], 1e-9,
                  "float64 round-off of T matrix-vector steps and an eigendecomposition: ~1e-13 relative")
    truncated_predicted = predict("truncated", eta=_ETA, steps=steps, truncate=last)
    yield compare("truncated (T, K) in {10, 40} x {1, 3, 10}: closed form vs jax.grad with stop_gradient",
                  truncated_predicted, truncated_measured, 1e-9, "float64 round-off: ~1e-13 relative")
    yield compare("implicit vs jax.grad through T = 400 steps", exact, float(long[0]), 1e-9,
                  "unrolled bias ~ T (1 - eta (lam_min + ridge))^T < 1e-20 at T = 400, plus round-off")
    # finite differences: full unrolling (K = T) at a few T, and the truncated grid (penalty of the last K steps)
    check_steps = horizon[[1, 5, 20, -1]]
    fd_steps, fd_last = np.concatenate([check_steps, steps]), np.concatenate([check_steps, last])
    shifted = np.asarray(sim.validation_loss(data, _RIDGE, _ETA, fd_steps[None], w0=start, last=fd_last[None],
                                             ridge_last=np.array([[_RIDGE + _DELTA], [_RIDGE - _DELTA]])))
    differences = (shifted[0] - shifted[1]) / (2 * _DELTA)
    yield compare(f"unrolled T = {[int(v) for v in check_steps]}: closed form vs central difference",
                  predicted[check_steps], differences[:check_steps.size], 1e-6,
                  "central difference, step 1e-5: truncation and rounding errors ~1e-10 absolute on "
                  "hypergradients of order 0.1-1")
    yield compare("truncated: closed form vs central difference in the last K steps' penalty",
                  truncated_predicted, differences[check_steps.size:], 1e-6,
                  "central difference, step 1e-5 (as above); truncated backprop = d/dridge of the last K steps only")
    bias_predicted = np.abs(predicted - exact)
    # measured bias: jax.grad through T steps minus jax.grad through the exact linear solve (both numeric)
    autodiff_exact = float(sim.exact_hypergradient(data, _RIDGE))
    yield compare("implicit vs jax.grad through the exact linear solve", exact, autodiff_exact, 1e-10,
                  "float64 round-off of a 5 x 5 solve and an eigendecomposition")
    bias_measured = np.abs(measured - autodiff_exact)
    resolved = bias_predicted > 1e-12  # above the round-off of the two hypergradients
    yield compare(f"unrolled bias |unrolled - implicit| at {int(resolved.sum())} values of T",
                  bias_predicted[resolved], bias_measured[resolved],
                  1e-13 / bias_predicted[resolved] + 1e-6,
                  "float64 round-off of each hypergradient ~1e-14 absolute, plus 1e-6 relative")
    fixed_k_predicted = predict("truncated", eta=_ETA, steps=fixed_k, truncate=3)
    ctx.figure("bilevel_hypergradient_bias", {
        "T": horizon[1:], "predicted_unrolled": bias_predicted[1:],
        "predicted_truncated_K3": np.abs(fixed_k_predicted - exact)[1:],
        "measured_unrolled": bias_measured[1:], "measured_truncated_K3": np.abs(fixed_k_measured - autodiff_exact)[1:]},
        x="T", ys=("predicted_unrolled", "predicted_truncated_K3", "measured_unrolled", "measured_truncated_K3"),
        logy=True, title=f"ridge hypergradient bias vs unrolled steps T (eta={_ETA}, ridge={_RIDGE})",
        ylabel="|dL_val/dridge - implicit (IFT) value|")


def _nqm(ctx: Context):
    """Three curvatures a decade apart, noise proportional to curvature, E theta_0^2 = 1."""
    lam = np.array([1.0, 0.1, 0.01])
    return lam, lam.copy(), np.ones(3)


@check("bilevel.short_horizon_bias", smoke=True, uses={
    "numerator": "bilevel.greedy_lr_numerator", "denominator": "bilevel.greedy_lr_denominator",
    "moment": "bilevel.next_second_moment", "schedule_1d": "bilevel.greedy_schedule_1d"})
def short_horizon_bias(ctx: Context, numerator, denominator, moment, schedule_1d):
    """The greedy learning rate is one-step optimal, and decays faster than the horizon-optimal schedule."""
    lam, noise, m0 = _nqm(ctx)
    horizon = 60 if ctx.smoke else 100 if ctx.quick else 400
    rates, losses = greedy_schedule(lam, noise, m0, horizon, numerator=numerator, denominator=denominator,
                                    moment=moment)
    rates, losses = np.asarray(rates), np.asarray(losses)
    searched = np.asarray(sim.greedy_schedule_by_line_search(lam, noise, m0, horizon))
    yield compare(f"greedy rate, t = 0..{horizon - 1}: closed form vs numerical one-step minimiser",
                  rates, searched, 1e-9,
                  "Newton's method on the exact next expected loss (a quadratic in the rate): round-off only")
    one_d = np.asarray(schedule_1d(lam=2.0, noise=0.5, m0=1.0, t=np.arange(horizon, dtype=float)))
    yield compare(f"one dimension: greedy schedule closed form vs numerical minimiser, t = 0..{horizon - 1}",
                  one_d, np.asarray(sim.greedy_schedule_by_line_search(2.0, 0.5, 1.0, horizon)), 1e-9,
                  "round-off only (the numerical schedule iterates exact moments)")
    chains = 2000 if ctx.smoke else 8000 if ctx.quick else 100_000
    run = sim.sgd_with_schedule(ctx.key("bilevel.short_horizon_bias"), lam, noise, m0, rates, chains)
    times = np.array([1, horizon // 4, horizon // 2, horizon])
    yield compare(f"greedy schedule's expected loss at t = {[int(v) for v in times]} vs Monte Carlo ({chains} chains)",
                  losses[times], np.asarray(run.loss_mean)[times], 4 * np.asarray(run.loss_sem)[times],
                  "4 Monte Carlo standard errors", relative=False)
    optimal = sim.horizon_optimal_schedule(lam, noise, m0, horizon, initial_lr=float(rates[0]))
    optimal_losses = np.asarray(sim.nqm_expected_losses(lam, noise, m0, optimal))
    early = slice(0, int(0.8 * horizon))
    yield compare_outcome(f"greedy rate below the horizon-optimal rate at every t < {early.stop}",
                          "greedy lower", "greedy lower" if np.all(rates[early] < optimal[early]) else
                          f"greedy higher at {int(np.sum(rates[early] >= optimal[early]))} steps",
                          "the short-horizon bias claim (Wu et al. 2018, sec. 3): the greedy rate decays too fast")
    mc_optimal = sim.sgd_with_schedule(ctx.key("bilevel.short_horizon_bias/optimal"), lam, noise, m0, optimal, chains)
    gap = float(run.loss_mean[-1] - mc_optimal.loss_mean[-1])
    gap_error = float(np.hypot(run.loss_sem[-1], mc_optimal.loss_sem[-1]))
    yield compare_outcome(f"final loss at T = {horizon}: greedy above horizon-optimal (Monte Carlo, > 4 SE)",
                          "greedy higher", "greedy higher" if gap > 4 * gap_error else
                          f"not resolved (gap {gap:.3g} +- {gap_error:.2g})",
                          "the cost of the short-horizon bias; 4 standard errors of the difference")
    yield compare(f"final loss ratio greedy / horizon-optimal at T = {horizon}: exact vs Monte Carlo",
                  losses[-1] / optimal_losses[-1], float(run.loss_mean[-1] / mc_optimal.loss_mean[-1]),
                  4 * np.hypot(run.loss_sem[-1] / run.loss_mean[-1], mc_optimal.loss_sem[-1] / mc_optimal.loss_mean[-1]),
                  "4 standard errors of the ratio of two independent Monte Carlo means")
    short = horizon // 5
    yield compare_outcome(f"at a short horizon t = {short} the greedy schedule's loss is lower",
                          "greedy lower", "greedy lower" if losses[short] < optimal_losses[short] else "greedy higher",
                          "why a short-horizon meta-objective prefers the greedy (too small) rates")
    ctx.figure("bilevel_short_horizon_schedules", {
        "step": np.arange(horizon), "predicted_greedy": rates, "measured_greedy": searched,
        "measured_horizon_optimal": optimal},
        x="step", ys=("predicted_greedy", "measured_greedy", "measured_horizon_optimal"), logy=True,
        title=f"NQM (lam = 1, 0.1, 0.01): greedy vs horizon-optimal learning rate, T = {horizon}",
        ylabel="learning rate (greedy: closed form vs line search; horizon-optimal: L-BFGS)")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate bilevel --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("bilevel.ift_sensitivity", "a power of (lam + ridge) lost", "-b/(lam + ridge)"),
    mistake("bilevel.unrolled_sensitivity", "the T r^(T-1) term's sign flipped",
            "T*eta*(-b + w0*(lam + ridge))*(-eta*(lam + ridge) + 1)**(T - 1)/(lam + ridge) + "
            "b*(-eta*(lam + ridge) + 1)**T/(lam + ridge)**2 - b/(lam + ridge)**2"),
    mistake("bilevel.greedy_lr_denominator", "the noise counted twice", "lam*(lam**2*second_moment + 2*noise)"),
)
