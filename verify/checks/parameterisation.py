"""Parameterisations across width: coordinate check, largest stable learning rate (GD and Adam) and
its transfer, mean-field feature learning, the empirical NTK's change (GD and Adam), each as fitted
log-log slopes over widths on direct runs."""

from __future__ import annotations

import numpy as np

from analytic.parameterisation import PARAMETERISATIONS, formula_values, two_layer_values
from numeric import parameterisation as sim
from verify.core import Context, check, compare

_DEEP = ("standard", "ntk", "mup", "standard_readout_lr_width")  # three weight matrices
_SHALLOW = ("standard", "ntk", "mean_field", "standard_readout_lr_width", "standard_readout_lr_width2")  # two weight matrices
_IN_DIM, _EXAMPLES = 8, 8


def _widths(ctx: Context) -> np.ndarray:
    return np.array([32, 64, 128, 256, 512] if ctx.quick else [64, 128, 256, 512, 1024, 2048, 4096])


def _data(ctx: Context):
    """A fixed regression batch: inputs N(0, I/d), targets sin(3 x_0) + x_1 (float32)."""
    rng = np.random.default_rng(2800 + ctx.seed)
    x = rng.normal(size=(_EXAMPLES, _IN_DIM)) / np.sqrt(_IN_DIM)
    return x.astype(np.float32), (np.sin(3 * x[:, 0]) + x[:, 1]).astype(np.float32)


def _scales(widths, names, layers=("in", "hid", "out")) -> np.ndarray:
    """(W, P, layers, 3): multiplier width^-a, init std width^-b, learning-rate factor width^-c."""
    return np.array([[[[float(n) ** -float(e) for e in PARAMETERISATIONS[p][layer]] for layer in layers]
                      for p in names] for n in widths], dtype=np.float32)


def _slopes(widths, logs):
    """Least-squares slope of log2(value) on log2(width) per seed: logs (W, ..., S) -> (..., S)."""
    u = np.log2(widths) - np.log2(widths).mean()
    return np.tensordot(u, logs - logs.mean(0), axes=(0, 0)) / np.sum(u**2)


def _fitted(widths, logs):
    """Mean slope over seeds, its standard error, and a finite-size allowance: half the difference
    between the slopes over the narrower and the wider half of the widths (seed means)."""
    slopes = _slopes(widths, logs)
    seeds = slopes.shape[-1]
    mean = logs.mean(-1)
    half = (len(widths) + 1) // 2
    narrow, wide = _slopes(widths[:half], mean[:half, ..., None]), _slopes(widths[-half:], mean[-half:, ..., None])
    return slopes.mean(-1), slopes.std(-1, ddof=1) / np.sqrt(seeds), np.abs(narrow - wide)[..., 0] / 2


@check("parameterisation.coordinate_check", uses={"updates": "parameterisation.activation_update_exponents"})
def coordinate_check(ctx: Context, updates):
    """Each layer's activation change after one SGD step scales as width^e, e from abc power counting."""
    widths, (x, _) = _widths(ctx), _data(ctx)
    seeds = 10  # independent initialisations
    z = sim.unit_normal_weights(ctx.seed, _IN_DIM, int(widths[-1]), 3, seeds, 1)
    run = ctx.measure(sim.first_step_updates, z, x, np.ones(_EXAMPLES, np.float32), widths, _scales(widths, _DEEP),
                      0.01)
    logs = np.moveaxis(np.log2(np.asarray(run, float)), 2, -1)  # (W, P, 3, seeds)
    slope, error, finite = _fitted(widths, logs)
    for i, name in enumerate(_DEEP):
        predicted = np.asarray(updates(**formula_values(name)), float)
        yield compare(f"{name}: exponents of RMS dh^1, dh^L, df after one step (widths {widths[0]}-{widths[-1]}, "
                      f"{seeds} seeds)", predicted, slope[i], 3 * error[i] + finite[i],
                      "3 standard errors of the fitted log-log slope over seeds, plus a finite-size allowance: "
                      "half the difference of the slopes fitted over the narrower and the wider widths",
                      relative=False)
    geometric = 2.0 ** logs.mean(-1)  # (W, P, 3)
    columns = {"width": widths}
    for i, name in enumerate(_DEEP[:3]):
        predicted = np.asarray(updates(**formula_values(name)), float)
        for j, layer in enumerate(("h1", "hL", "f")):
            columns[f"measured_{name}_{layer}"] = geometric[:, i, j]
            columns[f"predicted_{name}_{layer}"] = geometric[0, i, j] * (widths / widths[0]) ** predicted[j]
    ctx.figure("parameterisation_coordinate_check", columns, x="width",
               ys=tuple(k for k in columns if k != "width"), logx=True, logy=True,
               title="coordinate check (lr 0.01); lines: width^exponent through the narrowest width",
               ylabel="RMS change after one step")


def _extrapolated(widths, logs):
    """Slopes corrected for an O(width^-1/2) finite-size term (Richardson): the local slope at the
    geometric centre c of a set of widths is e + C c^-1/2, so from the narrower and the wider half,
    e = s_all - (s_narrow - s_wide) c_all^-1/2 / (c_narrow^-1/2 - c_wide^-1/2). Per seed, then the
    mean, its standard error, and half the correction as the allowance for the assumed form."""
    half = (len(widths) + 1) // 2
    centre = [2.0 ** np.log2(w).mean() for w in (widths, widths[:half], widths[-half:])]
    factor = centre[0] ** -0.5 / (centre[1] ** -0.5 - centre[2] ** -0.5)
    whole, narrow, wide = (_slopes(w, logs[i]) for w, i in ((widths, slice(None)), (widths[:half], slice(0, half)),
                                                            (widths[-half:], slice(-half, None))))
    corrected = whole - factor * (narrow - wide)
    seeds = corrected.shape[-1]
    return (corrected.mean(-1), corrected.std(-1, ddof=1) / np.sqrt(seeds),
            np.abs(factor * (narrow - wide)).mean(-1) / 2)


@check("parameterisation.adam_coordinate_check",
       uses={"updates": "parameterisation.adam_activation_update_exponents"})
def adam_coordinate_check(ctx: Context, updates):
    """After Adam's first step (sign descent) each layer's activation change scales as width^e."""
    widths, (x, _) = _widths(ctx), _data(ctx)
    seeds, names = 10, ("standard", "ntk", "mup_adam", "mup")
    z = sim.unit_normal_weights(ctx.seed, _IN_DIM, int(widths[-1]), 3, seeds, 1)
    run = ctx.measure(sim.first_step_updates, z, x, np.ones(_EXAMPLES, np.float32), widths, _scales(widths, names),
                      1e-4, optimizer="adam")  # small: the standard hidden change (~ width) stays linear
    logs = np.moveaxis(np.log2(np.asarray(run, float)), 2, -1)  # (W, P, 3, seeds)
    # Adam's competing contributions differ by width^1/2 (e.g. ntk hidden: own width^1/2, carried width^0),
    # so the plain slope over 32-512 is biased by O(width^-1/2): extrapolate it
    slope, error, finite = _extrapolated(widths, logs)
    for i, name in enumerate(names):
        predicted = np.asarray(updates(**formula_values(name)), float)
        yield compare(f"{name} (Adam): exponents of RMS dh^1, dh^L, df after one step, extrapolated (widths "
                      f"{widths[0]}-{widths[-1]}, {seeds} seeds)", predicted, slope[i], 3 * error[i] + finite[i],
                      "3 standard errors over seeds of the log-log slope extrapolated for an O(1/sqrt(width)) "
                      "finite-size term (Richardson from the narrower and wider halves), plus half that correction",
                      relative=False)


def _bracket(ctx, z, x, y, widths, scales, steps, rounds=3, grid=6, low=-24.0, high=10.0, optimizer="sgd"):
    """Multisection (bisection with ``grid`` points a round) of log2 learning_rate per width,
    parameterisation and seed: the largest rate whose run does not diverge. Returns (low, high)."""
    shape = (widths.size, scales.shape[1], z[0].shape[0])
    lo, hi = np.full(shape, low), np.full(shape, high)
    for _ in range(rounds):
        points = lo[..., None] + (hi - lo)[..., None] * np.arange(1, grid + 1) / (grid + 1)
        run = ctx.measure(sim.train, z, x, y, widths, scales, (2.0**points).astype(np.float32), steps,
                          optimizer=optimizer)
        diverged = np.asarray(run.diverged)  # (W, P, S, G): monotone in the rate, up to noise
        first = np.where(diverged.any(-1), diverged.argmax(-1), grid)
        below = np.take_along_axis(points, np.maximum(first - 1, 0)[..., None], -1)[..., 0]
        above = np.take_along_axis(points, np.minimum(first, grid - 1)[..., None], -1)[..., 0]
        lo, hi = np.where(first > 0, below, lo), np.where(first < grid, above, hi)
    return lo, hi


def _edge_exponent_rows(ctx, z, x, y, widths, scales, steps, seeds, names, exponent, optimizer, **bracket):
    """The largest stable learning rate bracketed on direct runs (log2, (W, P, S)) and one row per
    parameterisation comparing its fitted width exponent with ``exponent``'s (``optimizer``: "" for GD,
    "adam"; the runs' loss criterion is the bracket's)."""
    kwargs = dict(bracket, **({"optimizer": optimizer} if optimizer else {}))
    lo, hi = _bracket(ctx, z, x, y, widths, scales, steps, **kwargs)
    edge = (lo + hi) / 2
    slope, error, finite = _fitted(widths, edge)
    short_lo, short_hi = _bracket(ctx, z, x, y, widths, scales, steps // 2, **kwargs)  # half the horizon
    horizon = np.abs(slope - _fitted(widths, (short_lo + short_hi) / 2)[0])
    u = np.log2(widths) - np.log2(widths).mean()
    resolution = float(np.max(hi - lo)) / 2 * np.sum(np.abs(u)) / np.sum(u**2)  # worst slope shift of the bracket
    runs = f"{steps}-step {optimizer.capitalize() + ' ' if optimizer else ''}runs"
    rows = [compare(f"{name}{' (Adam)' if optimizer else ''}: exponent of the largest stable learning rate "
                    f"(bisection on {runs}, widths {widths[0]}-{widths[-1]}, {seeds} seeds)",
                    float(exponent(**two_layer_values(name))), slope[i],
                    3 * error[i] + finite[i] + horizon[i] + resolution,
                    "3 standard errors of the fitted slope over seeds, a finite-size allowance (half the "
                    "difference of the narrower and wider halves' slopes), a finite horizon allowance (the "
                    f"slope's change from {steps // 2} to {steps} steps), and the bisection bracket's width",
                    relative=False)
            for i, name in enumerate(names)]
    return edge, rows


@check("parameterisation.max_learning_rate", uses={"exponent": "parameterisation.max_learning_rate_exponent"})
def max_learning_rate(ctx: Context, exponent):
    """Largest stable learning rate vs width, bracketed on direct runs; best learning rate of a short run."""
    widths, (x, y) = _widths(ctx), _data(ctx)
    seeds, grid, steps = 3, 6, 32
    z = sim.unit_normal_weights(ctx.seed + 1, _IN_DIM, int(widths[-1]), 2, seeds, grid)
    scales = _scales(widths, _SHALLOW, ("in", "out"))
    edge, rows = _edge_exponent_rows(ctx, z, x, y, widths, scales, steps, seeds, _SHALLOW, exponent, "")
    yield from rows
    predicted = {name: float(exponent(**two_layer_values(name))) for name in _SHALLOW}
    centre = edge.mean(-1)  # (W, P)
    best, transfer = _transfer_rows(ctx, z, x, y, widths, scales, steps, centre, grid, predicted,
                                    ((0, "standard"), (2, "mean_field")), "")  # muP at depth one is mean-field
    yield from transfer
    columns = {"width": widths}
    for i, name in enumerate(_SHALLOW[:3]):
        columns[f"measured_edge_{name}"] = 2.0 ** centre[:, i]
        columns[f"measured_best_{name}"] = 2.0 ** best[:, i]
        columns[f"predicted_edge_{name}"] = 2.0 ** centre[0, i] * (widths / widths[0]) ** predicted[name]
    ctx.figure("parameterisation_lr_transfer", columns, x="width", ys=tuple(k for k in columns if k != "width"),
               logx=True, logy=True, title="largest stable and best learning rate vs width (two-layer tanh MLP)",
               ylabel=f"learning rate (edge: bisection; best: {steps}-step minimum)")


def _transfer_rows(ctx, z, x, y, widths, scales, steps, centre, grid, predicted, compared, optimizer):
    """Learning-rate transfer: the best rate of a short run on a 1-octave grid from 4.5 octaves below
    the measured edge ``centre`` (log2, (W, P)) to half an octave above it (a grid independent of the
    edge would need another program), and per compared (index, name) one row: the shift of the best
    rate over the widths, in octaves, vs the derived exponent times the octaves of width.
    Returns (best (W, P) log2, rows)."""
    points = centre[..., None] + np.arange(-grid + 1.5, 1.0)
    kwargs = {"optimizer": optimizer} if optimizer else {}
    run = ctx.measure(sim.train, z, x, y, widths, scales, (2.0**points).astype(np.float32), steps, **kwargs)
    final = np.asarray(run.final_loss, float)  # a diverged run (inf) counts as a loss of 1e6
    loss = np.log(np.where(np.isfinite(final), final, 1e6)).mean(2)  # (W, P, G): mean log loss over seeds
    best = np.take_along_axis(points, loss.argmin(-1)[..., None], -1)[..., 0]  # (W, P) log2
    span = np.log2(widths[-1] / widths[0])
    runs = f"{steps} {optimizer.capitalize() + ' ' if optimizer else ''}steps"
    rows = []
    for i, name in compared:
        shift = float(np.polyfit(np.log2(widths), best[:, i], 1)[0]) * span
        rows.append(compare(f"{name}: shift of the best learning rate ({runs}) from width {widths[0]} to "
                            f"{widths[-1]}, octaves", predicted[name] * span, shift, 1.0,
                            "1 octave: the grid resolution; each best rate is the lowest-loss point of a 1-octave "
                            "grid, within half a grid step of the minimum, at either end of the fit",
                            relative=False))
    return best, rows


def _movement_run(ctx: Context):
    """20 GD steps of two-layer networks at learning rates stable at every width (shared, memoised)."""
    widths, (x, y) = _widths(ctx), _data(ctx)
    seeds, grid, steps = 3, 6, 20  # the shapes of max_learning_rate's runs: one compiled program
    z = sim.unit_normal_weights(ctx.seed + 2, _IN_DIM, int(widths[-1]), 2, seeds, grid, distinct=True)
    # as many parameterisations as _SHALLOW (one compiled program); learning rates stable at every width
    names = ("ntk", "mean_field", "mup", "standard_inverse_width_lr", "standard")
    rate = np.broadcast_to(np.array([0.5, 0.5, 0.5, 1.0, 1e-3], np.float32)[None, :, None],
                           (widths.size, len(names), grid))
    return widths, names, steps, ctx.measure(sim.train, z, x, y, widths, _scales(widths, names, ("in", "out")), rate,
                                             steps, with_kernel=True)


@check("parameterisation.mean_field_movement",
       uses={"movement": "parameterisation.first_layer_movement_exponent"})
def mean_field_movement(ctx: Context, movement):
    """First-layer relative weight movement vs width: Theta(1) in mean-field, width^-1/2 in NTK."""
    widths, names, steps, run = _movement_run(ctx)
    compared = [0, 1, 2, 3]
    moved = np.log2(np.asarray(run.relative_movement, float)[..., 0][:, compared])  # (W, 2, S, G) first layer
    moved = moved.reshape(*moved.shape[:2], -1)  # (W, 2, seeds)
    slope, error, finite = _fitted(widths, moved)
    for i, name in enumerate(names[:4]):
        chosen = {k: v for k, v in two_layer_values(name).items() if k != "c_out"}
        yield compare(f"{name}: exponent of |w1_T - w1_0| / |w1_0| after {steps} GD steps (widths {widths[0]}-"
                      f"{widths[-1]}, {moved.shape[-1]} seeds)", float(movement(**chosen)), slope[i],
                      3 * error[i] + finite[i],
                      "3 standard errors of the fitted slope over seeds, plus a finite-size allowance (half the "
                      "difference of the narrower and wider halves' slopes)", relative=False)


# as many as _SHALLOW (one compiled program); SGD's muP has NTK's Adam exponent (-1/2) at depth one, and the
# badly scaled readout (x width^2, predicted -3) makes a 10% error of the exponent visible
_ADAM_EDGE = ("standard", "ntk", "mup_adam", "mean_field", "standard_readout_lr_width2")


@check("parameterisation.adam_max_learning_rate",
       uses={"exponent": "parameterisation.adam_max_learning_rate_exponent"})
def adam_max_learning_rate(ctx: Context, exponent):
    """Adam's largest stable learning rate vs width (the preconditioned-sharpness edge), bracketed on direct runs."""
    widths, (x, y) = _widths(ctx), _data(ctx)
    # the shapes of max_learning_rate's runs (one compiled program); 16 steps: an Adam step is bounded
    # (|step| <= learning rate per coordinate), so a too large rate shows within a few steps
    seeds, grid, steps = 3, 6, 16
    z = sim.unit_normal_weights(ctx.seed + 1, _IN_DIM, int(widths[-1]), 2, seeds, grid)
    scales = _scales(widths, _ADAM_EDGE, ("in", "out"))
    edge, rows = _edge_exponent_rows(ctx, z, x, y, widths, scales, steps, seeds, _ADAM_EDGE, exponent, "adam",
                                     low=-28.0)
    yield from rows
    predicted = {name: float(exponent(**two_layer_values(name))) for name in _ADAM_EDGE}
    centre = edge.mean(-1)
    # Adam's learning-rate transfer (the same runs' shapes: one compiled program): flat under Adam's muP,
    # moving by the derived exponent under standard parameterisation
    _, transfer = _transfer_rows(ctx, z, x, y, widths, scales, steps, centre, grid, predicted,
                                 ((0, "standard"), (2, "mup_adam")), "adam")
    yield from transfer
    columns = {"width": widths}
    for i, name in enumerate(_ADAM_EDGE[:4]):
        columns[f"measured_adam_edge_{name}"] = 2.0 ** centre[:, i]
        columns[f"predicted_adam_edge_{name}"] = 2.0 ** centre[0, i] * (widths / widths[0]) ** predicted[name]
    ctx.figure("parameterisation_adam_edge", columns, x="width", ys=tuple(k for k in columns if k != "width"),
               logx=True, logy=True, title="Adam's largest stable learning rate (two-layer tanh)",
               ylabel=f"learning rate (bisection, {steps}-step runs; lines: width^exponent)")


_ADAM_KERNEL = ("mup_adam", "ntk_adam", "standard_inverse_width_lr", "mup", "ntk")


@check("parameterisation.kernel_change", uses={"sgd": "parameterisation.kernel_change_exponent",
                                               "adam": "parameterisation.adam_kernel_change_exponent"})
def kernel_change(ctx: Context, sgd, adam):
    """Relative change of the empirical NTK over a fixed number of GD or Adam steps vs width."""
    widths, names, steps, run = _movement_run(ctx)  # mean_field_movement's GD runs
    (x, y), grid = _data(ctx), run.kernel_change.shape[-1]
    z = sim.unit_normal_weights(ctx.seed + 3, _IN_DIM, int(widths[-1]), 2, 3, grid, distinct=True)
    # Adam at 0.1: stable at every width for the first three (their Adam edges are flat); the last two
    # (Adam edge ~ width^-1/2) at a rate far below it fill the program's shape and are not compared
    rate = np.broadcast_to(np.array([0.1, 0.1, 0.1, 1e-3, 1e-3], np.float32)[None, :, None],
                           (widths.size, len(_ADAM_KERNEL), grid))
    adam_run = ctx.measure(sim.train, z, x, y, widths, _scales(widths, _ADAM_KERNEL, ("in", "out")), rate, steps,
                           optimizer="adam", with_kernel=True)
    columns = {"width": widths}
    for optimizer, formula, chosen, measured in (("GD", sgd, names[:4], run),
                                                 ("Adam", adam, _ADAM_KERNEL[:3], adam_run)):
        changes = np.log2(np.asarray(measured.kernel_change, float)[:, :len(chosen)])
        changes = changes.reshape(*changes.shape[:2], -1)  # (W, P, seeds x grid draws)
        slope, error, finite = _fitted(widths, changes)
        for i, name in enumerate(chosen):
            predicted = float(formula(**two_layer_values(name)))
            yield compare(f"{name} ({optimizer}): exponent of |K_T - K_0| / |K_0| after {steps} steps (widths "
                          f"{widths[0]}-{widths[-1]}, {changes.shape[-1]} initialisations)", predicted, slope[i],
                          3 * error[i] + finite[i],
                          "3 standard errors of the fitted slope over initialisations, plus a finite-size allowance "
                          "(half the difference of the narrower and wider halves' slopes)", relative=False)
            geometric = 2.0 ** changes[:, i].mean(-1)
            columns[f"measured_{optimizer}_{name}"] = geometric
            columns[f"predicted_{optimizer}_{name}"] = geometric[0] * (widths / widths[0]) ** predicted
    ctx.figure("parameterisation_kernel_change", columns, x="width", ys=tuple(k for k in columns if k != "width"),
               logx=True, logy=True, title=f"empirical NTK's change in {steps} steps (GD mean field = muP)",
               ylabel="|K_T - K_0|_F / |K_0|_F (lines: width^exponent)")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("parameterisation.activation_update_exponents", "the hidden layer's fan-in sum x.x taken as Theta(1)",
            "(-2*a_in - a_out - b_out - c_in, Max(-2*a_in - a_out - b_out - c_in, -2*a_hid - a_out - b_out - c_hid), "
            "Max(-2*a_out - c_out + 1, -a_out - b_out + Max(-2*a_in - a_out - b_out - c_in, "
            "-2*a_hid - a_out - b_out - c_hid) + 1))"),
    mistake("parameterisation.adam_activation_update_exponents", "SGD's 2a instead of Adam's a in the input layer",
            "(-2*a_in - c_in, Max(-2*a_in - c_in, -a_hid - c_hid + 1), Max(-a_out - c_out + 1, -a_out - b_out + "
            "Max(-2*a_in - c_in, -a_hid - c_hid + 1) + 1))"),
    mistake("parameterisation.max_learning_rate_exponent", "muP and SP swapped: the readout's |x|^2 = width dropped",
            "-Max(-2*a_out - c_out, -2*a_in - 2*a_out - 2*b_out - c_in + 1)"),
    mistake("parameterisation.first_layer_movement_exponent", "the CLT factor sqrt(width) of |dh^1| dropped",
            "-2*a_in - a_out - b_out - c_in - 1/2"),
    mistake("parameterisation.adam_max_learning_rate_exponent",
            "SGD's kernel (no preconditioner) for Adam's edge: mean-field's and muP-for-Adam's edges flat and rising",
            "-Max(-2*a_out - c_out + 1, -2*a_in - 2*a_out - 2*b_out - c_in + 1)"),
    mistake("parameterisation.kernel_change_exponent",
            "Lee et al.'s bound as the rate: the random-sign first-order terms counted coherently (NTK: width^-1/2)",
            '-Max(-2*a_out - c_out + 1, -2*a_in - 2*a_out - 2*b_out - c_in + 1) + Max(-2*a_out - c_out + '
            'Max(-4*a_in - 2*c_in + 2*Max(-2*a_out - c_out, -a_out - b_out), -2*a_in - c_in + Max(-2*a_out - '
            'c_out, -a_out - b_out)) + 1, -2*a_in - 2*a_out - 2*b_out - c_in + Max(-4*a_in - 2*c_in + '
            '2*Max(-2*a_out - c_out, -a_out - b_out), -2*a_in - c_in + Max(-2*a_out - c_out, -a_out - b_out), '
            '-2*a_out + 2*b_out - 2*c_out, -a_out + b_out - c_out) + 1)'),
    mistake("parameterisation.adam_kernel_change_exponent", "SGD's movement (gradient-sized steps) for Adam's",
            '-Max(-2*a_out - c_out + 1, -2*a_in - 2*a_out - 2*b_out - c_in + 1) + Max(-2*a_out - c_out + '
            'Max(-4*a_in - 2*c_in + 2*Max(-2*a_out - c_out, -a_out - b_out), -2*a_in - c_in + Max(-2*a_out - '
            'c_out, -a_out - b_out) - 1/2, -2*a_in - c_in + Max(-2*a_out - c_out, -a_out - b_out) + Min(0, -a_out'
            ' + b_out - c_out)) + 1, -2*a_in - 2*a_out - 2*b_out - c_in + Max(-4*a_in - 2*c_in + 2*Max(-2*a_out -'
            ' c_out, -a_out - b_out), -2*a_out + 2*b_out - 2*c_out, -2*a_in - c_in + Max(-2*a_out - c_out, -a_out'
            ' - b_out) - 1/2, -2*a_in - c_in + Max(-2*a_out - c_out, -a_out - b_out) + Min(0, -a_out + b_out - '
            'c_out), -a_out + b_out - c_out - 1/2) + 1)'),
)
