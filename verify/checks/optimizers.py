"""Adaptive and second-order optimisers: ``analytic.optimizers`` against direct runs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from numeric import linreg as ls
from numeric import optimizers as sim
from numeric.sharpness import sharpness
from verify.core import Context, check, compare


def _quadratic_loss(x, H):
    return 0.5 * x @ H @ x


def _rng(ctx: Context, salt: str) -> np.random.Generator:
    """A numpy generator seeded from the check's key (problem set-up needs no compiled ops)."""
    return np.random.default_rng(np.asarray(jax.random.key_data(ctx.key(salt))).tolist())


def _random_quadratic(ctx: Context, salt: str, d: int):
    """A dense SPD Hessian (Haar-rotated log-uniform spectrum) and a positive diagonal P."""
    rng = _rng(ctx, salt)
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q = q * np.sign(np.diag(r))
    H = (q * np.geomspace(0.1, 10.0, d)) @ q.T
    return H, np.exp(rng.uniform(-1.5, 1.5, d)), rng.normal(size=d)


def _critical_eta(H, P, x0, beta1: float, steps: int, rounds: int = 4, points: int = 33) -> float:
    """The learning rate where frozen-preconditioner Adam starts to diverge: a geometric grid of
    direct runs (vmap), refined ``rounds`` times around the first diverging point."""
    lo, hi = 1e-4, 1e4
    for _ in range(rounds):
        etas = np.geomspace(lo, hi, points)
        diverged = np.asarray(sim.frozen_adam_diverges(H, P, x0, etas, beta1, steps))
        first = int(np.argmax(diverged))
        if not diverged[first] or first == 0:
            raise RuntimeError(f"no convergence-to-divergence transition in [{lo:g}, {hi:g}]")
        lo, hi = etas[first - 1], etas[first]
    return float(np.sqrt(lo * hi))


@check("optimizers.adam_sharpness_threshold", uses={"threshold": "optimizers.adam_sharpness_threshold"},
       smoke=True)
def adam_sharpness_threshold(ctx: Context, threshold):
    """Frozen-preconditioner Adam on a quadratic: the divergence point, bracketed by bisection on
    direct runs, sits where lam_max(P^-1 H) (Lanczos, numeric.sharpness) equals the threshold."""
    d, steps = (8, 3000) if ctx.quick else (64, 20000)
    H, P, x0 = _random_quadratic(ctx, "adam_sharpness_threshold", d)
    precond_sharpness = float(sharpness(_quadratic_loss, x0, (H,), iterations=d, preconditioner=P).eigenvalue)
    betas = (0.0, 0.9) if ctx.smoke else (0.0, 0.5, 0.9, 0.99)
    measured = []
    for beta1 in betas:
        eta_c = _critical_eta(H, P, x0, beta1, steps)
        measured.append(eta_c * precond_sharpness)
        yield compare(f"beta1={beta1}: threshold at the measured critical eta={eta_c:.4g}",
                      float(threshold(eta=eta_c, beta1=beta1)), precond_sharpness, 2e-3,
                      f"grid refined to a factor 1.00002 in eta; a mode 1e-3 past the threshold grows by >= e^1 over "
                      f"{steps // 2} steps, so divergence is seen within 2e-3; Lanczos exact at d={d}")
    grid = np.linspace(0.0, 0.99, 100)
    line = np.asarray(threshold.jax(1.0, grid))  # eta * threshold: dimensionless
    ctx.figure("optimizers_adam_threshold", {
        "beta1": np.concatenate([grid, betas]),
        "predicted": np.concatenate([line, np.full(len(betas), np.nan)]),
        "measured": np.concatenate([np.full(grid.size, np.nan), measured]),
    }, x="beta1", ys=("predicted", "measured"), logy=True,
        title="frozen Adam: eta * lam_max(P^-1 H) at divergence vs (2+2b1)/(1-b1)")


@check("optimizers.adam_noise_rms_update", uses={"rms": "optimizers.adam_noise_rms_update"}, smoke=True)
def adam_noise_rms_update(ctx: Context, rms):
    """Adam fed white N(0, sigma^2) gradients: measured RMS update vs eta sqrt((1-b1)/(1+b1))."""
    coords, steps = (512, 2000) if ctx.smoke else ((1024, 3000) if ctx.quick else (65536, 20000))
    eta, beta2, sigma = 0.01, 0.9999, 3.0
    for beta1 in (0.0, 0.5, 0.9):
        run = sim.adam_noise_updates(ctx.key(f"adam_noise/{beta1}"), eta, beta1, beta2, sigma,
                                     coordinates=coords, steps=steps, window=steps // 2)
        predicted = float(rms(eta=eta, beta1=beta1))
        yield compare(f"beta1={beta1}, beta2={beta2}, {coords} coordinates", predicted, run.rms,
                      4 * run.standard_error / predicted + 2e-3,
                      "4 Monte Carlo standard errors (32 blocks of coordinates) + 2e-3 for v_hat's "
                      "finite averaging window (relative variance ~2/t, t >= 1500 steps)")


def _least_squares(ctx: Context, salt: str, spectrum, n: int):
    """A realisable least-squares problem whose Hessian X^T X / n has exactly ``spectrum``."""
    rng = _rng(ctx, salt)
    spectrum = np.asarray(spectrum, dtype=float)
    d = spectrum.size
    u, _ = np.linalg.qr(rng.normal(size=(n, d)))
    v, _ = np.linalg.qr(rng.normal(size=(d, d)))
    X = np.sqrt(n) * (u * np.sqrt(spectrum)) @ v.T
    w_star = rng.normal(size=d)
    ev, vec = np.linalg.eigh(X.T @ X / n)
    return X, X @ w_star, w_star, ev, vec


def _steps_to(weights, w_star, eps: float) -> int:
    err = np.linalg.norm(np.asarray(weights) - w_star, axis=-1)
    hit = err / err[0] <= eps
    return int(np.argmax(hit)) if hit.any() else -1


@check("optimizers.natural_gradient_rate", uses={"rate": "optimizers.natural_gradient_rate",
                                                 "gd_rate": "linreg.optimal_rate",
                                                 "gd_lr": "linreg.optimal_lr"})
def natural_gradient_rate(ctx: Context, rate, gd_rate, gd_lr):
    """Damped natural gradient on least squares: per-mode contraction, and its kappa-free speed-up
    over GD at GD's optimal learning rate on the same spectrum."""
    d = 10 if ctx.quick else 100
    X, y, w_star, ev, vec = _least_squares(ctx, "natural_gradient", np.geomspace(0.01, 1.0, d), 4 * d)
    k = 5
    for eta, damping in ((0.5, 0.0), (0.7, 0.05), (1.2, 2.0)):
        run = sim.natural_gradient_least_squares(X, y, np.zeros(d), eta, damping, k)
        modes = (np.asarray(run.weights) - w_star) @ vec  # e_i(t) on the eigenvectors of H
        measured = np.abs(modes[k] / modes[0]) ** (1.0 / k)
        yield compare(f"per-mode contraction, eta={eta}, damping={damping}, {d} modes",
                      np.asarray(rate(eta=eta, lam=ev, damping=damping)), measured, 1e-8,
                      "linear recursion, float64: Cholesky solve with cond(H + damping) <= 100 loses "
                      "<= 1e-13 per step")
    eps, eta = 1e-6, 0.5
    for kappa in (10.0, 1000.0) if ctx.quick else (10.0, 1000.0, 1e5):
        X, y, w_star, ev, _ = _least_squares(ctx, f"ng_vs_gd/{kappa}", [1.0, kappa], 4)
        ng = sim.natural_gradient_least_squares(X, y, np.zeros(2), eta, 0.0, 64)
        ng_rate = float(np.max(rate(eta=eta, lam=ev, damping=0.0)))
        gd_eta = float(gd_lr(lam_min=float(ev[0]), lam_max=float(ev[-1])))
        budget = int(np.log(1 / eps) * kappa) + 10  # GD needs ~ kappa/2 log(1/eps)
        gd = ls.gd_least_squares(X, y, np.zeros(2), gd_eta, budget)
        g_rate = float(gd_rate(kappa=float(ev[-1] / ev[0])))
        predicted_ng = int(np.ceil(np.log(eps) / np.log(ng_rate)))
        predicted_gd = int(np.ceil(np.log(eps) / np.log(g_rate)))
        yield compare(f"natural gradient steps to 1e-6, kappa={kappa:g} (eta={eta}, damping=0)",
                      predicted_ng, _steps_to(ng.weights, w_star, eps), 1.0,
                      "integer step count; both modes contract exactly by the rate: round-off moves "
                      "it by <= 1 step", relative=False)
        yield compare(f"GD at optimal lr, steps to 1e-6, kappa={kappa:g}",
                      predicted_gd, _steps_to(gd.weights, w_star, eps), 1.0,
                      "integer step count; at optimal lr both modes contract exactly by the rate",
                      relative=False)
