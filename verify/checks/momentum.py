"""Momentum: spectral radii, tuning, worst-case rates and step counts against direct runs."""

from __future__ import annotations

import numpy as np

from analytic.momentum import steps_to_eps as count_steps
from numeric import momentum as sim
from verify.core import Context, check, compare, compare_outcome, symbolic_only

symbolic_only({
    "momentum.heavy_ball_regime_boundaries": "where the two roots meet (a double root): checked in "
    "tests/test_momentum.py against numpy eigenvalues exactly at the boundaries; no training run "
    "measures a discriminant's zero",
    "momentum.nesterov_regime_boundaries": "as for heavy ball: the double-root step sizes, checked "
    "against numpy eigenvalues in tests/test_momentum.py",
})

_FLOOR = 1e-10  # a mode is read only while above this fraction of the total error (round-off)
_OSCILLATION = ("the two-step state norm of a complex mode oscillates by a bounded factor g, so the "
                "fitted log-rate is off by <= log(g_max/g_min)/window; the log(1+t) term of the fit "
                "absorbs the t*rho^t prefactor of double roots")


def _measured_rates(trajectory: sim.Trajectory, min_points: int):
    """Per-mode rates (NaN where not resolvable above round-off) and worst-case rates."""
    modes = np.swapaxes(np.asarray(sim.state_log_norms(trajectory.log_mode_errors)), -1, -2)
    floor = np.asarray(trajectory.log_errors)[..., None, :] + np.log(_FLOOR)
    per_mode = sim.contraction_rate(modes, floor=floor, min_points=min_points)
    return np.asarray(per_mode), np.asarray(sim.contraction_rate(trajectory.log_errors))


_SIGN_ONLY = ("used only for its sign, to split the per-mode rows into real and complex roots; "
              "scaling by 11/10 keeps every sign (the radius it splits is what the rows test)")  # (kept
# for callers; the check now also compares the discriminant's value with the measured transition matrix)


@check("momentum.spectral_radius_grid",
       uses={"heavy_ball": "momentum.heavy_ball_spectral_radius",
             "nesterov": "momentum.nesterov_spectral_radius",
             "heavy_ball_discriminant": "momentum.heavy_ball_discriminant",
             "nesterov_discriminant": "momentum.nesterov_discriminant"},
       smoke=True)
def spectral_radius_grid(ctx: Context, heavy_ball, nesterov, heavy_ball_discriminant,
                         nesterov_discriminant):
    """Per-mode and worst-case measured contraction vs spectral radius over an (alpha, beta) grid."""
    formulas = {"heavy_ball": heavy_ball, "nesterov": nesterov}
    discriminants = {"heavy_ball": heavy_ball_discriminant, "nesterov": nesterov_discriminant}
    n, steps = {"smoke": (5, 800), "quick": (10, 800), "full": (32, 2000)}[ctx.size]
    lams = np.array([0.5, 1.0, 2.0, 4.0])
    quadratic = sim.quadratic_with_spectrum(ctx.key("spectral_radius_grid"), lams)
    alphas = np.linspace(0.03, 0.97, n)  # alpha * lam spans [0.015, 3.9]: all regimes
    betas = np.linspace(0.0, 1.1, n)
    A, B = np.meshgrid(alphas, betas, indexing="ij")
    for method, radius in formulas.items():
        predicted = np.asarray(radius.jax(A[..., None], B[..., None], lams))
        discriminant = np.asarray(discriminants[method].jax(A[..., None], B[..., None], lams))
        regimes = np.sign(discriminant)
        # The discriminant itself (not only its sign): tr^2 - 4 det of each mode's transition matrix,
        # measured by one step of the method from the two basis states.
        trace, det = map(np.asarray, sim.transition_trace_det(method, lams, A[..., None], B[..., None]))
        yield compare(f"{method} discriminant tr^2 - 4 det of the measured transition matrix ({n}x{n}x"
                      f"{lams.size} modes)", discriminant, trace**2 - 4 * det,
                      16 * np.finfo(float).eps * (1 + trace**2 + 4 * np.abs(det)),
                      "float64 round-off: <= 16 eps on the scale of the terms (1 + tr^2 + 4|det|)",
                      relative=False, category="round-off")
        run = ctx.measure(sim.sweep, method, quadratic, alphas, betas, steps)
        per_mode, worst = _measured_rates(run, min_points=150)
        ok = np.isfinite(per_mode)
        for code, name in ((1, "real"), (-1, "complex")):
            pick = ok & (regimes == code)
            yield compare(f"{method} per-mode, {name} roots ({pick.sum()} modes)", predicted[pick],
                          per_mode[pick], 0.01, _OSCILLATION + f"; modes read over >= 150 steps above "
                          f"{_FLOOR:g} of the total (float64 round-off)", relative=False)
        yield compare(f"{method} worst case ({n}x{n} grid)", predicted.max(-1), worst, 0.003,
                      _OSCILLATION + f"; window {steps} steps", relative=False)
        top = predicted.max(-1)
        clear = np.abs(np.log(top)) > 0.01  # beyond 1% of the boundary the run resolves the sign
        mismatches = int(np.sum((top[clear] > 1) != np.asarray(run.diverged)[clear]))
        yield compare_outcome(f"{method} diverges iff radius > 1 ({clear.sum()} points)", "0 mismatches",
                              f"{mismatches} mismatches", "categorical; points within 1% of radius 1 "
                              f"are left out (growth over {steps} steps ambiguous at double roots)")
        ctx.figure(f"momentum_{method}_rate_heatmap", {"alpha": A, "beta": B, "predicted": top,
                                                       "measured": worst}, x="alpha",
                   ys=("predicted", "measured"), grid_y="beta",
                   title=f"{method}: worst-case rate over lam in {lams.tolist()}, kappa = 8",
                   reference={"contour": 1.0})


def _worst_rate(method, kappa, alpha, beta, ctx, salt, steps, loss=False):
    """Measured per-step contraction of ||x_t - x*|| (and, with ``loss``, of the excess loss
    sum_i lam_i e_i^2 / 2 from the same run's mode errors)."""
    lams = np.geomspace(1.0, kappa, 6)
    quadratic = sim.quadratic_with_spectrum(ctx.key(salt), lams)
    run = ctx.measure(sim.run, method, quadratic, alpha, beta, steps)
    rates = np.asarray(sim.contraction_rate(run.log_errors))
    if not loss:
        return rates
    log_loss = np.logaddexp.reduce(2 * np.asarray(run.log_mode_errors) + np.log(lams / 2), axis=-1)
    return rates, np.asarray(sim.contraction_rate(log_loss))


@check("momentum.heavy_ball_optimal",
       uses={"rate": "momentum.heavy_ball_optimal_rate",
             "loss_rate": "momentum.heavy_ball_optimal_loss_rate",
             "optimal_alpha": "momentum.heavy_ball_optimal_alpha",
             "optimal_beta": "momentum.heavy_ball_optimal_beta"}, smoke=True)
def heavy_ball_optimal(ctx: Context, rate, loss_rate, optimal_alpha, optimal_beta):
    """Optimal heavy ball beats its grid neighbours; its error contracts at heavy_ball_optimal_rate
    per step and its loss at heavy_ball_optimal_loss_rate (the square)."""
    kappas = {"smoke": (10.0,), "quick": (10.0, 100.0), "full": (10.0, 100.0, 1000.0)}[ctx.size]
    steps = int(40 * np.sqrt(max(kappas))) + 200  # one length: one compilation
    for kappa in kappas:
        a0, b0 = float(optimal_alpha(mu=1.0, L=kappa)), float(optimal_beta(kappa=kappa))
        alphas = a0 * np.array([1.0, 0.95, 1.05, 1.0, 1.0, 0.95, 1.05, 0.95, 1.05])
        betas = np.clip(b0 + np.array([0.0, 0, 0, -0.02, 0.02, -0.02, 0.02, 0.02, -0.02]), 0, None)
        rates, loss_rates = _worst_rate("heavy_ball", kappa, alphas, betas, ctx, f"hb_optimal/{kappa}",
                                        steps, loss=True)
        yield compare(f"kappa={kappa:g} rate at optimum", float(rate(kappa=kappa)), rates[0], 0.003,
                      _OSCILLATION + f"; window {steps} steps")
        yield compare(f"kappa={kappa:g} loss rate at optimum", float(loss_rate(kappa=kappa)), loss_rates[0],
                      0.006, "the loss rate is the square of the error rate: twice its relative "
                      "error; " + _OSCILLATION)
        beaten = int(np.sum(rates[1:] <= rates[0]))
        yield compare_outcome(f"kappa={kappa:g} optimum beats its 8 neighbours", "0 beaten",
                              f"{beaten} beaten", "categorical; neighbours at alpha*(1 +- 5%), "
                              "beta +- 0.02 are worse by far more than the measurement error")


@check("momentum.nesterov_rate",
       uses={"rate": "momentum.nesterov_rate", "bound": "momentum.nesterov_textbook_bound"},
       smoke=True)
def nesterov_rate(ctx: Context, rate, bound):
    """Tuned Nesterov's measured worst-case rate vs nesterov_rate (and the textbook bound)."""
    kappas = {"smoke": (10.0,), "quick": (10.0, 100.0), "full": (10.0, 100.0, 1000.0)}[ctx.size]
    steps = int(40 * np.sqrt(max(kappas))) + 200  # one length: one compilation
    for kappa in kappas:
        root = np.sqrt(kappa)
        measured = float(_worst_rate("nesterov", kappa, 1.0 / kappa, (root - 1) / (root + 1), ctx,
                                     f"nesterov_rate/{kappa}", steps))
        yield compare(f"kappa={kappa:g}", float(rate(kappa=kappa)), measured, 0.003,
                      _OSCILLATION + f"; window {steps} steps")
        yield compare(f"kappa={kappa:g} textbook 1 - 1/sqrt(kappa)", float(bound(kappa=kappa)),
                      measured, 0.003, "the textbook bound is attained on quadratics; same window")


_METHODS = ("gd", "heavy_ball", "nesterov")
_RATES = {"gd": "momentum.gd_optimal_rate", "heavy_ball": "momentum.heavy_ball_optimal_rate",
          "nesterov": "momentum.nesterov_rate"}


@check("momentum.steps_to_eps",
       uses={**{f"{m}_error": f"momentum.{m}_slowest_mode_error" for m in _METHODS},
             **{f"{m}_leading": f"momentum.{m}_steps" for m in _METHODS},
             **{f"{m}_rate": _RATES[m] for m in _METHODS}}, smoke=True)
def steps_to_eps(ctx: Context, gd_error, heavy_ball_error, nesterov_error, gd_leading,
                 heavy_ball_leading, nesterov_leading, gd_rate, heavy_ball_rate, nesterov_rate):
    """Iterations to relative error eps for tuned GD, heavy ball, Nesterov over kappa 10..1e4.

    The exact count is :func:`analytic.momentum.steps_to_eps` run on the slowest-mode
    error Formula this check receives; the leading-order count is the ``*_steps``
    Formula, and the worst-case rate sizes how far above it the count may sit.
    """
    errors = {"gd": gd_error, "heavy_ball": heavy_ball_error, "nesterov": nesterov_error}
    leadings = {"gd": gd_leading, "heavy_ball": heavy_ball_leading, "nesterov": nesterov_leading}
    rates = {"gd": gd_rate, "heavy_ball": heavy_ball_rate, "nesterov": nesterov_rate}
    eps = 1e-6
    # smoke: the two ends; kappa = 1e4 is where a 10% error in the slowest-mode error moves the
    # count by >= 5 steps for every method.
    kappas = np.geomspace(10.0, 1e4, {"smoke": 2, "quick": 4, "full": 7}[ctx.size])
    for method in _METHODS:
        leading_formula, rate = leadings[method], rates[method]
        predicted, measured, asymptotic, allowance, lower = [], [], [], [], []
        counts = np.asarray(count_steps(method, kappas, eps, error=errors[method]))
        # One run length for every kappa (one compilation), sized by the catalogue's count, not by
        # the Formula under test: a run length is not a claim, and the same runs then serve every
        # Formula the check is handed (a run too short to reach eps measures no count and fails).
        steps = int(1.3 * np.asarray(count_steps(method, kappas, eps)).max()) + 20
        for kappa, expected in zip(kappas, counts):
            lams = np.geomspace(1.0, kappa, 5)
            root = np.sqrt(kappa)
            alpha, beta, slowest = {
                "gd": (2 / (1 + kappa), 0.0, 0),
                "heavy_ball": (4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2, -1),
                "nesterov": (1 / kappa, (root - 1) / (root + 1), 0)}[method]
            quadratic = sim.quadratic_with_spectrum(ctx.key(f"steps/{method}/{kappa:g}"), lams)
            start = np.zeros(5)
            start[slowest] = 1.0  # the slowest eigen-direction, from rest
            run = ctx.measure(sim.run, method, quadratic, alpha, beta, steps, start)
            predicted.append(float(expected))
            measured.append(float(sim.steps_to_reach(run.log_errors, eps)))
            lead = float(leading_formula(kappa=kappa, eps=eps))
            asymptotic.append(lead)
            r = float(rate(kappa=kappa))
            allowance.append(np.log1p(2 * measured[-1]) / -np.log(r) + 1)
            # Started at rest, the slowest mode is x_t = (1 + a t) z^t with |z| = rate: a = 0 for
            # GD's simple root, a = 1 - z for a double root z (heavy ball z = -rate, Nesterov
            # z = +rate). The first t with |x_t| <= eps therefore satisfies
            # T >= log(eps)/log(rate) + log(1 + a T)/log(1/rate): the count never undershoots the
            # leading order by less than that delay (one step of slack for round-off).
            a = {"gd": 0.0, "heavy_ball": 1 + r, "nesterov": 1 - r}[method]
            delay = np.log1p(a * measured[-1]) / -np.log(r) if 0 < r < 1 else np.inf
            lower.append(max(lead, np.log(eps) / np.log(r)) + delay if 0 < r < 1 else np.inf)
        yield compare(f"{method} exact count, kappa 10..1e4", predicted, measured, 1.0,
                      "integer step count: round-off can move the error across eps by one step",
                      relative=False)
        gap = np.array(measured) - np.array(asymptotic)
        scaled = np.where(np.array(measured) + 1 >= np.array(lower), np.abs(gap) / np.array(allowance),
                          np.inf)
        yield compare(f"{method} leading-order count, kappa 10..1e4", 0.0, float(np.max(scaled)), 1.0,
                      "measured - log(eps)/log(rate) in units of log(1 + 2T)/log(1/rate) + 1: the "
                      "(1 + a t) prefactor of a double root (a <= 2) delays the count by at most that; "
                      "a count more than 1 step below log(eps)/log(rate) + log(1 + a T)/log(1/rate) (or "
                      "the leading-order Formula + that delay) is impossible and is infinitely far "
                      "(integer step count)",
                      relative=False)
        ctx.figure(f"momentum_{method}_steps", {"kappa": kappas, "predicted": predicted,
                                                "measured": measured, "leading_order": asymptotic},
                   x="kappa", ys=("predicted", "measured", "leading_order"), logx=True, logy=True,
                   title=f"{method}: iterations to relative error {eps:g}")


@check("momentum.stability_edge",
       uses={"heavy_ball": "momentum.heavy_ball_critical_alpha", "nesterov": "momentum.nesterov_critical_alpha"},
       smoke=True)
def stability_edge(ctx: Context, heavy_ball, nesterov):
    """The largest stable step, bracketed by direct runs on a fixed grid, vs *_critical_alpha."""
    lams = np.array([0.3, 1.1, 3.0])  # the largest eigenvalue is not 1: a wrong power of lam shows
    quadratic = sim.quadratic_with_spectrum(ctx.key("momentum.stability_edge"), lams)
    # The grid spans every edge alpha * lam_max in [4/3, 4] (beta in [0, 1]) without reference to
    # the formula under test: geometric, 0.3% apart (0.6% in the smoke size).
    count = 220 if ctx.smoke else 440
    alphas = np.geomspace(1.0, 6.0, count) / lams.max()
    step = alphas[1] / alphas[0] - 1
    steps = 1500 if ctx.quick else 6000
    betas = np.array([0.0, 0.5, 0.9]) if ctx.quick else np.array([0.0, 0.25, 0.5, 0.75, 0.9])
    for method, critical in (("heavy_ball", heavy_ball), ("nesterov", nesterov)):
        run = ctx.measure(sim.sweep, method, quadratic, alphas, betas, steps)
        diverged = np.asarray(run.diverged)  # (alphas, betas)
        for j, beta in enumerate(betas):
            first = int(np.argmax(diverged[:, j])) if diverged[:, j].any() else len(alphas) - 1
            # The edge lies between the last stable grid point and the first divergent one.
            measured = float(np.sqrt(alphas[first] * alphas[max(first - 1, 0)]))
            predicted = float(critical(beta=beta, lam=lams.max()))
            yield compare(f"{method}, beta={beta:g}, lam_max={lams.max():g}", predicted, measured,
                          step + 2e-3,
                          f"relative; the measured edge is bracketed by grid points {step:.2%} apart "
                          f"(geometric mean of the bracket), plus 0.2% for runs within that distance "
                          f"of radius 1 whose growth over {steps} steps is too slow to call")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate momentum --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("momentum.heavy_ball_critical_alpha", "sign: 2(1 - beta)/lam", "2*(1 - beta)/lam"),
    mistake("momentum.nesterov_critical_alpha", "the heavy-ball limit for Nesterov (dropped 1 + 2 beta)",
            "2*(beta + 1)/lam"),
    mistake("momentum.heavy_ball_optimal_beta", "wrong power: the rate for beta (square forgotten)",
            "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)"),
    mistake("momentum.nesterov_rate", "wrong power of kappa: 1 - 1/kappa", "(kappa - 1)/kappa"),
    mistake("momentum.heavy_ball_optimal_alpha", "the square forgotten: 4/(sqrt(L) + sqrt(mu))",
            "4/(sqrt(L) + sqrt(mu))"),
)
