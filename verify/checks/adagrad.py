"""AdaGrad's continuous-time closed form vs discrete runs; RMSprop's stationary 2-cycle."""

from __future__ import annotations

import numpy as np

from numeric import adagrad as sim
from verify.core import Context, check, compare

_CURVATURES = np.array([0.5, 1.0, 2.0, 4.0])
_START, _ACCUMULATOR0 = 1.0, 0.01
_RATES = (0.005, 0.0025)  # two step sizes: the O(eta) discretisation error from their difference
_PAST_STARTUP = 0.8  # compare where x <= 0.8 x0: the first steps (S ~ g) leave an O(1) offset in S, O(eta) relative


@check("adagrad.continuous_limit", smoke=True, uses={
    "root": "adagrad.adagrad_accumulator_root", "time": "adagrad.adagrad_time"})
def continuous_limit(ctx: Context, root, time):
    """Discrete AdaGrad on lam x^2/2: sqrt(G) along the path and the steps to reach each x vs the ODE's closed form."""
    steps = 20_000  # x reaches ~0.6 x0 at eta = 0.0025 (t ~ ln(x0/x) / (4 eta^2) when G0 is small)
    errors = {"root": [], "time": []}
    for lr in _RATES:
        run = ctx.measure(sim.adagrad_run, _CURVATURES, np.full(4, _START), lr, _ACCUMULATOR0, steps)
        x, measured_root = np.asarray(run.positions), np.asarray(run.accumulator_roots)
        k = np.broadcast_to(np.arange(steps + 1, dtype=float)[:, None], x.shape)
        past = x <= _PAST_STARTUP * _START
        predicted_root = np.asarray(root.jax(lr, _CURVATURES, _ACCUMULATOR0, _START, x))[past]
        predicted_time = np.asarray(time.jax(lr, _CURVATURES, _ACCUMULATOR0, _START, x))[past]
        errors["root"].append((predicted_root, measured_root[past]))
        errors["time"].append((predicted_time, k[past]))
    for name, label in (("root", "sqrt(G_k) vs sqrt(G0) + lam (x0^2 - x_k^2)/(4 eta)"),
                        ("time", "step k vs the time t(x_k) the ODE takes to reach x_k")):
        (p1, m1), (p2, m2) = errors[name]
        coarse, fine = np.max(np.abs(m1 / p1 - 1)), np.max(np.abs(m2 / p2 - 1))
        yield compare(f"eta = {_RATES[1]}, lam = {_CURVATURES.tolist()}, x_k <= {_PAST_STARTUP} x0: {label} "
                      f"(max relative deviation {fine:.2g}; {coarse:.2g} at eta = {_RATES[0]})", p2, m2,
                      2 * abs(coarse - fine),
                      "O(eta) discretisation from two step sizes (Richardson, factor 2)")


@check("adagrad.rmsprop_cycle", smoke=True, uses={"amplitude": "adagrad.rmsprop_cycle_amplitude"})
def rmsprop_cycle(ctx: Context, amplitude):
    """RMSprop on lam x^2/2 settles on the 2-cycle +-(eta/2 - offset/lam) for every EMA decay."""
    lr, offset, steps = 0.01, 1e-3, 3000
    for decay in (0.9, 0.99):
        xs = np.abs(np.asarray(ctx.measure(sim.rmsprop_run, _CURVATURES, np.full(4, _START), lr, decay, offset, steps)))
        late = xs[-200:]
        spread = late.max(0) - late.min(0)
        yield compare(f"decay {decay}: |x_k| over the last 200 of {steps} steps vs eta/2 - offset/lam, "
                      f"lam = {_CURVATURES.tolist()}", np.asarray(amplitude.jax(lr, _CURVATURES, offset)), late.mean(0),
                      spread / late.mean(0) + 1e-12,
                      "finite horizon: the remaining spread of |x_k| over the window, plus float64 round-off")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("adagrad.adagrad_accumulator_root", "1/(2 eta) for 1/(4 eta): dS/dt = g^2/S without the 1/2",
            "sqrt(accumulator0) - current**2*lam/(2*eta) + lam*start**2/(2*eta)"),
    mistake("adagrad.rmsprop_cycle_amplitude", "the cycle's full swing eta for its amplitude", "eta - offset/lam"),
)
