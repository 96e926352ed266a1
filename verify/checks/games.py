"""Games: every method run on random bilinear games, rates per singular value vs the radii.

Measurement: a game ``x^T A y`` with Haar-random singular vectors and prescribed
singular values; each run starts on one singular pair ``(u_i, v_i)`` and the rate
of that mode is the slope of ``log |(u_i^T x_t, v_i^T y_t)|`` (numpy's SVD basis,
not the formula), fitted over the steps where the mode stands above round-off
(1e-10 of the state; round-off leaks into the other modes, which may decay
slower). Nothing on the measurement side knows a radius.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from numeric import games as sim
from verify.core import Context, check, compare, compare_outcome

_RESOLVED = 1e-10  # a mode's share of the (unit-norm) state below which round-off dominates it


_DIM = 8  # the random game is 8 x 8; mode i of a run uses its singular pair i mod 8
_BATCH = 128  # runs are padded to a multiple of this: one compilation serves every check


def _singular_vectors(ctx: Context):
    _, U, V = sim.random_bilinear_game(ctx.key("games/A"), jnp.linspace(0.25, 1.0, _DIM))
    return np.asarray(U), np.asarray(V)


def _mode_log_norms(ctx: Context, method: str, sigmas, etas, steps: int, momentum=0.0, mu=0.0):
    """log |mode i of z_t| for every (eta, i): array (len(etas), len(sigmas), steps + 1), and the
    mode's share of the state (to know where it is resolved).

    The mode of singular value sigma_i runs in the random game restricted to one singular
    pair, ``sigma_i u v^T``: in the full game, round-off leaks a mode into the others at
    1e-16, and a faster-growing one buries it within a few steps; here the other
    directions see a zero singular value and the leak stays at round-off.
    """
    U, V = _singular_vectors(ctx)
    sigmas, etas = np.asarray(sigmas, float), np.asarray(etas, float)
    pair = np.arange(sigmas.size) % _DIM
    u, v = U[:, pair].T, V[:, pair].T  # (modes, d)
    rank_one = sigmas[:, None, None] * u[:, :, None] * v[:, None, :]
    n_eta, n_mode = etas.size, sigmas.size
    runs = n_eta * n_mode
    padded = -(-runs // _BATCH) * _BATCH
    index = np.arange(padded) % runs  # padding repeats runs (their results are dropped)
    A = np.broadcast_to(rank_one, (n_eta,) + rank_one.shape).reshape(-1, _DIM, _DIM)[index]
    x0 = np.broadcast_to(u, (n_eta,) + u.shape).reshape(-1, _DIM)[index]
    y0 = np.broadcast_to(v, (n_eta,) + v.shape).reshape(-1, _DIM)[index]
    # A generic history z_{-1} (the two-step methods): a start at rest can miss an eigenvector.
    run = sim.run_batch(method, A, x0, y0, np.repeat(etas, n_mode)[index], steps, momentum,
                        x_prev=0.3 * x0, y_prev=-0.7 * y0, mu=mu)
    with np.errstate(divide="ignore"):  # a mode can vanish exactly (then unresolved, not fitted)
        share = np.sqrt(np.einsum("btd,bd->bt", np.asarray(run.x), x0) ** 2
                        + np.einsum("btd,bd->bt", np.asarray(run.y), y0) ** 2)[:runs]
        logs = np.log(share) + np.asarray(run.log_scale)[:runs]
    return logs.reshape(n_eta, n_mode, -1), share.reshape(n_eta, n_mode, -1)


def _fit(log_norm: np.ndarray, share: np.ndarray) -> tuple[float, float]:
    """(rate, relative tolerance) from a least-squares line through the resolved steps.

    A bounded residual m (a rotation seen through a non-normal iteration matrix) tilts
    the slope over N points by at most m sum|t - t_mean| / sum(t - t_mean)^2 ~ 3m/N; a
    polynomial prefactor t^k of a (near-)double root adds about k/t_mean <= 2/N for k = 1.
    """
    unresolved = np.flatnonzero(share < _RESOLVED)
    stop = int(unresolved[0]) if unresolved.size else share.size
    start = stop // 10
    logs = log_norm[start:stop]
    n = logs.size
    if n < 8:
        return float("nan"), 0.0
    t = np.arange(n) - (n - 1) / 2
    slope = float(np.sum(t * (logs - logs.mean())) / np.sum(t**2))
    residual = logs - logs.mean() - slope * t
    bound = float(np.max(np.abs(residual)) * np.sum(np.abs(t)) / np.sum(t**2)) + 2.0 / n
    return float(np.exp(slope)), float(np.expm1(bound)) + 1e-9


def _rates(ctx: Context, method: str, sigmas, etas, steps: int, momentum=0.0, mu=0.0):
    def compute():
        logs, share = _mode_log_norms(ctx, method, sigmas, etas, steps, momentum, mu)
        fits = [[_fit(logs[i, j], share[i, j]) for j in range(len(sigmas))] for i in range(len(etas))]
        return np.array([[f[0] for f in row] for row in fits]), np.array([[f[1] for f in row] for row in fits])

    return ctx.memoise(("games/rates", method, tuple(np.round(sigmas, 12)), tuple(np.round(etas, 12)),
                        steps, momentum, mu), compute)


def _grid(ctx: Context):
    if ctx.smoke:
        return np.linspace(0.4, 1.0, 3), np.linspace(0.1, 2.5, 7), 300
    if ctx.quick:
        return np.linspace(0.25, 1.0, 6), np.linspace(0.1, 2.5, 17), 300
    return np.linspace(0.1, 1.0, 19), np.linspace(0.05, 2.5, 50), 1000


_MOMENTUM = -0.5  # Gidel et al. 2019 use beta = -1/2 in their bilinear experiments


@check("games.rates", smoke=True, uses={
    "simultaneous": "games.simultaneous_gda_radius", "alternating": "games.alternating_gda_radius",
    "extragradient": "games.extragradient_radius", "optimistic": "games.optimistic_gda_radius",
    "negative_momentum": "games.negative_momentum_radius"})
def rates(ctx: Context, simultaneous, alternating, extragradient, optimistic, negative_momentum):
    """Measured per-mode rate of every method over an eta grid vs its spectral radius."""
    sigmas, etas, steps = _grid(ctx)
    eta_grid, sigma_grid = np.meshgrid(etas, sigmas, indexing="ij")
    predictions = {
        "simultaneous_gda": simultaneous.jax(eta_grid, sigma_grid),
        "alternating_gda": alternating.jax(eta_grid, sigma_grid),
        "extragradient": extragradient.jax(eta_grid, sigma_grid),
        "optimistic_gda": optimistic.jax(eta_grid, sigma_grid),
        "negative_momentum": negative_momentum.jax(eta_grid, _MOMENTUM, sigma_grid),
    }
    measured_columns, predicted_columns = {}, {}
    for method, predicted in predictions.items():
        momentum = _MOMENTUM if method == "negative_momentum" else 0.0
        measured, tolerance = _rates(ctx, method, sigmas, etas, steps, momentum)
        predicted = np.asarray(predicted)
        fitted = np.isfinite(measured)
        label = f"{method}{' (momentum -0.5)' if momentum else ''}: {int(fitted.sum())} (eta, sigma) points"
        yield compare(label, predicted[fitted], measured[fitted], tolerance[fitted],
                      "fitted log-slope over >= 8 resolved steps: 3 max|residual|/N (bounded rotation "
                      "seen through a non-normal M) + 2/N (t^k prefactor near a double root)")
        measured_columns[method] = np.log10(measured)
        predicted_columns[method] = np.log10(predicted)
    grows = np.asarray(measured_columns["simultaneous_gda"])
    yield compare_outcome("simultaneous GDA at every (eta, sigma) of the grid", "grows",
                          "grows" if np.all(grows > 0) else f"not growing at {int(np.sum(grows <= 0))} points",
                          "categorical: fitted rate > 1 at every grid point")
    for kind, columns in (("measured", measured_columns), ("predicted", predicted_columns)):
        ctx.figure(f"games_rate_heatmap_{kind}", {"eta": eta_grid, "sigma": sigma_grid, **columns},
                   x="eta", ys=tuple(columns), grid_y="sigma",
                   title=f"log10 per-step rate ({kind}) on a random bilinear game; 0 = radius 1; "
                         f"negative momentum at {_MOMENTUM}")


def _outcome(rate: float, tolerance: float) -> str:
    if not np.isfinite(rate):
        return "unresolved"
    if rate > 1 + tolerance:
        return "grows"
    if rate < 1 - tolerance:
        return "converges"
    return "bounded"


@check("games.step_size_ranges", smoke=True, uses={
    "alternating_max": "games.alternating_gda_max_step", "extragradient_max": "games.extragradient_max_step",
    "optimistic_max": "games.optimistic_gda_max_step"})
def step_size_ranges(ctx: Context, alternating_max, extragradient_max, optimistic_max):
    """Just below / above each derived step-size limit, direct runs rotate or converge / grow."""
    sigmas = np.array([0.5, 1.0]) if ctx.quick else np.array([0.2, 0.5, 1.0])
    steps = _grid(ctx)[2]
    below = {"alternating_gda": "bounded", "extragradient": "converges", "optimistic_gda": "converges"}
    for method, limit in (("alternating_gda", alternating_max), ("extragradient", extragradient_max),
                          ("optimistic_gda", optimistic_max)):
        for factor in (0.98, 1.02):
            for j, sigma in enumerate(sigmas):
                eta = float(limit(sigma=sigma)) * factor
                measured, tolerance = _rates(ctx, method, sigmas, np.array([eta]), steps)
                outcome = _outcome(measured[0, j], tolerance[0, j])
                yield compare_outcome(f"{method}, eta = {factor} x limit, sigma={sigma:g}",
                                      below[method] if factor < 1 else "grows", outcome,
                                      "categorical: fitted rate above / within / below 1 by more than its "
                                      "fit tolerance (3 max|residual|/N + 2/N)")


def _argmin_step(ctx: Context, method: str, sigma: float, steps: int, points: int = 33, zooms: int = 4) -> float:
    """The step minimising the measured rate of mode sigma: a grid over eta sigma in [0.02, 2],
    zoomed four times around its minimum (direct runs only)."""
    lo, hi = 0.02 / sigma, 2.0 / sigma
    sigmas = np.array([sigma])
    for _ in range(zooms):
        etas = np.linspace(lo, hi, points)
        measured, _ = _rates(ctx, method, sigmas, etas, steps)
        best = int(np.nanargmin(measured[:, 0]))
        spacing = etas[1] - etas[0]
        lo, hi = max(etas[best] - 2 * spacing, 1e-6), etas[best] + 2 * spacing
    return float(etas[best])


@check("games.optimal_steps", uses={"extragradient_step": "games.extragradient_optimal_step",
                                    "optimistic_step": "games.optimistic_gda_optimal_step"})
def optimal_steps(ctx: Context, extragradient_step, optimistic_step):
    """The step with the smallest measured rate (zoomed grid search on direct runs) vs the derived one."""
    steps = _grid(ctx)[2]
    for method, formula in (("extragradient", extragradient_step), ("optimistic_gda", optimistic_step)):
        for sigma in (0.5, 1.0):
            measured = _argmin_step(ctx, method, sigma, steps)
            yield compare(f"{method}, sigma={sigma:g}", float(formula(sigma=sigma)), measured, 2e-3,
                          "final grid spacing (4 zooms of 33 points: 2/sigma x (4/32)^3 / 32 ~ 1e-4 "
                          "relative) + argmin shift by the fit's 1/N bias near optimistic GDA's kink")


@check("games.negative_momentum", smoke=True, uses={
    "momentum_radius": "games.negative_momentum_radius", "alternating": "games.alternating_gda_radius"})
def negative_momentum(ctx: Context, momentum_radius, alternating):
    """Alternating GDA only rotates; negative momentum makes it converge (Gidel et al. 2019)."""
    sigmas = np.linspace(0.25, 1.0, 4) if ctx.quick else np.linspace(0.1, 1.0, 10)
    steps = _grid(ctx)[2]
    eta = 1.0  # eta sigma_max = 1: alternating GDA rotates on every mode
    momenta = np.round(np.linspace(-0.7, 0.3, 11), 12) if ctx.quick else np.round(np.linspace(-0.8, 0.4, 25), 12)
    worst_predicted, worst_measured, worst_tolerance = [], [], []
    for m in momenta:
        method = "negative_momentum"
        measured, tolerance = _rates(ctx, method, sigmas, np.array([eta]), steps, float(m))
        predicted = np.asarray(momentum_radius.jax(eta, m, sigmas))
        yield compare(f"momentum={m:+.2f}, every sigma", predicted, measured[0], tolerance[0],
                      "fitted log-slope: 3 max|residual|/N + 2/N (see games.rates)")
        worst_predicted.append(predicted.max())
        worst_measured.append(measured[0].max())
        worst_tolerance.append(tolerance[0].max())
    measured_alt, tolerance_alt = _rates(ctx, "alternating_gda", sigmas, np.array([eta]), steps)
    yield compare("alternating GDA (no momentum), every sigma", np.asarray(alternating.jax(eta, sigmas)),
                  measured_alt[0], tolerance_alt[0], "fitted log-slope: 3 max|residual|/N + 2/N")
    best = momenta[int(np.argmin(worst_measured))]
    yield compare_outcome("sign of the momentum with the fastest worst-case rate", "negative",
                          "negative" if best < 0 else "non-negative",
                          "categorical: the argmin of the measured worst-case rate over the momentum grid")
    ctx.figure("games_negative_momentum", {"momentum": momenta, "predicted": worst_predicted,
                                          "measured": worst_measured, "tolerance": worst_tolerance},
               x="momentum", ys=("predicted", "measured"),
               title=f"alternating GDA + momentum, eta={eta}: worst rate, sigma in [{sigmas[0]:g}, {sigmas[-1]:g}]")


_MU = 0.2  # strong monotonicity of the monotone game in games.monotone_rates


@check("games.monotone_rates", smoke=True, uses={
    "simultaneous": "games.simultaneous_gda_monotone_radius", "alternating": "games.alternating_gda_monotone_radius",
    "extragradient": "games.extragradient_monotone_radius", "optimistic": "games.optimistic_gda_monotone_radius",
    "negative_momentum": "games.negative_momentum_monotone_radius"})
def monotone_rates(ctx: Context, simultaneous, alternating, extragradient, optimistic, negative_momentum):
    """Measured per-mode rate of every method on mu/2|x|^2 + x^T A y - mu/2|y|^2 vs its spectral radius."""
    sigmas = np.linspace(0.4, 1.0, 3) if ctx.smoke else np.linspace(0.25, 1.0, 4)
    etas = np.linspace(0.1, 2.0, 5 if ctx.smoke else 8)
    steps = 300
    eta_grid, sigma_grid = np.meshgrid(etas, sigmas, indexing="ij")
    predictions = {
        "simultaneous_gda": simultaneous.jax(eta_grid, _MU, sigma_grid),
        "alternating_gda": alternating.jax(eta_grid, _MU, sigma_grid),
        "extragradient": extragradient.jax(eta_grid, _MU, sigma_grid),
        "optimistic_gda": optimistic.jax(eta_grid, _MU, sigma_grid),
        "negative_momentum": negative_momentum.jax(eta_grid, _MOMENTUM, _MU, sigma_grid),
    }
    for method, predicted in predictions.items():
        momentum = _MOMENTUM if method == "negative_momentum" else 0.0
        measured, tolerance = _rates(ctx, method, sigmas, etas, steps, momentum, mu=_MU)
        predicted = np.asarray(predicted)
        fitted = np.isfinite(measured)
        label = (f"{method}{' (momentum -0.5)' if momentum else ''}, mu = {_MU}: "
                 f"{int(fitted.sum())} (eta, sigma) points")
        yield compare(label, predicted[fitted], measured[fitted], tolerance[fitted],
                      "fitted log-slope over >= 8 resolved steps: 3 max|residual|/N (rotation seen through a "
                      "non-normal M) + 2/N (t^k prefactor near a double root)")
    small = etas[0]
    yield compare_outcome(f"simultaneous GDA at eta = {small:g} (< 2 mu / (mu^2 + sigma^2) for every sigma)",
                          "converges", "converges" if np.all(_rates(ctx, "simultaneous_gda", sigmas, etas, steps, 0.0,
                                                                    mu=_MU)[0][0] < 1) else "does not converge",
                          "categorical: strong monotonicity makes simultaneous GDA converge for small steps")

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate games --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("games.extragradient_radius", "sign of the eta^2 sigma^2 term", "sqrt(eta**4*sigma**4 + eta**2*sigma**2 + 1)"),
    mistake("games.simultaneous_gda_radius", "the modulus squared for the modulus: 1 + eta^2 sigma^2",
            "eta**2*sigma**2 + 1"),
    mistake("games.optimistic_gda_optimal_step", "a factor 2: 1/sigma", "1/sigma"),
    mistake("games.extragradient_max_step", "a factor 2: 2/sigma", "2/sigma"),
)
