"""Spectral bias: NTK eigenvalues on the sphere by quadrature and Monte Carlo; per-degree decay of a trained net."""

from __future__ import annotations

import numpy as np

from analytic import get
from analytic.spectral_bias import ntk_eigenvalue
from numeric import spectral_bias as sim
from verify.core import Context, check, compare, compare_outcome

_EIGEN = {"constant": "spectral_bias.ntk_eigenvalue_constant", "linear": "spectral_bias.ntk_eigenvalue_linear",
          "even": "spectral_bias.ntk_eigenvalue_even"}


def _formulas(constant, linear, even):
    return {"ntk_eigenvalue_constant": constant, "ntk_eigenvalue_linear": linear, "ntk_eigenvalue_even": even}


def _ntk_of_angle_cosine(t):
    """Theta(t) from the kernels family's arc-cosine Formulas at unit variances (k11 = k22 = 1, k12 = t)."""
    t = np.clip(np.asarray(t, dtype=float), -1.0, 1.0)
    one = np.ones_like(t)
    nngp = np.asarray(get("kernels.relu_nngp").jax(one, one, t))
    derivative = np.asarray(get("kernels.relu_derivative").jax(one, one, t))
    return nngp + t * derivative


@check("spectral_bias.ntk_eigenvalues", smoke=True, uses=_EIGEN)
def ntk_eigenvalues(ctx: Context, constant, linear, even):
    """Funk-Hecke eigenvalues of the two-layer ReLU NTK vs quadrature of the kernels' NTK and a Monte Carlo Gram."""
    degrees = np.arange(0, 13)
    nodes = {count: sim.angle_nodes(count) for count in (100, 200)}  # the same nodes for every d
    values = _ntk_of_angle_cosine(np.concatenate(list(nodes.values())))  # one evaluation (one compiled shape)
    table = dict(zip(np.concatenate(list(nodes.values())).tolist(), values.tolist()))

    def kernel(t):
        return np.array([table[v] for v in np.asarray(t).tolist()])

    for d in (3, 4, 7):
        predicted = ntk_eigenvalue(degrees, d, formulas=_formulas(constant, linear, even))
        coarse = sim.funk_hecke_quadrature(kernel, d, degrees, nodes=100)
        fine = sim.funk_hecke_quadrature(kernel, d, degrees, nodes=200)
        quadrature_error = np.abs(fine - coarse) + 1e-15  # the 100-node rule's error bounds the 200-node one's
        nonzero = predicted != 0
        yield compare(f"d = {d}: lambda_k, k in {degrees[nonzero].tolist()}: closed form vs Gauss-Legendre in the "
                      "angle (200 nodes)", predicted[nonzero], fine[nonzero],
                      1e-11 + quadrature_error[nonzero] / np.abs(predicted[nonzero]),
                      "quadrature: the integrand is smooth in the angle (geometric convergence; the change from "
                      "100 to 200 nodes bounds the error) plus float64 round-off of ~40 terms")
        yield compare(f"d = {d}: lambda_k = 0 for odd k in {degrees[~nonzero].tolist()} (no bias input)",
                      predicted[~nonzero], fine[~nonzero], 1e-13 + quadrature_error[~nonzero],
                      "quadrature (two node counts) and float64 round-off, absolute", relative=False)
    # Monte Carlo: a random network's empirical NTK Gram on uniform points, U-statistic per degree
    mc_degrees = np.array([0, 1, 2, 3, 4])
    replicates = 8 if ctx.smoke else 16 if ctx.quick else 200
    estimate = ctx.measure(sim.gram_eigenvalues, ctx.key("spectral_bias.ntk_eigenvalues"), 3, mc_degrees,
                           n=100 if ctx.quick else 400, width=256 if ctx.quick else 2048, replicates=replicates)
    predicted = ntk_eigenvalue(mc_degrees, 3, formulas=_formulas(constant, linear, even))
    yield compare(f"d = 3: lambda_k, k = 0..4, vs the U-statistic of a random network's NTK Gram ({replicates} "
                  "replicates)", predicted, estimate.mean, 4 * estimate.standard_error,
                  "4 Monte Carlo standard errors of the mean over replicates (points, weights and axis "
                  "resampled; the estimator is unbiased)", relative=False)


_DEGREES = np.array([1, 2, 4, 6])  # the target's degrees (odd degrees >= 3 are unlearnable without a bias)
_ETA = 3.0  # eta lambda_0 = 0.75 < 2: every mode contracts; eta lambda_1 = 0.5
_AMPLITUDE = 0.1  # each degree's unit-norm harmonic times 0.1: small enough for the lazy (kernel) regime


def _experiment(ctx: Context, n: int):
    """Train on y = 0.1 sum_k Y_k(x.e) (unit-norm zonal harmonics) over rotated Fibonacci lattices of n and n/2
    points. The n/2 data sets repeat each point twice: the same loss (1/2n) sum (f - y)^2 as n/2 distinct
    points, and one compiled training (one shape) for both sizes. Returns the residual ratios per size."""
    seeds = 2 if ctx.smoke else 4 if ctx.quick else 16
    width = 512 if ctx.quick else 4096
    steps = 40 if ctx.smoke else 60
    rng = sim.generator(ctx.key(f"spectral_bias.degree_decay/data/{n}"))
    full = [sim.fibonacci_sphere(n, sim.random_rotation(rng, 3)) for _ in range(seeds)]
    half = [np.repeat(sim.fibonacci_sphere(n // 2, sim.random_rotation(rng, 3)), 2, axis=0) for _ in range(seeds)]
    x = np.stack(full + half)
    axis = np.array([0.0, 0.0, 1.0])
    scale = _AMPLITUDE / np.sqrt(sim.zonal_norms(3, _DEGREES))
    y = np.stack([sim.gegenbauer_values(int(_DEGREES.max()), 3, xs @ axis)[_DEGREES].T @ scale for xs in x])
    run = ctx.measure(sim.train_two_layer, ctx.key("spectral_bias.degree_decay/init"), x, y, width, _ETA, steps,
                      "lattice")
    projections = np.stack([sim.degree_projections(r, xs, axis, _DEGREES) for r, xs in zip(run.residuals, x)])
    ratios = projections / projections[:, :1, :]  # (2 seeds, steps + 1, degrees), relative to t = 0
    return ratios[:seeds], ratios[seeds:], run.diverged


def _fitted_rates(ratios):
    """Per seed and degree: minus the least-squares slope of log(ratio) over the steps before it first
    falls below 0.05 (above the floor that the slow degrees' residual leaks into the fast ones)."""
    steps = np.arange(ratios.shape[1])
    rates = np.empty(ratios.shape[::2])
    for s in range(ratios.shape[0]):
        for k in range(ratios.shape[2]):
            window = np.cumprod(ratios[s, :, k] > 0.05).astype(bool)
            rates[s, k] = -np.polyfit(steps[window], np.log(ratios[s, window, k]), 1)[0]
    return rates


@check("spectral_bias.degree_decay", smoke=True, uses={"linear": _EIGEN["linear"], "even": _EIGEN["even"],
                                                      "residual": "spectral_bias.degree_residual"},
       cites="Basri et al. 2019, arXiv:1906.00425v3, sec. 4-5; Nakkiran et al. 2019, arXiv:1905.11604v1")
def degree_decay(ctx: Context, linear, even, residual):
    """A wide two-layer ReLU net's residual on each degree decays like (1 - eta lambda_k)^t; low degrees first."""
    n = 400 if ctx.quick else 1600
    ratios, half_ratios, diverged = _experiment(ctx, n)
    yield compare_outcome("GD at eta = 3 stays bounded (eta lambda_0 < 2)", "bounded",
                          "diverged" if np.any(diverged) else "bounded", "a divergence would void every row below")
    lam = ntk_eigenvalue(_DEGREES, 3, formulas={"ntk_eigenvalue_linear": linear, "ntk_eigenvalue_even": even})
    steps = np.arange(ratios.shape[1], dtype=float)
    predicted = np.asarray(residual.jax(_ETA, lam[None, :], steps[:, None]))  # (steps + 1, degrees)
    predicted_rate = -np.log(predicted[1])
    rates, half_rates = _fitted_rates(ratios), _fitted_rates(half_ratios)
    seeds = rates.shape[0]
    rate_se = rates.std(0, ddof=1) / np.sqrt(seeds)
    finite_n = np.abs(rates.mean(0) - half_rates.mean(0))  # the n/2 -> n change bounds the error left at n
    yield compare(f"fitted decay rate per step of degrees {_DEGREES.tolist()} vs -log(1 - eta lambda_k) (d = 3, "
                  f"n = {n}, {seeds} seeds)", predicted_rate, rates.mean(0),
                  (3 * rate_se + finite_n) / predicted_rate,
                  "3 standard errors over seeds (finite width) plus the finite-n change of the mean rate from "
                  f"n = {n // 2} to {n} (Fibonacci lattice; the error falls faster than 1/n)")
    # early steps: the residual ratio itself, where the seeds agree to a fraction of a percent
    early = slice(1, 4)
    measured = ratios.mean(0)[early]
    spread = ratios.std(0, ddof=1)[early] / np.sqrt(seeds)
    drift = np.abs(ratios.mean(0)[early] - half_ratios.mean(0)[early])
    yield compare(f"residual ratio c_k(t)/c_k(0) at t = 1..3, degrees {_DEGREES.tolist()}: (1 - eta lambda_k)^t "
                  "vs measured mean", predicted[early], measured, (3 * spread + drift) / predicted[early] + 1e-4,
                  "3 standard errors over seeds plus the finite-n change from n/2 to n, and 1e-4 for the "
                  "O(1/sqrt(width)) nonlinear drift of the kernel over three steps")
    order = np.argsort(-rates.mean(0))
    yield compare_outcome("lower degrees are learned first: fitted rates decrease with the degree",
                          "decreasing", "decreasing" if np.all(np.diff(rates.mean(0)) < 0) else
                          f"order by rate: degrees {_DEGREES[order].tolist()}",
                          "Basri et al. 2019 (sec. 4-5), Nakkiran et al. 2019: low frequencies first")
    shown = lambda v: np.where(v > 1e-4, v, np.nan)  # noqa: E731  (below 1e-4: the leak floor of the fast degrees)
    ctx.figure("spectral_bias_degree_decay", {
        "step": steps, **{f"predicted_k{k}": shown(predicted[:, i]) for i, k in enumerate(_DEGREES)},
        **{f"measured_k{k}": shown(ratios.mean(0)[:, i]) for i, k in enumerate(_DEGREES)}},
        x="step", ys=tuple(f"{role}_k{k}" for k in _DEGREES for role in ("predicted", "measured")), logy=True,
        title=f"two-layer ReLU net on S^2 (width {512 if ctx.quick else 4096}, n = {n}, eta = {_ETA:g}): "
              "residual per degree",
        ylabel="degree-k residual c_k(t) / c_k(0)")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("spectral_bias.ntk_eigenvalue_linear", "the first layer's term forgotten (NNGP eigenvalue only)",
            "1/(4*d)"),
    mistake("spectral_bias.degree_residual", "the loss taken as (1/n) sum (f - y)^2 (step doubled)",
            "(1 - 2*eta*lam)**t"),
)
