"""Edge of stability: derived sharpness thresholds against direct iteration and trained MLPs.

MLP runs: 128 points in 8 dimensions with random +-1 labels, a depth-2 width-16 MLP
(standard parameterisation), mean squared error, full-batch GD and heavy ball from one
initialisation; the sharpness is measured every 20 steps (12 Lanczos iterations) by Lanczos on Hessian-vector
products (``numeric.sharpness``). Smoke: one GD and one heavy-ball run, 1200 steps;
quick: ReLU, 1200 steps; full: ReLU and tanh, 3000 steps.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from numeric import eos as sim
from verify.core import Context, check, compare, compare_outcome, inform

_GD_ETAS = (0.2, 0.17, 0.14)
_CONTROL_ETA = 0.02  # 2/eta = 100, far above anything this network reaches
_HEAVY_BALL = ((0.2, 0.5), (0.2, 0.7))  # (eta, beta)
_WINDOW = 0.4  # the last 40% of the run: after progressive sharpening has reached the edge
_SETTLE_TOL = 0.05
_SETTLE_REASON = ("EoS: the sharpness hovers at or just above the threshold (Cohen et al. sec. 3); "
                  "median over the last 40% of steps; spread and overshoot <= 3.5% in tuning runs")


def _gd_etas(ctx: Context) -> tuple[float, ...]:
    return _GD_ETAS[:1] if ctx.smoke else _GD_ETAS


def _heavy_ball(ctx: Context) -> tuple[tuple[float, float], ...]:
    return _HEAVY_BALL[:1] if ctx.smoke else _HEAVY_BALL


def _runs(ctx: Context, activation: str):
    """All configurations of one activation in one vmapped call (memoised)."""

    def compute():
        x = jax.random.normal(ctx.key("eos/x"), (128, 8))
        y = jnp.sign(jax.random.normal(ctx.key("eos/y"), (128,)))
        params = sim.init_mlp(ctx.key("eos/init"), 8, 16, 2)
        etas = [*_gd_etas(ctx), _CONTROL_ETA] + [e for e, _ in _heavy_ball(ctx)]
        betas = [0.0] * (len(_gd_etas(ctx)) + 1) + [b for _, b in _heavy_ball(ctx)]
        steps = 1200 if ctx.quick else 3000  # smoke too: the early overshoot settles by ~step 700
        run = sim.train_with_sharpness(params, x, y, np.array(etas), np.array(betas), steps, activation,
                                       record_every=20, lanczos=12, key=ctx.key("eos/lanczos"))
        return etas, betas, jax.tree_util.tree_map(np.asarray, run)

    return ctx.memoise(("eos/runs", activation, ctx.size), compute)


def _activations(ctx: Context) -> tuple[str, ...]:
    return ("relu",) if ctx.quick else ("relu", "tanh")


def _edge_rows(label: str, losses, sharp, threshold: float):
    """Rows for one run at the edge: settles at the threshold; loss falls, non-monotonically."""
    start = int(len(sharp) * (1 - _WINDOW))
    yield compare_outcome(f"{label}: initial sharpness vs threshold", "below",
                          "below" if sharp[0] < threshold else "above",
                          "categorical: progressive sharpening starts below the edge")
    yield compare(f"{label}: window median sharpness", threshold, float(np.median(sharp[start:])),
                  _SETTLE_TOL, _SETTLE_REASON)
    window = losses[int(len(losses) * (1 - _WINDOW)):]
    falls = window[-1] < window[0]
    rises = bool(np.any(np.diff(window) > 0))
    yield compare_outcome(f"{label}: loss over the window", "falls, non-monotonically",
                          {(True, True): "falls, non-monotonically", (True, False): "falls monotonically",
                           (False, True): "does not fall", (False, False): "does not fall"}[(falls, rises)],
                          "categorical: last vs first loss of the window; any step up in it")


@check("eos.gd_edge", uses={"threshold": "eos.gd_sharpness_threshold"}, smoke=True)
def gd_edge(ctx: Context, threshold):
    """GD on an MLP sharpens to 2/eta and stays there; far below the edge (control) it never arrives."""
    for activation in _activations(ctx):
        etas, betas, run = _runs(ctx, activation)
        sharp = {"step": run.sharpness_steps}
        loss = {"step": np.arange(run.losses.shape[1])}
        for i, eta in enumerate([*_gd_etas(ctx), _CONTROL_ETA]):
            sharp[f"2/eta, eta={eta}"] = np.full(sharp["step"].shape, float(threshold(eta=eta)))
            sharp[f"measured sharpness, eta={eta}"] = run.sharpness[i]
            loss[f"loss, eta={eta}"] = run.losses[i]
        sharp.pop(f"2/eta, eta={_CONTROL_ETA}")  # at 100 it would flatten the plot
        ctx.figure(f"eos_sharpness_{activation}", sharp, x="step", ys=[k for k in sharp if k != "step"],
                   title=f"{activation} MLP, GD: sharpness (markers), 2/eta (lines)")
        ctx.figure(f"eos_loss_{activation}", loss, x="step", ys=[k for k in loss if k != "step"], logy=True,
                   title=f"{activation} MLP, GD: training loss")
        for i, eta in enumerate(_gd_etas(ctx)):
            yield from _edge_rows(f"{activation}, GD eta={eta}", run.losses[i], run.sharpness[i],
                                  float(threshold(eta=eta)))
        i = etas.index(_CONTROL_ETA)
        edge = float(threshold(eta=_CONTROL_ETA))
        peak = float(np.max(run.sharpness[i]))
        yield compare_outcome(f"{activation}, control GD eta={_CONTROL_ETA}: sharpness", "stays below the edge",
                              "stays below the edge" if peak < 0.5 * edge else "comes near the edge",
                              "categorical: max sharpness over the run below half the threshold")
        monotone = bool(np.all(np.diff(run.losses[i]) <= 0))
        yield compare_outcome(f"{activation}, control GD eta={_CONTROL_ETA}: loss", "monotone",
                              "monotone" if monotone else "non-monotone",
                              "categorical: below the edge GD decreases the loss every step")
        yield inform(f"{activation}, control: max sharpness / threshold", 0.0, peak / edge,
                     "how far below the edge the control run stays")


@check("eos.heavy_ball_edge", uses={"threshold": "eos.heavy_ball_sharpness_threshold"}, smoke=True)
def heavy_ball_edge(ctx: Context, threshold):
    """Heavy ball on an MLP sharpens to (2 + 2 beta)/eta and stays there (two momenta)."""
    activation = "relu"  # tanh heavy-ball runs converge to a minimum below the edge (see the report)
    etas, betas, run = _runs(ctx, activation)
    for eta, beta in _heavy_ball(ctx):
        i = next(j for j, (e, b) in enumerate(zip(etas, betas)) if e == eta and b == beta)
        yield from _edge_rows(f"{activation}, heavy ball eta={eta}, beta={beta}", run.losses[i],
                              run.sharpness[i], float(threshold(eta=eta, beta=beta)))


@check("eos.quadratic_thresholds",
       uses={"gd": "eos.gd_sharpness_threshold", "heavy_ball": "eos.heavy_ball_sharpness_threshold",
             "nesterov": "eos.nesterov_sharpness_threshold"}, smoke=True)
def quadratic_thresholds(ctx: Context, gd, heavy_ball, nesterov):
    """Stability edge found by bisection on direct iteration of one quadratic mode."""
    steps = 20000
    eta = 0.1
    cases = [("gd", 0.0, gd)] + [(m, b, f) for m, f in (("heavy_ball", heavy_ball), ("nesterov", nesterov))
                                 for b in (0.5, 0.9)]
    for method, beta, formula in cases:
        lo, hi = 1e-3 / eta, 1e3 / eta  # bracket: stable at lo, unstable at hi
        for _ in range(36):  # the bracket shrinks to a ratio 1e6 ** (2 ** -36) - 1 = 2e-10
            middle = np.sqrt(lo * hi)
            if not float(sim.quadratic_growth(method, eta, beta, middle, steps)) <= 10.0:  # nan: overflow
                hi = middle
            else:
                lo = middle
        predicted = float(formula(eta=eta, beta=beta) if method != "gd" else formula(eta=eta))
        yield compare(f"{method}, eta={eta}, beta={beta}", predicted, np.sqrt(lo * hi), 1e-3,
                      f"finite horizon T={steps}: a mode with |z| = 1 + O(1/T) cannot be told from "
                      "|z| = 1 (growth above 10x is the criterion)")
