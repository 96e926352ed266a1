"""Edge of stability: derived sharpness thresholds against direct iteration and trained MLPs.

MLP runs: points in 8 dimensions with random +-1 labels, a depth-2 MLP (standard
parameterisation), mean squared error, full-batch GD, heavy ball and
Nesterov from one initialisation, tanh and ReLU; the sharpness is measured every 20
steps (12 Lanczos iterations on Hessian-vector products, ``numeric.sharpness``). All
runs of one size are one vmapped, once-compiled call shared by the checks.

Sizes: smoke (ReLU; 128 points, width 16, 1200 steps; one run per method and the
control), quick (tanh and ReLU, same problem; three GD rates, two momenta for heavy
ball and for Nesterov, the control) and full (512 points, width 32, 3000 steps; three
GD rates, two heavy-ball momenta, three Nesterov runs). The quick problem is not run
longer: by 3000 steps it reaches a minimum (tanh, loss ~1e-6) where the loss stops
oscillating, which is the end of EoS, not a test of it.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric import eos as sim
from verify.core import Context, check, compare, compare_outcome

_CONTROL_ETA = 0.02  # 2/eta = 100, far above anything this network reaches
_WINDOW = 0.4  # the last 40% of the run: after progressive sharpening has reached the edge
_SETTLE_TOL = 0.05
_SETTLE_REASON = ("EoS: the sharpness hovers at the threshold (Cohen et al. sec. 3); median over the last 40% "
                  "of steps; in tuning runs (quick and full problems) median/threshold was 0.97-1.04 (GD), "
                  "1.00-1.02 (heavy ball), 0.96-1.01 (Nesterov, measured at theta, not at the look-ahead point)")


class _Run(NamedTuple):
    activation: str
    method: str  # "gd", "heavy_ball" or "nesterov"
    eta: float
    beta: float


# Per size: (points, width, steps) and the (eta, beta) of each method. tanh heavy ball needs
# smaller momenta than ReLU at quick size: at beta >= 0.5 that tanh net reaches a minimum
# (loss ~1e-6, monotone) 1-4% below the edge within 1200 steps. At full size (tuned on CPU:
# 48 CPU-s) ReLU heavy ball at beta = 0.5 has a window whose loss ends above its start.
_PROBLEM = {"smoke": (128, 16, 1200), "quick": (128, 16, 1200), "full": (512, 32, 3000)}
_GD = {"smoke": (0.2,), "quick": (0.2, 0.17, 0.14), "full": (0.2, 0.14, 0.1)}
_HEAVY_BALL = {"smoke": {"relu": ((0.2, 0.5),)},
               "quick": {"relu": ((0.2, 0.5), (0.2, 0.7)), "tanh": ((0.2, 0.3), (0.2, 0.4))},
               "full": {"relu": ((0.2, 0.3), (0.2, 0.7)), "tanh": ((0.2, 0.3), (0.2, 0.5))}}
_NESTEROV = {"smoke": ((0.2, 0.5),), "quick": ((0.2, 0.3), (0.2, 0.5)),
             "full": ((0.2, 0.3), (0.2, 0.5), (0.1, 0.5))}


def _activations(ctx: Context) -> tuple[str, ...]:
    return ("relu",) if ctx.smoke else ("relu", "tanh")


def _plan(ctx: Context) -> list[_Run]:
    runs = []
    for act in _activations(ctx):
        runs += [_Run(act, "gd", eta, 0.0) for eta in (*_GD[ctx.size], _CONTROL_ETA)]
        runs += [_Run(act, "heavy_ball", e, b) for e, b in _HEAVY_BALL[ctx.size][act]]
        runs += [_Run(act, "nesterov", e, b) for e, b in _NESTEROV[ctx.size]]
    return runs


def _runs(ctx: Context) -> dict[_Run, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """{run: (losses, sharpness, sharpness steps)}: every run of this size in one vmapped call."""

    def compute():
        points, width, steps = _PROBLEM[ctx.size]
        x = jax.random.normal(ctx.key("eos/x"), (points, 8))
        y = jnp.sign(jax.random.normal(ctx.key("eos/y"), (points,)))
        params = sim.init_mlp(ctx.key("eos/init"), 8, width, 2)
        plan = _plan(ctx)
        run = sim.train_with_sharpness(params, x, y, np.array([r.eta for r in plan]),
                                       np.array([r.beta for r in plan]), steps, [r.activation for r in plan],
                                       record_every=20, lanczos=12, key=ctx.key("eos/lanczos"),
                                       nesterov=np.array([r.method == "nesterov" for r in plan]))
        losses, sharp = np.asarray(run.losses), np.asarray(run.sharpness)
        return {r: (losses[i], sharp[i], np.asarray(run.sharpness_steps)) for i, r in enumerate(plan)}

    return ctx.memoise(("eos/runs", ctx.size), compute)


def _selected(ctx: Context, activation: str, method: str) -> list[_Run]:
    return [r for r in _plan(ctx) if r.activation == activation and r.method == method
            and r.eta != _CONTROL_ETA]


def _edge_rows(label: str, losses, sharp, threshold: float):
    """Rows for one run at the edge: settles at the threshold; loss falls, non-monotonically."""
    start = int(len(sharp) * (1 - _WINDOW))
    yield compare_outcome(f"{label}: initial sharpness vs threshold", "below",
                          "below" if sharp[0] < threshold else "above",
                          "categorical: progressive sharpening starts below the edge")
    yield compare(f"{label}: window median sharpness", threshold, float(np.median(sharp[start:])),
                  _SETTLE_TOL, _SETTLE_REASON, category="finite-size")
    window = losses[int(len(losses) * (1 - _WINDOW)):]
    falls = window[-1] < window[0]
    rises = bool(np.any(np.diff(window) > 0))
    yield compare_outcome(f"{label}: loss over the window", "falls, non-monotonically",
                          {(True, True): "falls, non-monotonically", (True, False): "falls monotonically",
                           (False, True): "does not fall", (False, False): "does not fall"}[(falls, rises)],
                          "categorical: last vs first loss of the window; any step up in it")


def _figures(ctx: Context, name: str, title: str, curves: list[tuple[str, float | None, tuple]]) -> None:
    """Sharpness (markers) with its threshold (line) per run, and the losses, vs step.

    ``curves``: (legend key, threshold or None, (losses, sharpness, sharpness steps)).
    """
    steps = curves[0][2][2]
    sharp = {"step": steps}
    loss = {"step": np.arange(len(curves[0][2][0]))}
    for key, edge, (losses, sharpness, _) in curves:
        if edge is not None:
            sharp[f"predicted_{key}"] = np.full(steps.shape, edge)
        sharp[f"measured_{key}"] = sharpness
        loss[f"measured_{key}"] = losses
    ctx.figure(f"eos_sharpness_{name}", sharp, x="step", ys=[k for k in sharp if k != "step"],
               ylabel="sharpness (top Hessian eigenvalue)",
               title=f"{title}: sharpness (markers) and the derived threshold (lines)")
    ctx.figure(f"eos_loss_{name}", loss, x="step", ys=[k for k in loss if k != "step"], logy=True,
               ylabel=r"training loss $\frac{1}{2m}\sum_i (f(x_i) - y_i)^2$", title=f"{title}: training loss")


@check("eos.gd_edge", uses={"threshold": "eos.gd_sharpness_threshold"}, smoke=True)
def gd_edge(ctx: Context, threshold):
    """GD on tanh and ReLU MLPs sharpens to 2/eta and stays there; far below the edge it never arrives."""
    runs = _runs(ctx)
    for activation in _activations(ctx):
        chosen = _selected(ctx, activation, "gd")
        control = runs[_Run(activation, "gd", _CONTROL_ETA, 0.0)]
        edge = float(threshold(eta=_CONTROL_ETA))
        # the control's 2/eta = 100 would flatten the plot: its sharpness is shown without its line
        _figures(ctx, activation, f"{activation} MLP, GD", [
            *((f"eta={r.eta}", float(threshold(eta=r.eta)), runs[r]) for r in chosen),
            (f"eta={_CONTROL_ETA} (control, 2/eta = {edge:g})", None, control)])
        for r in chosen:
            yield from _edge_rows(f"{activation}, GD eta={r.eta}", *runs[r][:2], float(threshold(eta=r.eta)))
        losses, sharp, _ = control
        peak = float(np.max(sharp))
        yield compare_outcome(f"{activation}, control GD eta={_CONTROL_ETA}: sharpness", "stays below the edge",
                              "stays below the edge" if peak < 0.5 * edge else "comes near the edge",
                              "categorical: max sharpness over the run below half the threshold")
        monotone = bool(np.all(np.diff(losses) <= 0))
        yield compare_outcome(f"{activation}, control GD eta={_CONTROL_ETA}: loss", "monotone",
                              "monotone" if monotone else "non-monotone",
                              "categorical: below the edge GD decreases the loss every step")


def _momentum_edge(ctx: Context, method: str, threshold):
    runs = _runs(ctx)
    name = method.replace("_", " ")
    for activation in _activations(ctx):
        chosen = _selected(ctx, activation, method)
        edges = {r: float(threshold(eta=r.eta, beta=r.beta)) for r in chosen}
        _figures(ctx, f"{method}_{activation}", f"{activation} MLP, {name}",
                 [(f"eta={r.eta}, beta={r.beta}", edges[r], runs[r]) for r in chosen])
        for r in chosen:
            yield from _edge_rows(f"{activation}, {name} eta={r.eta}, beta={r.beta}", *runs[r][:2], edges[r])


@check("eos.heavy_ball_edge", uses={"threshold": "eos.heavy_ball_sharpness_threshold"}, smoke=True)
def heavy_ball_edge(ctx: Context, threshold):
    """Heavy ball on tanh and ReLU MLPs sharpens to (2 + 2 beta)/eta and stays there (two momenta each)."""
    yield from _momentum_edge(ctx, "heavy_ball", threshold)


@check("eos.nesterov_edge", uses={"threshold": "eos.nesterov_sharpness_threshold"}, smoke=True)
def nesterov_edge(ctx: Context, threshold):
    """Nesterov on tanh and ReLU MLPs sharpens to (2 + 2 beta)/((1 + 2 beta) eta) and stays there."""
    yield from _momentum_edge(ctx, "nesterov", threshold)


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

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate eos --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("eos.heavy_ball_sharpness_threshold", "sign: 2(1 - beta)/eta", "2*(1 - beta)/eta"),
    mistake("eos.nesterov_sharpness_threshold", "the heavy-ball threshold for Nesterov (dropped 1 + 2 beta)",
            "2*(beta + 1)/eta"),
    mistake("eos.gd_sharpness_threshold", "a factor 2 lost: 1/eta", "1/eta"),
)
