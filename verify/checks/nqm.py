"""Checks of the noisy quadratic model: E[L_t], steady state, steps to target vs batch size.

Predictions come from the Formulas each check receives (sympy-derived moment
dynamics of :mod:`analytic.nqm`; the composites there, loss curves and tuned steps,
are handed those Formulas), measurements from :mod:`numeric.nqm` (Monte Carlo chains
with Gaussian gradient noise). Source: Zhang et al. 2019, arXiv:1907.04164v2, sec. 3-4.
"""

from __future__ import annotations

import numpy as np

from analytic.nqm import critical_batch_size, expected_loss_curve, steps_to_target, tuned_steps_to_target
from analytic.references import cite
from numeric import nqm as mc
from verify.core import Context, check, compare, compare_outcome

_CITE = cite("zhang2019", "sec. 3")
# Optimisers compared (name, momentum grid, preconditioning power). The preconditioned
# one stands for the paper's Adam / K-FAC (diagonal / curvature preconditioning, sec. 3.3).
OPTIMISERS = (("sgd", (0.0,), 0.0), ("momentum", (0.0, 0.5, 0.8, 0.9, 0.95), 0.0),
              ("preconditioned", (0.0, 0.5, 0.8, 0.9, 0.95), 0.75))
Z = 5.0  # rows compare a few correlated time points with a chain-estimated standard error


def _spectrum(dim: int):
    h = mc.power_law_spectrum(dim)
    return h, h.copy()  # c_i = h_i as in the paper


@check("nqm.loss_trajectory", uses={"moment_step": "nqm.second_moment_step",
                                    "sgd_formula": "nqm.sgd_expected_loss"})
def loss_trajectory(ctx: Context, moment_step, sgd_formula):
    """E[L_t] of SGD / momentum / preconditioned vs the mean of Monte Carlo chains."""
    dim, chains, steps = (32, 256, 300) if ctx.quick else (1000, 4096, 3000)
    h, c = _spectrum(dim)
    configs = (("sgd", 4.0, 0.5, 0.0, 0.0), ("momentum", 4.0, 0.2, 0.8, 0.0),
               ("preconditioned", 16.0, 0.3, 0.5, 0.5))
    times = [int(t) for t in np.unique(np.geomspace(1, steps, 6).astype(int))]
    for i, (name, batch, lr, mom, power) in enumerate(configs):
        run = ctx.measure(mc.simulate_sweep, ctx.key(f"nqm.loss_trajectory.{name}"), h, c, 1.0, batch, lr, mom,
                                power=power, steps=steps, chains=chains, mesh=ctx.batch_mesh(chains))
        mean, sem = np.asarray(run.loss_mean[0]), np.asarray(run.loss_sem[0])
        pred = np.asarray(expected_loss_curve(lr, mom, power, h, c, batch, 1.0, steps,
                                                  moment_step=moment_step))
        yield compare(f"{name} E[L_t] at t={times}", pred[times], mean[times],
                      Z * float(np.max(sem[times] / pred[times])),
                      f"{Z} x largest relative MC standard error ({chains} chains)")
        if name == "sgd":
            closed = np.asarray(sgd_formula(alpha=lr, h=h[None, :], c=c[None, :], B=batch,
                                            t=np.array(times)[:, None], e0=1.0)).sum(axis=1)
            yield compare(f"sgd closed form (rsolve) at t={times}", closed, mean[times],
                          Z * float(np.max(sem[times] / closed)),
                          f"{Z} x largest relative MC standard error ({chains} chains)")
    # The MC rows above cannot see a 10% slip (their tolerance is ~15%); a noise-free run can.
    run = ctx.measure(mc.simulate_sweep, ctx.key("nqm.loss_trajectory.noise_free"), h, 0.0 * c, 1.0, 4.0, 0.5, 0.0,
                            steps=steps, chains=2)
    closed = np.asarray(sgd_formula(alpha=0.5, h=h[None, :], c=0.0, B=4.0, t=np.array(times)[:, None],
                                    e0=1.0)).sum(axis=1)
    yield compare(f"sgd closed form, noise-free run (c = 0) at t={times}", closed,
                  np.asarray(run.loss_mean[0])[times], 1e-10,
                  "deterministic run; float64 round-off over a few hundred steps")


def _burn_in(lr, mom, power, h, c, batch, moment_step, horizon) -> int:
    """Steps until the exact E[L_t] from theta_0 = 0 is within 1e-4 of its limit (for good).

    The limit is the curve's own value at the horizon (the burn-ins are < 100 steps, the
    horizon thousands), not a steady-state Formula under test: the run length, and so the
    simulation, is the same whichever steady-state Formula the check is handed."""
    curve = np.asarray(expected_loss_curve(lr, mom, power, h, c, batch, 0.0, horizon,
                                               moment_step=moment_step))
    steady_total = curve[-1]
    far = np.nonzero(np.abs(curve - steady_total) > 1e-4 * steady_total)[0]
    return int(far[-1]) + 1 if far.size else 0


@check("nqm.steady_state",
       uses={"sgd_formula": "nqm.sgd_steady_state_loss", "momentum_formula": "nqm.momentum_steady_state_loss",
             "preconditioned_formula": "nqm.preconditioned_steady_state_loss",
             "max_lr": "nqm.max_stable_lr"},
       smoke=True)
def steady_state(ctx: Context, sgd_formula, momentum_formula, preconditioned_formula, max_lr):
    """Per-dimension steady-state loss 1/2 h E[theta^2] vs time-averaged Monte Carlo; divergence.

    The burn-in (when the exact curve from theta_0 = 0 has settled) is a run length, not a
    claim: it comes from the catalogue's moment map, which nqm.loss_trajectory checks. The
    stability limit is compared with the divergence edge of direct runs found by bisection."""
    dim, chains, steps = (16, 128, 3000) if ctx.quick else (256, 1024, 20000)
    horizon = 2000 if ctx.smoke else 20000  # the burn-ins are < 100 steps: 2000 bounds them
    h, c = _spectrum(dim)
    cases = (
        ("sgd", 4.0, 0.5, 0.0, 0.0, lambda: sgd_formula(alpha=0.5, h=h, c=c, B=4.0)),
        ("momentum", 4.0, 0.2, 0.8, 0.0, lambda: momentum_formula(alpha=0.2, beta=0.8, h=h, c=c, B=4.0)),
        ("preconditioned", 2.0, 0.3, 0.5, 0.5,
         lambda: preconditioned_formula(alpha=0.3, beta=0.5, p=0.5, h=h, c=c, B=2.0)),
    )
    # One burn-in for all cases (the longest): one compiled run length; a longer burn-in only
    # settles the chains further.
    burn = max(_burn_in(lr, mom, power, h, c, batch, None, horizon) for _, batch, lr, mom, power, _ in cases)
    for name, batch, lr, mom, power, predict in cases:
        pred = np.asarray(predict())
        meas = ctx.measure(mc.steady_state_loss, ctx.key(f"nqm.steady_state.{name}"), h, c, batch, lr, mom, power,
                                    burn_in=burn, steps=steps, chains=chains, mesh=ctx.batch_mesh(chains))
        rel = np.asarray(meas.loss_sem) / pred
        yield compare(f"{name} per-dimension steady state ({dim} dims, burn-in {burn})", pred,
                      np.asarray(meas.loss_mean), Z * float(rel.max()),
                      f"{Z} x largest relative MC standard error over {dim} dims (chain time averages)")
    # The stability limit, measured without it: bisection of the divergence edge on direct runs.
    for label, beta, power in (("momentum beta=0.5", 0.5, 0.0), ("preconditioned beta=0.5 p=0.5", 0.5, 0.5)):
        lo, hi = _divergence_edge(ctx, 4.0 * h, 4.0 * c, beta, power, label)
        predicted = float(max_lr(beta=beta, p=power, h=4.0 * h[0]))
        yield compare(f"{label}: max_stable_lr vs measured divergence edge [{lo:.5g}, {hi:.5g}] (h_max = 4)",
                      predicted, 0.5 * (lo + hi), (hi - lo) / (lo + hi) + _EDGE_SLACK,
                      "bisection of direct runs (diverged = loss > 1e6 x initial within "
                      f"{_EDGE_STEPS} steps): half the bracket, plus {_EDGE_SLACK:.3f} for a mode that grows "
                      "too slowly to reach 1e6 x in that time (|z| < 1.012 sits < 0.2% above the edge)")
        if power == 0.0:
            finite = [bool(np.isfinite(float(momentum_formula(alpha=a, beta=beta, h=4.0 * h[0], c=4.0 * c[0],
                                                              B=4.0)))) for a in ((1 - _EDGE_SLACK) * lo, hi)]
            yield compare_outcome(f"{label}: momentum steady state below / above the measured edge",
                                  "finite, infinite", ", ".join("finite" if f else "infinite" for f in finite),
                                  f"categorical: the closed form is finite where direct runs converge (at "
                                  f"(1 - {_EDGE_SLACK}) x the bracket's lower end, below the slowest detectable "
                                  "growth) and infinite where they diverge (the upper end)")


_EDGE_STEPS, _EDGE_SLACK = 600, 0.005


def _divergence_edge(ctx: Context, h, c, beta: float, power: float, salt: str) -> tuple[float, float]:
    """Largest converging and smallest diverging learning rate of direct runs, by bisection.

    No stability formula is involved: a geometric grid of 14 rates over [1e-2, 1e2] (one
    vmapped sweep), then two rounds of 14 rates inside the bracket (relative width 0.4%)."""
    lo, hi = 1e-2, 1e2
    for round_ in range(3):
        grid = np.geomspace(lo, hi, 14)
        run = ctx.measure(mc.simulate_sweep, ctx.key(f"nqm.edge.{salt}.{round_}"), h, c, 1.0, 4.0, grid, beta, power=power,
                                steps=_EDGE_STEPS, chains=2)
        diverged = np.asarray(run.diverged)
        first = int(np.argmax(diverged))
        if not diverged[first:].all() or diverged[0] or not diverged[-1]:
            raise RuntimeError(f"{salt}: no clean converge/diverge edge on the grid {lo:.5g}..{hi:.5g}")
        lo, hi = float(grid[first - 1]), float(grid[first])
    return lo, hi


@check("nqm.sgd_mean", uses={"mean": "nqm.sgd_mean"})
def sgd_mean(ctx: Context, mean):
    """E[theta_t] of SGD vs a noise-free run (c = 0: every chain is its own mean)."""
    dim, steps = (32, 300) if ctx.quick else (1000, 3000)
    h, _ = _spectrum(dim)
    lr, theta0 = 1.5, 1.0  # alpha h_1 = 1.5: the stiffest mean oscillates in sign
    times = np.unique(np.geomspace(1, steps, 6).astype(int))
    run = ctx.measure(mc.simulate_sweep, ctx.key("nqm.sgd_mean"), h, 0.0 * h, theta0, 1.0, lr, 0.0, steps=steps, chains=2)
    theta = np.asarray(mean(alpha=lr, h=h[None, :], t=times[:, None], e0=theta0))
    yield compare(f"1/2 sum h E[theta_t]^2 at t={[int(t) for t in times]}", 0.5 * np.sum(h * theta**2, axis=1),
                  np.asarray(run.loss_mean[0])[times], 1e-10,
                  "noise-free run: deterministic; float64 round-off over a few hundred steps")


def _measured_critical_batch(batch, steps) -> float:
    """B* of the measured table, computed here (not by analytic.nqm.critical_batch_size, the
    function under test): the examples E_min = min_B B S(B) of the perfect-scaling regime over
    the fewest steps S_min (McCandlish et al. 2018, sec. 2.2), over the finite crossings."""
    table = [(b, s) for b, s in zip(np.asarray(batch, float), np.asarray(steps, float)) if np.isfinite(s) and s > 0]
    fewest_examples = min(b * s for b, s in table)
    fewest_steps = min(s for _, s in table)
    return fewest_examples / fewest_steps


def sweep_settings(quick: bool, smoke: bool = False) -> dict:
    """Sizes of the steps-vs-batch sweep (quick: CPU; full: the paper-sized GPU run; smoke:
    quick with three batch sizes, the two smallest for the slope and the floor)."""
    if smoke:
        return sweep_settings(True) | dict(batch=2.0 ** np.array([2, 4, 12]))
    if quick:
        return dict(dim=100, target_fraction=0.02, batch=2.0 ** np.arange(2, 13, 2),
                    fractions=np.geomspace(2e-3, 0.95, 10), max_steps=1500, chains=32)
    return dict(dim=1000, target_fraction=0.02, batch=2.0 ** np.arange(0, 17),
                fractions=np.geomspace(1e-4, 0.97, 32), max_steps=100000, chains=256)


def _tuned(s: dict, moment_step, max_lr):
    """Tuned steps to target of every optimiser, from the Formulas the check received."""
    h, c = _spectrum(s["dim"])
    target = s["target_fraction"] * 0.5 * h.sum()
    return {name: tuned_steps_to_target(s["batch"], s["fractions"], betas, power, h, c, 1.0, target,
                                            s["max_steps"], moment_step=moment_step, max_lr=max_lr)
            for name, betas, power in OPTIMISERS}


def _bucket(n: float) -> int:
    return int(2 ** np.ceil(np.log2(max(n, 128))))  # few distinct scan lengths: few compilations


def _measure(ctx, name, power, tuned, s, h, c, target, moment_step, max_lr):
    """MC steps to target at the tuned (alpha, beta) and at alpha x/ 1.5 (the same 3 for both)."""
    predicted, measured, error = [], [], []
    for i, batch in enumerate(tuned.batch_size):
        lrs = tuned.alpha[i] * np.array([1 / 1.5, 1.0, 1.5])
        lrs = np.minimum(lrs, 0.999 * np.min(np.asarray(max_lr(beta=tuned.beta[i], p=power, h=h))))
        pred = np.asarray(steps_to_target(lrs, tuned.beta[i], power, h, c, batch, 1.0, target,
                                              s["max_steps"], moment_step=moment_step))
        steps = _bucket(1.3 * np.min(pred) + 8)
        run = ctx.measure(mc.simulate_sweep, ctx.key(f"nqm.steps.{name}.{i}"), h, c, 1.0, batch, lrs, tuned.beta[i],
                                power=power, steps=steps, chains=s["chains"])
        hits = np.array([mc.first_crossing(m, target) for m in np.asarray(run.loss_mean)])
        # Standard error of a crossing time: loss SE at the crossing / |slope of the exact curve|.
        k = int(np.argmin(pred))
        curve = np.asarray(expected_loss_curve(lrs[k], tuned.beta[i], power, h, c, batch, 1.0,
                                                   s["max_steps"], moment_step=moment_step))
        t = int(min(pred[k], s["max_steps"] - 2))
        slope = abs(curve[max(t - 1, 0)] - curve[t + 1]) / (t + 1 - max(t - 1, 0))
        predicted.append(np.min(pred))
        measured.append(np.min(hits))
        error.append(float(np.asarray(run.loss_sem)[k, t]) / slope)
    return np.array(predicted), np.array(measured), np.array(error)


@check("nqm.steps_vs_batch", uses={"moment_step": "nqm.second_moment_step", "max_lr": "nqm.max_stable_lr"},
       cites=f"{cite('zhang2019', 'sec. 3-4, fig. 5')}; {cite('mccandlish2018', 'sec. 2.2 (critical batch)')}",
       smoke=True)
def steps_vs_batch(ctx: Context, moment_step, max_lr):
    """Tuned steps to target vs batch size: prediction vs Monte Carlo; critical-batch ordering."""
    s = sweep_settings(ctx.quick, ctx.smoke)
    h, c = _spectrum(s["dim"])
    target = s["target_fraction"] * 0.5 * h.sum()
    # Keyed on the Formulas too: a check handed a different Formula must not reuse the result.
    tuned = ctx.memoise(("nqm.tuned_steps", ctx.size, moment_step.expr, max_lr.expr),
                        lambda: _tuned(s, moment_step, max_lr))
    crit_pred, crit_meas, columns = {}, {}, {"batch_size": s["batch"]}
    for name, _, power in OPTIMISERS:
        pred, meas, se = _measure(ctx, name, power, tuned[name], s, h, c, target, moment_step, max_lr)
        for b, p_, m_, e_ in zip(s["batch"], pred, meas, se):
            yield compare(f"{name} steps to target, B={int(b)}", p_, m_, 4 * e_ + 1, "4 x MC standard error "
                          "of the crossing time (loss SE / slope) + 1 step (integer crossing)", relative=False)
        columns[f"{name}_predicted"], columns[f"{name}_measured"] = pred, meas
        columns[f"{name}_tuned_alpha"], columns[f"{name}_tuned_beta"] = tuned[name].alpha, tuned[name].beta
        crit_pred[name] = critical_batch_size(s["batch"], pred)
        crit_meas[name] = _measured_critical_batch(s["batch"], meas)
        slope_p = np.log(pred[1] / pred[0]) / np.log(s["batch"][1] / s["batch"][0])
        slope_m = np.log(meas[1] / meas[0]) / np.log(s["batch"][1] / s["batch"][0])
        yield compare(f"{name} perfect scaling: d log S / d log B at B={int(s['batch'][0])}", slope_p, slope_m,
                      0.1, "crossing-time errors of a few percent at the two smallest batches", relative=False)
        yield compare(f"{name} critical batch size E_min/S_min", crit_pred[name], crit_meas[name],
                      float(1 / np.min(pred) + 4 * se[np.argmin(pred)] / np.min(pred) + 0.05),
                      "S_min is a few steps: +-1 step plus 4 SE relative, + 5% for E_min")
    order = " < ".join(sorted(crit_pred, key=crit_pred.get))
    yield compare_outcome("critical batch order (prediction vs paper)", order,
                          "sgd < momentum < preconditioned",
                          "paper: momentum and preconditioning extend perfect scaling (fig. 5)")
    yield compare_outcome("critical batch order (Monte Carlo vs prediction)", order,
                          " < ".join(sorted(crit_meas, key=crit_meas.get)), "categorical")
    ctx.figure("nqm_steps_vs_batch", columns, x="batch_size",
               ys=tuple(k for k in columns if k.endswith(("_predicted", "_measured"))), logx=True, logy=True,
               title="NQM: steps to target vs batch size, hyperparameters tuned per batch size")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate nqm --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("nqm.max_stable_lr", "sign of p in the exponent: h^(-p-1)", "2*(beta + 1)*h**(-p - 1)"),
    mistake("nqm.sgd_steady_state_loss", "the alpha^2 h^2 term dropped from 1 - (1 - alpha h)^2",
            "Piecewise((alpha*c/(4*B), alpha < 2/h), (oo, True))"),
    mistake("nqm.sgd_mean", "off by one step: (1 - alpha h)^(t + 1)", "e0*(1 - alpha*h)**(t + 1)"),
    mistake("nqm.sgd_expected_loss", "the mean's power for the second moment: r^t with r = 1 - alpha h", t="t/2"),
)
