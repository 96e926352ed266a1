"""Catapult phase: the derived uv map and its phase boundaries against direct GD.

Sizes: the networks are 8 examples in 4 dimensions; quick uses widths 128 and 512
(ReLU: 512), full 256, 1024 and 4096 (ReLU: 1024 and 4096). The network loss is the
SUM 1/2 sum_i (f_i - y_i)^2, so the boundaries are in units of 1/lam0 with lam0 the
top eigenvalue of the NTK Gram matrix J J^T (a mean loss would put them at 2m/lam0
and 4m/lam0). Every row of a two-layer net uses this summed-loss convention.

Figures: the uv model's lam and loss in the three phases (map vs GD on u, v); the
phase diagram over (eta * lam0, width) of the final NTK / lam0 and of the max loss,
with the derived boundaries 2/lam0 and 4/lam0 drawn; the same as curves; and the
loss spike of the 8-point nets against the uv model of their top NTK mode.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from analytic.catapult import uv_trajectory
from analytic.references import cite
from numeric import catapult as sim
from verify.core import Context, check, compare, compare_outcome, not_reproduced

# eta * lam0 grid: dense on both sides of 2 and 4, then up to the paper's ~12 and beyond.
_GRID = np.array([0.5, 1.0, 1.5, 1.9, 2.1, 2.5, 3.0, 3.5, 3.8, 4.2, 5.0, 6.5, 8.0, 10.0, 12.0, 15.0])
_LAZY_DRIFT = 0.05  # |lam_final / lam0 - 1| below this counts as lazy: see _measured_phase


def _predicted_phase(eta, lam0, critical_lr, max_lr) -> str:
    if eta < float(critical_lr(lam0=lam0)):
        return "lazy"
    return "catapult" if eta < float(max_lr(lam0=lam0)) else "divergent"


def _measured_phase(diverged: bool, lam_final: float, lam0: float, eta: float) -> str:
    """Phase read off a run: blew up; NTK unchanged (lazy); NTK pushed below 2/eta (catapult)."""
    if diverged or not np.isfinite(lam_final):
        return "divergent"
    if abs(lam_final / lam0 - 1) < _LAZY_DRIFT:
        return "lazy"
    return "catapult" if lam_final < 2 / eta else "unstable, not diverged"


def _dataset(ctx: Context):
    x = jax.random.normal(ctx.key("catapult/data"), (8, 4))
    return x, 0.5 * jnp.sign(x[:, 0])


def _sweep(ctx: Context, activation: str, width: int):
    """GD runs of one two-layer network over the eta * lam0 grid (memoised per run)."""

    def compute():
        x, y = _dataset(ctx)
        params = sim.init_two_layer(ctx.key(f"catapult/init/{width}"), width, x.shape[1])
        lam0 = float(sim.ntk_top_eigenvalue(params, x, activation))
        steps = 300 if ctx.quick else 1000
        run = sim.train_two_layer(params, x, y, _GRID / lam0, steps, activation)
        return lam0, jax.tree_util.tree_map(np.asarray, run)

    return ctx.memoise(("catapult/sweep", activation, width, ctx.size), compute)


def _widths(ctx: Context, activation: str = "linear") -> tuple[int, ...]:
    if ctx.smoke:
        return (128,)
    # ReLU nets start at 512: at width 256 (full, 1000 steps) the NTK of the eta*lam0 = 1.9 run ends 7%
    # below lam0 (a finite-width shift of the boundary below 2/lam0), which the 5% lazy criterion reads as
    # a catapult.
    if not ctx.quick:
        return (256, 1024, 4096) if activation == "linear" else (1024, 4096)
    return (128, 512) if activation == "linear" else (512,)


@check("catapult.uv_map", uses={"uv_map": "catapult.uv_map"}, smoke=True)
def uv_map(ctx: Context, uv_map):
    """The derived (f, lam) map iterated vs GD on explicit vectors u, v, in all three phases."""
    n, steps = (200, 100) if ctx.smoke else (1000, 300)
    u, v = sim.uv_vectors(ctx.key("uv_map"), n, 1.0, 0.3)
    curves = {"step": np.arange(steps + 1)}
    for eta_lam0, label in ((1.5, 0.0), (3.0, 0.0), (3.9, 0.0), (4.5, 0.0), (3.0, 0.7)):
        direct = sim.gd_uv(u, v, eta_lam0, steps, label=label)
        f, lam = uv_trajectory(eta_lam0, float(direct.lam[0]), float(direct.f[0]), n, steps,
                               label=label, uv_map=uv_map)
        # compare while the run is below overflow territory (the divergent one leaves it)
        ok = np.asarray(jnp.isfinite(direct.f) & (jnp.abs(direct.f) < 1e6))
        scale = float(np.max(np.abs(np.asarray(direct.f)[ok])))
        err_f = np.max(np.abs(np.asarray(f)[ok] - np.asarray(direct.f)[ok])) / scale
        err_lam = np.max(np.abs(np.asarray(lam)[ok] / np.asarray(direct.lam)[ok] - 1))
        if label == 0.0 and eta_lam0 in (1.5, 3.0, 4.5):
            curves[f"lam: predicted_eta*lam0={eta_lam0}"] = np.where(ok, lam, np.nan)
            curves[f"lam: measured_eta*lam0={eta_lam0}"] = np.where(ok, direct.lam, np.nan)
            curves[f"loss: predicted_eta*lam0={eta_lam0}"] = np.where(ok, 0.5 * np.asarray(f) ** 2, np.nan)
            curves[f"loss: measured_eta*lam0={eta_lam0}"] = np.where(ok, 0.5 * np.asarray(direct.f) ** 2,
                                                                     np.nan)
        yield compare(f"eta*lam0={eta_lam0}, y={label}, n={n}, {int(ok.sum())} steps: f / max|f|",
                      0.0, err_f, 1e-9,
                      "float64 round-off in u, v, amplified while f grows through the catapult "
                      "(<= 1e-13 seen); compared while |f| < 1e6", relative=False)
        yield compare(f"eta*lam0={eta_lam0}, y={label}, n={n}: lam", 0.0, err_lam, 1e-9,
                      "float64 round-off, as for f", relative=False)
    shown = slice(0, 80)  # the catapult is over by then; later the direct loss sits at round-off
    for what, ylabel in (("lam", r"NTK $\lambda_t$"), ("loss", r"loss $(f_t - y)^2/2$")):
        ys = [k for k in curves if k.startswith(f"{what}: ")]
        columns = {"step": curves["step"][shown], **{k.split(": ")[1]: curves[k][shown] for k in ys}}
        ctx.figure(f"catapult_uv_{what}", columns, x="step", ys=[k for k in columns if k != "step"], logy=True,
                   ylabel=ylabel, title=f"uv model, n={n}: {what} in the three phases "
                                        "(lines: derived map; markers: GD on u, v)")


@check("catapult.uv_phases", uses={"critical_lr": "catapult.critical_lr", "max_lr": "catapult.max_lr"},
       smoke=True)
def uv_phases(ctx: Context, critical_lr, max_lr):
    """Phases of GD on explicit uv vectors across eta*lam0 vs the derived 2/lam0 and 4/lam0."""
    n, steps = (1000, 400) if ctx.quick else (4000, 1000)
    lam0 = 1.0
    u, v = sim.uv_vectors(ctx.key("uv_phases"), n, lam0, 0.1)
    for eta_lam0 in (0.5, 1.5, 1.9, 2.1, 2.5, 3.0, 3.5, 3.8, 4.2, 5.0):
        eta = eta_lam0 / lam0
        run = sim.gd_uv(u, v, eta, steps)
        measured = _measured_phase(bool(run.diverged), float(run.lam[-1]), lam0, eta)
        yield compare_outcome(f"eta*lam0={eta_lam0}, n={n}", _predicted_phase(eta, lam0, critical_lr, max_lr),
                              measured, f"categorical: diverged; lam moved < {_LAZY_DRIFT:.0%} (lazy: "
                              "drift O(f0^2/n)); or final lam < 2/eta (catapult)")


def _phase_figures(ctx: Context, critical_lr, max_lr) -> None:
    """Final NTK / lam0 and max loss over (eta * lam0, width), with the derived boundaries drawn."""
    lazy_edge, max_edge = float(critical_lr(lam0=1.0)), float(max_lr(lam0=1.0))  # in units of 1/lam0
    boundaries = {"vline": [(lazy_edge, "critical_lr = 2/lam0"), (max_edge, "max_lr = 4/lam0")]}
    shown = _GRID <= 6  # the linear nets diverge above 4: nothing to show further right
    lazy = _GRID < lazy_edge
    catapult = ~lazy & (_GRID < max_edge)
    columns = {"eta*lam0": _GRID[shown],
               "predicted_lazy: lam/lam0 = 1": np.where(lazy, 1.0, np.nan)[shown],
               "predicted_catapult: upper bound 2/(eta lam0)": np.where(catapult, 2 / _GRID, np.nan)[shown]}
    peaks = {"eta*lam0": _GRID[shown]}
    grid = {"eta*lam0": [], "log2 width": [], "measured_final NTK / lam0": [], "measured_log10 max loss": []}
    for width in _widths(ctx):
        lam0, run = _sweep(ctx, "linear", width)
        final = np.where(run.diverged, np.nan, run.ntk_final / lam0)
        peak = np.where(run.diverged, np.nan, np.max(run.losses, axis=1))
        columns[f"measured_width={width}"] = final[shown]
        peaks[f"measured_width={width}"] = peak[shown]
        grid["eta*lam0"] += list(_GRID[shown])
        grid["log2 width"] += [np.log2(width)] * int(shown.sum())
        grid["measured_final NTK / lam0"] += list(final[shown])
        grid["measured_log10 max loss"] += list(np.log10(peak[shown]))
    ctx.figure("catapult_final_ntk", columns, x="eta*lam0", ys=[k for k in columns if k != "eta*lam0"],
               ylabel=r"final NTK top eigenvalue / $\lambda_0$", reference=boundaries,
               title="linear nets: final NTK / lam0 (missing: diverged)")
    ctx.figure("catapult_max_loss", peaks, x="eta*lam0", ys=[k for k in peaks if k != "eta*lam0"], logy=True,
               ylabel="max loss over the run", reference=boundaries,
               title="linear nets: max loss over the run (missing: diverged)")
    for name, column, label in (("ntk", "measured_final NTK / lam0", "final NTK / lam0"),
                                ("loss", "measured_log10 max loss", "log10 of the max loss")):
        ctx.figure(f"catapult_phase_{name}", {k: grid[k] for k in ("eta*lam0", "log2 width", column)},
                   x="eta*lam0", ys=[column], grid_y="log2 width", ylabel=label, reference=boundaries,
                   title=f"phase diagram of linear nets: {label} (blank: diverged; dashed: derived boundaries)")


def _boundary(grid, phases, below: str) -> tuple[float, float]:
    """Midpoint and half-width of the grid interval where the phase stops being ``below``."""
    last = max(i for i, p in enumerate(phases) if p == below)
    return (grid[last] + grid[last + 1]) / 2, (grid[last + 1] - grid[last]) / 2


@check("catapult.two_layer_linear", uses={"critical_lr": "catapult.critical_lr", "max_lr": "catapult.max_lr"},
       smoke=True)
def two_layer_linear(ctx: Context, critical_lr, max_lr):
    """Wide two-layer linear nets (NTK param., summed loss): lazy/catapult/divergent at 2/lam0, 4/lam0."""
    if not ctx.smoke:
        _phase_figures(ctx, critical_lr, max_lr)
    for width in _widths(ctx):
        lam0, run = _sweep(ctx, "linear", width)
        etas = _GRID / lam0
        phases = [_measured_phase(bool(d), float(lf), lam0, e)
                  for d, lf, e in zip(run.diverged, run.ntk_final, etas)]
        for eta_lam0, eta, measured in zip(_GRID, etas, phases):
            if eta_lam0 > 6:
                continue  # far into the divergent phase: one row per side of each boundary suffices
            yield compare_outcome(f"width={width}, eta*lam0={eta_lam0}",
                                  _predicted_phase(eta, lam0, critical_lr, max_lr), measured,
                                  f"categorical: diverged; final NTK within {_LAZY_DRIFT:.0%} of lam0 "
                                  "(finite-width drift <= 2% at width 128); or below 2/eta")
        for name, formula, below in (("lazy->catapult", critical_lr, "lazy"),
                                     ("catapult->divergent", max_lr, "catapult")):
            middle, half = _boundary(_GRID, phases, below)
            predicted = float(formula(lam0=lam0)) * lam0
            yield compare(f"width={width}: {name} boundary (eta*lam0)", predicted, middle,
                          half / middle + 1e-12, "grid resolution: the boundary is bracketed by two "
                          "grid points, reported at their midpoint")


_RELU_REASON = (
    "The paper's ~12/lam0 (sec. 3) is an empirical value for deeper ReLU "
    "nets on image data (its NTK and loss are normalised by the number of examples, which leaves eta*lam0 "
    "unchanged; architecture and data details not re-checked here: unconfirmed). Here: one hidden layer, "
    "8 Gaussian points in 4 dimensions, summed loss. Brief probe (2 seeds each, 500 steps): with m = 8, "
    "64 or 256 points the largest converging eta*lam0 is 3.5-4.5 at widths 512-2048, near the linear "
    "4/lam0; with ONE example it is 8-15, reached by switching the ReLU units off (final NTK ~ 0), a "
    "route to large stable rates that more data closes")


@check("catapult.two_layer_relu", uses={"critical_lr": "catapult.critical_lr"}, smoke=True,
       cites=cite("lewkowycz2020", "sec. 3 (ReLU nets: maximal rate about 12/lam0)"))
def two_layer_relu(ctx: Context, critical_lr):
    """Wide two-layer ReLU nets: lazy/catapult boundary at 2/lam0; divergence vs the paper's ~12/lam0."""
    for width in _widths(ctx, "relu"):
        lam0, run = _sweep(ctx, "relu", width)
        etas = _GRID / lam0
        phases = [_measured_phase(bool(d), float(lf), lam0, e)
                  for d, lf, e in zip(run.diverged, run.ntk_final, etas)]
        middle, half = _boundary(_GRID, phases, "lazy")
        yield compare(f"width={width}: lazy->catapult boundary (eta*lam0)",
                      float(critical_lr(lam0=lam0)) * lam0, middle, half / middle + 1e-12,
                      "grid resolution: bracketed by two grid points, reported at their midpoint")
        converged = [i for i, p in enumerate(phases) if p != "divergent"]
        first_divergent = _GRID[max(converged) + 1] if max(converged) + 1 < len(_GRID) else np.inf
        largest = _GRID[max(converged)]
        yield not_reproduced(f"width={width}: largest converging eta*lam0 (next grid point diverges at "
                             f"{first_divergent:g})", 12.0, largest, first_divergent - largest, _RELU_REASON,
                             category="discretisation", what="grid spacings (the divergence edge lies "
                             "between the largest converging and the first diverging grid point)")


@check("catapult.loss_spike", uses={"uv_map": "catapult.uv_map"}, smoke=True)
def loss_spike(ctx: Context, uv_map):
    """Loss spike of the catapult: the uv model's prediction vs two-layer linear networks.

    (a) One example: the network is the uv model, exactly. (b) 8 examples: the top NTK mode
    as a uv model of width n/s1^2 (``_top_mode_spike``), compared at widths >= 512.
    """
    width = {"smoke": 128, "quick": 512, "full": 4096}[ctx.size]
    # (a) One example with |x|^2 = d: the linear net IS the uv model (u = W x / sqrt(d)).
    d, label = 4, 0.5
    direction = jax.random.normal(ctx.key("loss_spike/x"), (1, d))
    x = jnp.sqrt(d) * direction / jnp.linalg.norm(direction)
    params = sim.init_two_layer(ctx.key("loss_spike/init"), width, d)
    lam0 = float(sim.ntk_top_eigenvalue(params, x, "linear"))
    f0 = float(sim.two_layer_output(params, x, "linear")[0])
    steps, grid = 200, (1.5, 3.0)
    run = sim.train_two_layer(params, x, jnp.array([label]), np.array(grid) / lam0, steps, "linear")
    for i, eta_lam0 in enumerate(grid):
        f, _ = uv_trajectory(eta_lam0 / lam0, lam0, f0, width, steps, label=label, uv_map=uv_map)
        predicted = 0.5 * (np.asarray(f) - label) ** 2
        yield compare(f"one example, width={width}, eta*lam0={eta_lam0}: max loss", predicted.max(),
                      np.asarray(run.losses[i]).max(), 1e-9, "exact equivalence (u = W x / sqrt(d), "
                      "|x|^2 = d); float64 round-off amplified through the catapult")
    # (b) The 8-point data set: the top NTK mode as a uv model (see _top_mode_spike).
    x, y = _dataset(ctx)
    spread = float(np.linalg.eigvalsh(np.asarray(x @ x.T) / x.shape[1])[-1])  # s1^2
    figure = {"eta*lam0": _SPIKE_GRID}
    for w in _widths(ctx):
        lam0, run = _sweep(ctx, "linear", w)
        params = sim.init_two_layer(ctx.key(f"catapult/init/{w}"), w, x.shape[1])
        measured = np.array([float(np.max(run.losses[int(np.flatnonzero(_GRID == e)[0])])) for e in _SPIKE_GRID])
        reductions = [_top_mode_reduction(params, x, y, e / lam0, w / spread, uv_map) for e in _SPIKE_GRID]
        predicted = np.array([r.prediction for r in reductions])
        figure[f"predicted_width={w}"], figure[f"measured_width={w}"] = predicted, measured
        for eta_lam0, red, m in zip(_SPIKE_GRID, reductions, measured):
            label = f"8 points, width={w}, eta*lam0={eta_lam0}: max loss (top mode as uv model, n = width/s1^2)"
            # Below _SPIKE_MIN_WIDTH no row (the figure shows them): the reduction's error reached a
            # factor 3.8 over 5 data seeds at width 128 (finite-width NTK eigenvectors differ from the data's).
            if w >= _SPIKE_MIN_WIDTH:
                yield compare(label, red.prediction, m, red.tolerance, _spike_reason(red),
                              category="finite-size")
    if not ctx.smoke:
        ctx.figure("catapult_loss_spike", figure, x="eta*lam0", ys=[k for k in figure if k != "eta*lam0"],
                   logy=True, ylabel="max loss over the run",
                   title="catapult loss spike of linear nets on 8 points: uv model of the top NTK mode "
                         "(lines) vs GD (markers)")


# The loss spike on m examples, compared where the single-mode reduction holds.
_SPIKE_GRID = np.array([2.5, 3.0, 3.5])  # well inside the catapult phase (near 2 the spike is slow and small)
_SPIKE_MIN_WIDTH = 512


class _Reduction(NamedTuple):
    """The top-mode prediction of the max loss and the first-order size of what it neglects."""

    prediction: float
    kernel_shift: float  # relative change of the prediction: other modes' pull on the top NTK eigenvalue
    output_shift: float  # ... their pull on the top mode's output (the eta^2 term of f)
    rest_decay: float  # ... the other modes' loss decaying (lazily) by the peak, not kept at its initial value
    width_shift: float  # ... n / (e.M e) instead of n / s1^2 (e the NTK's top eigenvector, not M's)
    tolerance: float  # sum of their sizes plus the square of their sum (second order)


def _spike_reason(red: _Reduction) -> str:
    return (f"single-mode reduction, its neglected part computed at first order from this run's NTK, outputs and "
            f"parameters (other modes lazy, P = X W'W X'/(nd) and |v|^2/n frozen): the other modes' coupling through "
            f"the shared v and W shifts the top eigenvalue ({red.kernel_shift:+.4f}) and the top output's eta^2 "
            f"term ({red.output_shift:+.4f}); their loss decays by the peak ({red.rest_decay:+.4f}); finite-width "
            f"n / (e.M e) vs n / s1^2 ({red.width_shift:+.4f}); tolerance = sum of sizes + (sum)^2 for the "
            f"second order (leading order at large width)")


def _top_mode_reduction(params, x, y, eta: float, n_eff: float, uv_map) -> _Reduction:
    r"""The uv prediction of the top NTK mode (``_top_mode_spike``) and, at first order, what it neglects.

    The two-layer linear net's exact GD on the outputs: with $M = XX^\top/d$, $P = XW^\top WX^\top/(nd)$,
    $q = |v|^2/n$ (NTK $K = P + qM$) and residual $r = f - y$,
    $f' = f - \eta K r + \eta^2 (M r)(f\cdot r)/n$ and the NTK's change along the top eigenvector $e$
    is $-2\eta (e\cdot f)(e^\top M r)/n + \eta^2 q (e^\top M r)^2/n + s[-2\eta (f\cdot r) + \eta^2 r^\top P r]/n$,
    $s = e^\top M e$. Keeping only the top mode in $r$ gives the uv map with $n/s$; the difference with
    the full $r$ (the other modes decaying lazily, $r_k(t) = r_k(0)(1 - \eta\lambda_k)^t$, the top mode on
    the uv trajectory, $P$ and $q$ at their initial values) up to the peak is the neglected coupling:
    summed into a shift of $\lambda_0$ (propagated through the uv model) and into the top output's
    relative change (doubled for the loss). Not re-typing the uv map: these are the network's own equations.
    """
    gram = np.asarray(sim.ntk_gram(params, x, "linear"))
    values, vectors = np.linalg.eigh(gram)
    top = vectors[:, -1]
    width = params["v"].shape[0]
    m_data = np.asarray(x @ x.T) / x.shape[1]
    q = float(np.sum(np.asarray(params["v"]) ** 2)) / width
    p_feat = gram - q * m_data
    s = float(top @ m_data @ top)
    out, labels = np.asarray(sim.two_layer_output(params, x, "linear")), np.asarray(y)
    modes, mode_labels = vectors.T @ (out - labels), vectors.T @ labels
    rest = 0.5 * float(np.sum(modes[:-1] ** 2))

    def peak(lam0, n):
        g, _ = uv_trajectory(eta, lam0, float(top @ out), n, 300, label=float(mode_labels[-1]), uv_map=uv_map)
        loss = 0.5 * (np.asarray(g) - float(mode_labels[-1])) ** 2
        return float(np.max(loss)), int(np.argmax(loss)), np.asarray(g)

    top_peak, t_peak, g = peak(float(values[-1]), n_eff)
    prediction = top_peak + rest
    if not np.isfinite(prediction):  # the uv model diverged: no first-order estimate (nan fails the row)
        return _Reduction(prediction, *(4 * [np.nan]), np.nan)

    def updates(rr):  # (top eigenvalue change, eta^2 term of e.f) for mode residuals rr
        r, f = vectors @ rr, vectors @ (mode_labels + rr)
        mr = float(top @ m_data @ r)
        return (-2 * eta * float(top @ f) * mr / width + eta**2 * q * mr**2 / width
                + s * (-2 * eta * float(f @ r) + eta**2 * float(r @ p_feat @ r)) / width,
                eta**2 * mr * float(f @ r) / width)

    shift_lam = shift_f = 0.0
    for t in range(t_peak):
        full = modes * (1 - eta * values) ** t
        full[-1] = g[t] - mode_labels[-1]
        alone = np.zeros_like(full)
        alone[-1] = full[-1]
        (dl_full, df_full), (dl_alone, df_alone) = updates(full), updates(alone)
        shift_lam += dl_full - dl_alone
        shift_f += (df_full - df_alone) / (g[t + 1] - mode_labels[-1])
    lam_shifted = float(values[-1]) + shift_lam  # <= 0: the coupling is not a perturbation (nan fails the row)
    kernel = (peak(lam_shifted, n_eff)[0] + rest) / prediction - 1 if lam_shifted > 0 else np.nan
    output = 2 * shift_f * top_peak / prediction
    decay = (0.5 * float(np.sum((modes[:-1] * (1 - eta * values[:-1]) ** t_peak) ** 2)) - rest) / prediction
    widths = (peak(float(values[-1]), width / s)[0] + rest) / prediction - 1
    first = (kernel, output, decay, widths)
    size = float(np.sum(np.abs(first)))
    # Where the first-order sizes reach 1 their square (the second order) is as large as they are: the
    # expansion says nothing, and no tolerance follows from it (a residual of the top mode passing
    # near 0 makes the output term large): nan, so the row fails rather than passing on any value.
    tolerance = size + float(np.sum(first)) ** 2 if size < 1 else np.nan
    return _Reduction(prediction, *first, tolerance)


def _top_mode_spike(params, x, y, eta: float, n_eff: float, uv_map) -> float:
    r"""Max summed loss over the run predicted by the uv model of the top NTK mode.

    Two-layer linear net $f(x) = v\cdot Wx/\sqrt{nd}$ on data $X$ ($m\times d$). Along the
    top eigenvector $e$ of the NTK Gram matrix (at large width, the top eigenvector of
    $XX^\top$) the output $g = e\cdot f = s_1\, v\cdot(Ws)/\sqrt n$, with $s$ the top
    right-singular direction of $X$ and $s_1^2$ the top eigenvalue of $XX^\top/d$. GD on
    $\tfrac12 (g - e\cdot y)^2$ in $(a, b) = \sqrt{s_1}(Ws, v)$ is the uv model with rate
    $\eta s_1$; in terms of $\eta$ and the NTK eigenvalue $\lambda_0$ it is the uv map with
    $n$ replaced by $n/s_1^2$. Prediction: the uv peak of $\tfrac12(g - e\cdot y)^2$ plus
    the initial loss of the other modes (lazy, they only decay).
    """
    return _top_mode_reduction(params, x, y, eta, n_eff, uv_map).prediction

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate catapult --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("catapult.max_lr", "a factor 2: 8/lam0", "8/lam0"),
    mistake("catapult.critical_lr", "a factor 2 lost: 1/lam0", "1/lam0"),
    mistake("catapult.uv_map", "a factor 2 lost in the kernel update (2 f (y - f)/n instead of 4)",
            ("eta**2*(f**3/n - 2*f**2*y/n + f*y**2/n) + eta*(-f*lam + lam*y) + f",
             "eta**2*(f**2*lam/n - 2*f*lam*y/n + lam*y**2/n) + eta*(-2*f**2/n + 2*f*y/n) + lam")),
)
