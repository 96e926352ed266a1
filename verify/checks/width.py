"""Width: NTK relative variance and output kurtosis at initialisation vs depth/width (Monte Carlo over inits)."""

from __future__ import annotations

import zlib

import numpy as np

from numeric import width as sim
from verify.core import Context, check, compare

_ACTIVATIONS = ("relu", "linear")
_CELL_RATIO = 1 / 4  # beyond, 1000 draws undersample the tails (the estimators' variance grows ~ exp(c L/n))
_FIT_RATIO = 1 / 8  # cells with depth/width <= 1/8 enter the fit of the L/n coefficient (first-order regime)
_BLIND = ("at quick size (1000 draws, 11 cells) the fitted slope's tolerance (3 bootstrap standard errors plus "
          "its finite-size bias) is 10-50% of the coefficient: a 10% slip in the coefficient is not resolved (the "
          "full size, 4000 draws and widths to 256, is for a GPU); the exact per-cell Formulas are resolved by the "
          "pooled rows")


def _grid(ctx: Context):
    """(widths, max_depth, inits): a small grid at quick size, a larger one for a GPU."""
    if ctx.smoke:
        return (16, 32), 6, 300
    if ctx.quick:
        return (16, 32, 64), 8, 1000
    return (32, 64, 128, 256), 16, 4000


def _runs(ctx: Context, activation: str):
    widths, max_depth, inits = _grid(ctx)
    seed = ctx.seed * 1000 + zlib.crc32(activation.encode()) % 1000
    return [ctx.measure(sim.init_fluctuations, seed + i, activation, n, max_depth, inits,
                        chunk=min(inits, 250), padded_width=max(widths),
                        dtype="float32")  # float32: round-off ~1e-6, far below the Monte Carlo error ~1e-2
            for i, n in enumerate(widths)]


def _cells(runs, widths):
    """Flattened (depth, width) of every cell, in the order of the statistics below."""
    depth = np.concatenate([run.depth for run in runs]).astype(float)
    width = np.concatenate([np.full(run.depth.shape, n, float) for run, n in zip(runs, widths)])
    return depth, width


def _statistics(runs, field, statistic, resamples=200):
    """The statistic of every cell and its bootstrap replicates (each run's draws resampled as whole rows)."""
    values, reps = [], []
    for i, run in enumerate(runs):
        value, _, replicates = sim.bootstrap(statistic, getattr(run, field), resamples, seed=i)
        values.append(value)
        reps.append(replicates)
    return np.concatenate(values), np.concatenate(reps, axis=1)


def _fit(depth, width, values, errors, columns):
    """Weighted least squares of width * value on the given functions of depth; the first coefficient."""
    design = np.stack([c(depth) for c in columns], axis=1) / errors[:, None]
    target = width * values / errors
    return np.linalg.lstsq(design, target, rcond=None)[0][0]


@check("width.init_fluctuations", uses={
    "ntk_relu": "width.ntk_relative_variance_relu", "ntk_linear": "width.ntk_relative_variance_linear",
    "kurt_relu": "width.output_excess_kurtosis_relu", "kurt_linear": "width.output_excess_kurtosis_linear",
    "coef_relu": "width.ntk_variance_coefficient_relu", "coef_linear": "width.ntk_variance_coefficient_linear",
    "kcoef_relu": "width.kurtosis_coefficient_relu", "kcoef_linear": "width.kurtosis_coefficient_linear"},
    blind={name: _BLIND for name in ("coef_relu", "coef_linear", "kcoef_relu", "kcoef_linear")})
def init_fluctuations(ctx: Context, ntk_relu, ntk_linear, kurt_relu, kurt_linear, coef_relu, coef_linear,
                      kcoef_relu, kcoef_linear):
    """Per (depth, width) cell: NTK relative variance and output kurtosis vs Monte Carlo; fitted L/n coefficients."""
    widths, max_depth, inits = _grid(ctx)
    formulas = {"relu": (ntk_relu, kurt_relu, coef_relu, kcoef_relu),
                "linear": (ntk_linear, kurt_linear, coef_linear, kcoef_linear)}
    figure = {}
    for activation in _ACTIVATIONS:
        ntk, kurt, coefficient, kurt_coefficient = formulas[activation]
        runs = _runs(ctx, activation)
        depth, width = _cells(runs, widths)
        rel, rel_reps = _statistics(runs, "ntk", sim.relative_variance)
        rel_se = rel_reps.std(axis=0, ddof=1)
        kur, kur_reps = _statistics(runs, "output_variance", sim.kurtosis_from_variance)
        kur_se = kur_reps.std(axis=0, ddof=1)
        keep = depth / width <= _CELL_RATIO
        depth, width, rel, rel_reps, rel_se, kur, kur_reps, kur_se = (
            v[..., keep] for v in (depth, width, rel, rel_reps, rel_se, kur, kur_reps, kur_se))
        predicted = np.asarray(ntk(width=width, depth=depth))
        grid = f"{int(keep.sum())} cells depth 2-{max_depth} x width {list(widths)}, depth/width <= 1/4, {inits} inits"
        yield compare(f"{activation}: Var Theta / (E Theta)^2 per cell ({grid})", predicted, rel, 4 * rel_se,
                      "4 bootstrap standard errors (draws resampled whole) of the Monte Carlo estimate",
                      relative=False)
        yield compare(f"{activation}: output excess kurtosis per cell ({grid})",
                      np.asarray(kurt(width=width, depth=depth)), kur, 4 * kur_se,
                      "4 bootstrap standard errors of the Monte Carlo kurtosis (readout averaged out: 3 E s^2 / (E s)^2 - 3)",
                      relative=False)
        kpredicted = np.asarray(kurt(width=width, depth=depth))
        for what, value, reps, errors, prediction in (("Var Theta / (E Theta)^2", rel, rel_reps, rel_se, predicted),
                                                       ("output excess kurtosis", kur, kur_reps, kur_se, kpredicted)):
            # equal weights: weights from the measured errors would favour cells that came out low (a sample
            # variance and its standard error fall together), a downward bias of the pooled ratio
            weights = (depth / width <= _FIT_RATIO).astype(float)  # the cells with the lighter tails (L/n <= 1/8)
            pooled = np.sum(weights * value / prediction) / np.sum(weights)
            pooled_reps = (reps / prediction) @ weights / np.sum(weights)
            pooled_se = float(np.std(pooled_reps, ddof=1))
            yield compare(f"{activation}: {what}, measured / predicted pooled over the {int(weights.sum())} cells with depth/width <= 1/8", 1.0,
                          pooled, 3 * pooled_se, f"3 bootstrap standard errors ({pooled_se:.2g}) of the pooled "
                          "ratio (mean over cells; draws resampled whole, so correlated cells count right)",
                          relative=False)
        near = depth / width <= _FIT_RATIO
        columns = (lambda L: L, np.ones_like)  # width x relvar = c L + d (+ e / L + higher orders: the bias below)
        fitted = _fit(depth[near], width[near], rel[near], rel_se[near], columns)
        replicas = [_fit(depth[near], width[near], rep[near], rel_se[near], columns) for rep in rel_reps]
        fit_se = float(np.std(replicas, ddof=1))
        derived = float(coefficient())
        # finite-size bias: the same fit applied to the derived exact values of these cells
        bias = abs(_fit(depth[near], width[near], predicted[near], rel_se[near], columns) - derived)
        yield compare(f"{activation}: fitted coefficient c of Var Theta/(E Theta)^2 ~ c depth/width "
                      f"({int(near.sum())} cells, depth/width <= 1/8)", derived, fitted, 3 * fit_se + bias,
                      f"3 bootstrap standard errors of the fitted slope ({fit_se:.2g}) plus its finite-size bias "
                      f"{bias:.2g} (higher orders in depth/width at these cells)", relative=False)
        kcolumns = (lambda L: L, np.ones_like)  # width x kurtosis = c L + d at first order
        kfit = _fit(depth[near], width[near], kur[near], kur_se[near], kcolumns)
        kreps = [_fit(depth[near], width[near], rep[near], kur_se[near], kcolumns) for rep in kur_reps]
        kfit_se = float(np.std(kreps, ddof=1))
        kderived = float(kurt_coefficient())
        kbias = abs(_fit(depth[near], width[near], kpredicted[near], kur_se[near], kcolumns) - kderived)
        yield compare(f"{activation}: fitted coefficient of the output kurtosis ~ c depth/width", kderived, kfit,
                      3 * kfit_se + kbias, f"3 bootstrap standard errors of the fitted slope ({kfit_se:.2g}) plus "
                      f"its finite-size bias {kbias:.2g} (higher orders in depth/width)", relative=False)
        grid = np.arange(2, 1 + int(_CELL_RATIO * max(widths) * 4)) / (4 * max(widths))  # depth/width, fine steps
        figure["depth_over_width"] = grid
        for n in widths:
            span = (grid * n >= 2) & (grid * n <= max_depth)
            # the closed form continued to non-integer depth (f.jax: no integer check), drawn as a line
            figure[f"predicted_{activation}_n{n}"] = np.where(span, np.asarray(ntk.jax(float(n), grid * n)), np.nan)
            for name, values in ((f"measured_{activation}_n{n}", rel), (f"measured_{activation}_n{n}_se", rel_se)):
                column = np.full(grid.shape, np.nan)
                cells = width == n
                column[np.searchsorted(grid, depth[cells] / n)] = values[cells]
                figure[name] = column
    ys = tuple(f"{role}_{activation}_n{n}" for activation in _ACTIVATIONS for n in widths
               for role in ("predicted", "measured"))
    ctx.figure("width_ntk_variance", figure, x="depth_over_width", ys=ys,
               title=f"NTK relative variance at init vs depth/width ({inits} inits per cell)",
               ylabel="Var Theta(x,x) / (E Theta(x,x))^2")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("width.ntk_relative_variance_relu", "depth alone: the width fixed at 32 (the depth/width ratio lost)",
            "11*depth/96 - 5/32 + 1/(24*depth)"),
    mistake("width.output_excess_kurtosis_relu", "the linear network's fourth moment (kappa = 3) used for ReLU",
            "3*(1 + 2/width)**(depth - 1) - 3"),
    mistake("width.ntk_relative_variance_linear", "forward and backward passes taken as independent (the 1/3 "
            "same-layer share dropped)", "2*depth/width"),
)
