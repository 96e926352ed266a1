"""Hamiltonian descent (Maddison et al. 2018): derived linear rates vs discretised runs; GD and heavy ball sublinear."""

from __future__ import annotations

import numpy as np

from analytic.hamiltonian import power_loss_rate
from numeric import hamiltonian as sim
from verify.core import Context, check, compare, compare_outcome

_CURVATURES = np.array([1.0, 3.0, 10.0])  # mu = 1: the slowest mode
_FRICTIONS = np.array([0.5, 1.0, 3.0, 8.0])  # under-, under-, over- (mu), over-damped (all)
_ETA = 0.04  # and _ETA / 2: two step sizes for the discretisation error
_STEPS = 2500  # time 100 at _ETA, 50 at _ETA / 2


def _log_slope(values: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of ``values[start:]`` (axis 0) against the step, and its standard error."""
    y = np.asarray(values, dtype=float)[start:]
    i = np.arange(y.shape[0], dtype=float)
    i = i - i.mean()
    y = y.reshape(y.shape[0], -1)
    slope = i @ (y - y.mean(0)) / (i @ i)
    residual = y - y.mean(0) - np.outer(i, slope)
    se = np.sqrt(np.sum(residual**2, axis=0) / (len(i) - 2) / (i @ i))
    shape = np.asarray(values).shape[1:]
    return slope.reshape(shape), se.reshape(shape)


def _state_log_norm(run) -> np.ndarray:
    """log |(x, p)| without overflow (log|x| and log|p| combined by logaddexp); a diverged run gives inf or NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 0.5 * np.logaddexp(2 * np.log(np.abs(np.asarray(run.position))),
                                  2 * np.log(np.abs(np.asarray(run.momentum))))


@check("hamiltonian.quadratic_rates", uses={
    "mode_rate": "hamiltonian.flow_position_rate", "best_friction": "hamiltonian.flow_optimal_friction",
"radius": "hamiltonian.first_explicit_radius",
    "edge": "hamiltonian.first_explicit_max_learning_rate"})
def quadratic_rates(ctx: Context, mode_rate, best_friction, radius, edge):
    """Per-step radius of both explicit methods, the flow rate (two step sizes), the optimal friction and the step edge on quadratics."""
    gamma, lam = (g.ravel() for g in np.meshgrid(_FRICTIONS, _CURVATURES, indexing="ij"))
    eta = np.concatenate([np.full(gamma.size, _ETA), np.full(gamma.size, _ETA / 2)])
    gamma, lam = np.tile(gamma, 2), np.tile(lam, 2)
    # the optimal friction and its neighbours (slowest mode mu = 1), and the stability edge +-3%
    star = float(best_friction(mu=_CURVATURES[0]))
    around = star * np.array([0.9, 1.0, 1.1])
    edge_lam, edge_gamma = _CURVATURES[-1], _FRICTIONS[1]
    edge_eta = float(edge(friction=edge_gamma, lam=edge_lam)) * np.array([0.97, 1.03])
    all_gamma = np.concatenate([gamma, around, [edge_gamma, edge_gamma]])
    all_lam = np.concatenate([lam, np.full(3, _CURVATURES[0]), [edge_lam, edge_lam]])
    all_eta = np.concatenate([eta, np.full(3, _ETA / 2), edge_eta])
    start = _STEPS // 2  # fit the second half: past the transient of the slower root
    for method in sim.METHODS:
        run = ctx.measure(sim.hamiltonian_descent, 1.0, 0.0, all_gamma, all_eta, _STEPS, curvature=all_lam,
                          method=method)
        log_norm = _state_log_norm(run)
        slope, se = _log_slope(log_norm, start)
        n = gamma.size
        predicted = np.log(np.asarray(radius(eta=eta, friction=gamma, lam=lam)))
        yield compare(f"{method} explicit method: log spectral radius per step, {n} (friction, curvature, "
                      f"learning rate) vs fitted log-slope of |(x, p)|", predicted, slope[:n], 4 * se[:n] + 1e-12,
                      "4 standard errors of the fitted log-slope over the last half (the oscillation of complex "
                      "roots), plus float64 round-off", relative=False)
    half = gamma.size // 2
    coarse, fine = -slope[:half] / _ETA, -slope[half:2 * half] / (_ETA / 2)
    extrapolated = 2 * fine - coarse  # Richardson: the O(eta) term removed
    extrapolated_se = np.hypot(se[:half] / _ETA, 2 * se[half:2 * half] / (_ETA / 2))
    flow = np.asarray(mode_rate(friction=gamma[:half], lam=lam[:half]))
    yield compare(f"flow |x| decay rate at {half} (friction, curvature): closed form vs two step sizes "
                  "(Richardson)", flow, extrapolated, np.abs(fine - coarse) + 4 * extrapolated_se,
                  "discretisation: the two step sizes' difference bounds the O(eta^2) remainder; plus 4 standard "
                  "errors of the fitted log-slope", relative=False)
    rates = -slope[2 * half:2 * half + 3] / (_ETA / 2)
    best = "largest at the predicted optimum" if rates[1] > max(rates[0], rates[2]) else \
        f"larger at {['0.9x', '1.0x', '1.1x'][int(np.argmax(rates))]} the predicted optimum"
    yield compare_outcome("slowest-mode rate at 0.9, 1.0, 1.1 x flow_optimal_friction",
                          "largest at the predicted optimum", best,
                          "critical damping of the smallest curvature maximises the slowest rate; the neighbours "
                          "are 10% away on a grid (resolution 10%)")
    edge_slopes, edge_se = _log_slope(log_norm[:200, -2:], 0)  # first 200 steps: before under/overflow
    outcome = ["converges" if s < -4 * e else "diverges" if s > 4 * e else "undecided"
               for s, e in zip(edge_slopes, edge_se)]
    yield compare_outcome(f"first explicit method at 0.97 / 1.03 x first_explicit_max_learning_rate "
                          f"(friction {edge_gamma:g}, curvature {edge_lam:g})", "converges / diverges",
                          " / ".join(outcome), "the Jury edge p(-1) = 0: a real root crosses -1; "
                          "sign of the fitted log-slope beyond 4 standard errors")


_EXPONENT = 4.0  # f = |x|^4 / 4: Hamiltonian descent linear, GD and heavy ball sublinear
_POWER_FRICTIONS = np.array([1.0, 2.0, 3.8, 4.2, 6.0, 8.0])  # three below, three above the critical friction
_POWER_ETA, _POWER_STEPS = 0.02, 4000  # and _POWER_ETA / 2: time 80 and 40
_GD_ETA, _HB_ETA, _HB_MOMENTUM, _BASELINE_STEPS = 0.5, 0.1, 0.5, 16000


@check("hamiltonian.power_objective", uses={
    "matched": "hamiltonian.matched_kinetic_exponent", "underdamped": "hamiltonian.power_underdamped_loss_rate",
    "ray": "hamiltonian.power_ray_friction", "critical": "hamiltonian.power_critical_friction",
    "gd_loss": "hamiltonian.gd_power_loss", "gd_exponent": "hamiltonian.gd_power_exponent",
    "hb_loss": "hamiltonian.heavy_ball_power_loss"})
def power_objective(ctx: Context, matched, underdamped, ray, critical, gd_loss, gd_exponent, hb_loss):
    """On |x|^4/4: Hamiltonian descent with the matched kinetic energy decays linearly at the derived rate; GD and heavy ball follow the derived power laws."""
    kinetic = float(matched(exponent=_EXPONENT))
    gamma = np.tile(_POWER_FRICTIONS, 2)
    eta = np.repeat([_POWER_ETA, _POWER_ETA / 2], _POWER_FRICTIONS.size)
    run = ctx.measure(sim.hamiltonian_descent, 1.0, 0.0, gamma, eta, _POWER_STEPS, exponent=_EXPONENT,
                      kinetic_exponent=kinetic)
    log_energy = np.log(np.asarray(run.energy))
    slope, se = _log_slope(log_energy, _POWER_STEPS // 2)
    n = _POWER_FRICTIONS.size
    coarse, fine = -slope[:n] / _POWER_ETA, -slope[n:] / (_POWER_ETA / 2)
    measured = 2 * fine - coarse  # Richardson: the O(eta) term removed
    tolerance = np.abs(fine - coarse) + 4 * np.hypot(se[:n] / _POWER_ETA, 2 * se[n:] / (_POWER_ETA / 2))
    formulas = {"power_underdamped_loss_rate": underdamped, "power_ray_friction": ray,
                "power_critical_friction": critical}
    predicted = np.asarray(power_loss_rate(_POWER_FRICTIONS, _EXPONENT, formulas=formulas))
    below = _POWER_FRICTIONS < _EXPONENT
    reason = ("discretisation: the two step sizes' difference bounds the O(eta^2) remainder of the Richardson "
              "value; plus 4 standard errors of the fitted log-slope (second half of the run)")
    yield compare(f"loss rate below critical friction (friction {_POWER_FRICTIONS[below].tolist()}): derived vs "
                  "first explicit method, two step sizes", predicted[below], measured[below], tolerance[below],
                  reason, relative=False)
    yield compare(f"loss rate above critical friction (friction {_POWER_FRICTIONS[~below].tolist()}): slow ray "
                  "vs first explicit method, two step sizes", predicted[~below], measured[~below],
                  tolerance[~below], reason, relative=False)
    # linear convergence: the same fitted rate over the third and the fourth quarter of the run (eta / 2)
    quarter = _POWER_STEPS // 4
    second, _ = _log_slope(log_energy[quarter:2 * quarter, n:], 0)
    third, third_se = _log_slope(log_energy[2 * quarter:3 * quarter, n:], 0)
    fourth, fourth_se = _log_slope(log_energy[3 * quarter:, n:], 0)
    drift = 4 * np.hypot(third_se, fourth_se) + np.abs(third - second) + 1e-12 * np.abs(fourth)
    yield compare(f"linear: log-energy slope per step, last quarter vs third quarter ({n} frictions, eta "
                  f"{_POWER_ETA / 2:g})", third, fourth, drift,
                  "4 standard errors of the two fitted log-slopes, plus the drift from the second to the third "
                  "quarter (finite time: it bounds the decaying approach to the orbit or ray), plus float64 "
                  "round-off", relative=False)
    baselines = ctx.measure(sim.heavy_ball, 1.0, np.array([_GD_ETA, _HB_ETA]), np.array([0.0, _HB_MOMENTUM]),
                            _BASELINE_STEPS, exponent=_EXPONENT)
    loss = np.asarray(baselines.loss)
    steps = np.arange(loss.shape[0], dtype=float)
    log_t, log_loss = np.log(steps[1:]), np.log(loss[1:])
    decade = _BASELINE_STEPS // 10

    def exponent_fit(lo, hi):
        window = slice(lo - 1, hi)
        return _loglog_slope(log_t[window], log_loss[window])

    (late, late_se), (early, _) = exponent_fit(decade, _BASELINE_STEPS), exponent_fit(decade // 10, decade)
    yield compare(f"GD and heavy ball: power-law exponent of the loss over steps {decade}-{_BASELINE_STEPS} vs "
                  "gd_power_exponent", np.full(2, float(gd_exponent(exponent=_EXPONENT))), late,
                  np.abs(late - early) + 4 * late_se,
                  "finite time: the drift of the fitted log-log exponent from the previous decade bounds the "
                  "remaining O(log t / t) correction; plus 4 standard errors", relative=False)
    stride = 20
    shown = np.arange(stride, _POWER_STEPS + 1, stride)
    ends = np.array([_BASELINE_STEPS // 4, _BASELINE_STEPS])
    times = np.concatenate([ends, shown]).astype(float)  # one evaluation (one compiled shape) per Formula
    gd_curve = np.asarray(gd_loss(eta=_GD_ETA, exponent=_EXPONENT, t=times))
    hb_curve = np.asarray(hb_loss(eta=_HB_ETA, beta=_HB_MOMENTUM, exponent=_EXPONENT, t=times))
    predicted_loss = np.stack([gd_curve[:2], hb_curve[:2]], axis=1)
    ratio = loss[ends] / predicted_loss
    yield compare(f"GD (learning rate {_GD_ETA}) and heavy ball ({_HB_ETA}, momentum {_HB_MOMENTUM}): loss at "
                  f"step {_BASELINE_STEPS}, leading-order power law vs run", predicted_loss[1], loss[-1],
                  np.abs(ratio[1] - ratio[0]),
                  "finite time: the drift of measured / predicted between steps T/4 and T bounds the remaining "
                  "O(log t / t) correction at T")
    hd_linear = bool(np.all(np.abs(fourth / third - 1) < 0.05))
    per_step = [(log_loss[decade - 1] - log_loss[decade - 101]) / 100, (log_loss[-1] - log_loss[-101]) / 100]
    sublinear = bool(np.all(per_step[1] / per_step[0] < 0.2))
    yield compare_outcome("Hamiltonian descent linear (constant log-slope), GD and heavy ball sublinear (per-step "
                          "log-slope at step T over 5x smaller than at T/10)", "HD linear, GD/HB sublinear",
                          ("HD linear" if hd_linear else "HD not linear") + ", " +
                          ("GD/HB sublinear" if sublinear else "GD/HB not sublinear"),
                          "the paper's claim (sec. 1): a power law's log-slope per step falls like 1/t "
                          "(10x per decade), a linear rate's stays; thresholds 5% and 5x")
    anchor = _POWER_STEPS // 2  # the predicted lines pass through the run there (eta / 2 runs)
    columns = {"step": shown}
    for k in (1, n - 3):
        g, energy = _POWER_FRICTIONS[k], np.asarray(run.energy)[:, n + k]
        columns[f"measured_HD_energy_friction_{g:g}"] = energy[shown]
        columns[f"predicted_HD_energy_friction_{g:g}"] = energy[anchor] * np.exp(
            -predicted[k] * _POWER_ETA / 2 * (shown - anchor))
    columns["measured_GD_loss"], columns["predicted_GD_loss"] = loss[shown, 0], gd_curve[2:]
    columns["measured_HB_loss"], columns["predicted_HB_loss"] = loss[shown, 1], hb_curve[2:]
    ctx.figure("hamiltonian_power_descent", columns, x="step", ys=tuple(c for c in columns if c != "step"),
               logy=True, ylabel="f (GD, heavy ball) or f + k (Hamiltonian descent)",
               title=f"f = |x|^4/4: Hamiltonian descent (k = |p|^(4/3) / (4/3), eta {_POWER_ETA / 2:g}) vs GD "
                     f"(eta {_GD_ETA}) and heavy ball (eta {_HB_ETA}, momentum {_HB_MOMENTUM})")


def _loglog_slope(log_t: np.ndarray, log_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares slope of log_y (axis 0, columns) against log_t, and its standard error."""
    x = log_t - log_t.mean()
    y = log_y.reshape(log_y.shape[0], -1)
    slope = x @ (y - y.mean(0)) / (x @ x)
    residual = y - y.mean(0) - np.outer(x, slope)
    se = np.sqrt(np.sum(residual**2, axis=0) / (len(x) - 2) / (x @ x))
    return slope, se

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate hamiltonian --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("hamiltonian.flow_position_rate", "the loss rate (twice the |x| rate) taken for the |x| rate",
            "Piecewise((friction, friction < 2*sqrt(lam)), (friction - sqrt(friction**2 - 4*lam), True))"),
    mistake("hamiltonian.flow_optimal_friction", "critical damping without its factor 2", "sqrt(mu)"),
    mistake("hamiltonian.first_explicit_radius", "the drift's step lost: eta lam instead of eta^2 lam",
            lam="lam/eta"),
    mistake("hamiltonian.first_explicit_max_learning_rate", "the edge equation's friction term halved "
            "(lam eta^2 - friction eta - 4 = 0)", "(friction + sqrt(friction**2 + 16*lam))/(2*lam)"),
    mistake("hamiltonian.matched_kinetic_exponent", "the objective's exponent used for the kinetic energy",
            "exponent"),
    mistake("hamiltonian.power_underdamped_loss_rate", "the |x| rate of the quadratic case (friction/2)",
            "friction/2"),
    mistake("hamiltonian.power_ray_friction", "the factor (b - 1) of the momentum's decay lost",
            "position_rate + position_rate**(1 - exponent)"),
    mistake("hamiltonian.power_critical_friction", "the critical friction off by one (b - 1)",
            "exponent - 1"),
    mistake("hamiltonian.gd_power_loss", "the |x| exponent 1/(b - 2) used for the loss",
            "(1/(eta*t*(exponent - 2)))**(1/(exponent - 2))/exponent"),
    mistake("hamiltonian.gd_power_exponent", "the exponent of |x| instead of the loss", "-1/(exponent - 2)"),
    mistake("hamiltonian.heavy_ball_power_loss", "effective learning rate eta (1 - beta) instead of eta / (1 - beta)",
            "(1/((1 - beta)*eta*t*(exponent - 2)))**(exponent/(exponent - 2))/exponent"),
)
