r"""Linear regression: gradient-descent spectra, rates, conditioning, double descent.

Model statement. Loss $L(w) = \frac{1}{2n}\lVert Xw - y\rVert^2$ with Hessian
$H = X^\top X/n$, eigenpairs $(\lambda_i, v_i)$ and minimiser $w^*$. Then
$L(w) = L^* + \tfrac12 (w-w^*)^\top H (w-w^*)$, so along $v_i$ the error
$e_i = v_i^\top(w-w^*)$ sees the one-dimensional loss $\tfrac12\lambda_i e_i^2$.
Gradient descent $w_{t+1} = w_t - \eta\nabla L(w_t)$ therefore acts on each mode
separately; every formula below is derived by sympy from that per-mode loss.

Sources: the GD facts are textbook (Nesterov 2004, "Introductory Lectures on
Convex Optimization", sec. 1.2.3; Goh 2017, "Why Momentum Really Works", section
"First Steps: Gradient Descent"). Double descent: Hastie, Montanari, Rosset,
Tibshirani 2019, "Surprises in High-Dimensional Ridgeless Least Squares
Interpolation", arXiv:1903.08560v5, Theorem 1 (ridgeless, isotropic) and
Theorem 5 / eq. (16) (ridge, isotropic); Marchenko and Pastur 1967 for the
Stieltjes transform.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import sympy as sp

from analytic.family import formula_builder, lazy_attributes
from analytic.formula import Formula
from analytic.symbols import (
    e0, eps, eta, gamma, kappa, lam, lam_max, lam_min, r2, rho, ridge, scale, sigma2, t,
)

FORMULAS: dict = {}
_GD = "Nesterov 2004, Introductory Lectures on Convex Optimization, sec. 1.2.3"
_HMRT = "Hastie, Montanari, Rosset, Tibshirani 2019, arXiv:1903.08560v5"


def _mode_loss(error: sp.Expr, eigenvalue: sp.Expr) -> sp.Expr:
    """The one-mode excess loss 1/2 lam e^2 (the model statement)."""
    return eigenvalue * error**2 / 2


def _gd_factor(step: sp.Expr, eigenvalue: sp.Expr) -> sp.Expr:
    """The per-step multiplier of a mode error under GD, read off the update rule."""
    e = sp.Symbol("e", real=True)
    updated = e - step * sp.diff(_mode_loss(e, eigenvalue), e)
    return sp.simplify(updated / e)


@formula_builder(FORMULAS, "gd_mode_error")
def _derive_gd_mode_error() -> Formula:
    k = sp.Symbol("k", integer=True, nonnegative=True)
    e = sp.Function("e")
    grad = sp.diff(_mode_loss(e(k), lam), e(k))
    solution = sp.rsolve(e(k + 1) - (e(k) - eta * grad), e(k), {e(0): e0})
    return Formula(
        name="linreg.gd_mode_error",
        expr=solution.subs(k, t),
        params=(eta, lam, t, e0),
        source=_GD,
        derived=True,
        derivation="sympy.rsolve of e[k+1] = e[k] - eta d/de(lam e^2/2), e[0] = e0",
        conditions=("t counts GD steps; |1 - eta lam| > 1 means the mode diverges (still exact)",),
        domains={"t": sp.Naturals0},
        description="error along one Hessian eigen-direction after t GD steps",
    )


@formula_builder(FORMULAS, "gf_mode_error")
def _derive_gf_mode_error() -> Formula:
    e = sp.Function("e")
    ode = sp.Eq(e(t).diff(t), -sp.diff(_mode_loss(e(t), lam), e(t)))
    solution = sp.dsolve(ode, e(t), ics={e(0): e0}).rhs
    return Formula(
        name="linreg.gf_mode_error",
        expr=solution,
        params=(lam, t, e0),
        source=_GD,
        derived=True,
        derivation="sympy.dsolve of de/dt = -d/de(lam e^2/2), e(0) = e0",
        conditions=("gradient flow is the eta -> 0 limit of GD at time t = eta * steps",),
        description="error along one eigen-direction under gradient flow at time t",
    )


@formula_builder(FORMULAS, "critical_lr")
def _derive_critical_lr() -> Formula:
    roots = sp.solve(sp.Eq(_gd_factor(eta, lam_max), -1), eta)
    (expr,) = roots
    return Formula(
        name="linreg.critical_lr",
        expr=expr,
        params=(lam_max,),
        source=_GD,
        derived=True,
        derivation="sympy.solve of 1 - eta lam_max = -1 (the stiffest mode's multiplier reaches -1)",
        conditions=("GD converges for 0 < eta < critical_lr and diverges above it",),
        description="largest stable GD learning rate",
    )


@formula_builder(FORMULAS, "optimal_lr")
def _derive_optimal_lr() -> Formula:
    # The worst-case multiplier max(|1 - eta lam_min|, |1 - eta lam_max|) is minimised
    # where the two extreme modes contract equally fast with opposite signs.
    (expr,) = sp.solve(sp.Eq(_gd_factor(eta, lam_min), -_gd_factor(eta, lam_max)), eta)
    return Formula(
        name="linreg.optimal_lr",
        expr=expr,
        params=(lam_min, lam_max),
        source=_GD,
        derived=True,
        derivation="sympy.solve of 1 - eta lam_min = -(1 - eta lam_max)",
        conditions=("0 < lam_min <= lam_max",),
        description="learning rate minimising the worst-case GD contraction",
    )


@formula_builder(FORMULAS, "optimal_rate")
def _derive_optimal_rate() -> Formula:
    best = _derive_optimal_lr().expr
    rate = sp.simplify(_gd_factor(best, lam_min).subs(lam_max, kappa * lam_min))
    return Formula(
        name="linreg.optimal_rate",
        expr=rate,
        params=(kappa,),
        source=_GD,
        derived=True,
        derivation="1 - eta* lam_min at eta* = optimal_lr, with lam_max = kappa lam_min, simplified",
        domains={"kappa": sp.Interval(1, sp.oo)},
        description="per-step contraction of the worst mode at the optimal learning rate",
    )


@formula_builder(FORMULAS, "optimal_steps")
def _derive_optimal_steps() -> Formula:
    steps = sp.Symbol("steps", positive=True)
    (expr,) = sp.solve(sp.Eq(_derive_optimal_rate().expr ** steps, eps), steps)
    return Formula(
        name="linreg.optimal_steps",
        expr=sp.simplify(expr),
        params=(kappa, eps),
        source=_GD,
        derived=True,
        derivation="sympy.solve of optimal_rate**steps = eps for steps",
        conditions=("steps to shrink the worst-mode error by eps at the optimal learning rate; "
                    "round up for an integer count",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "eps": sp.Interval.open(0, 1)},
        description="GD steps to reach relative error eps at the optimal learning rate",
    )


@formula_builder(FORMULAS, "two_feature_kappa")
def _derive_two_feature_kappa() -> Formula:
    # Two zero-mean features: x1 with standard deviation `scale`, x2 with 1, correlation rho.
    hessian = sp.Matrix([[scale**2, rho * scale], [rho * scale, 1]])
    small, big = sorted(hessian.eigenvals(), key=lambda ev: ev.subs({scale: 2, rho: sp.Rational(1, 3)}))
    return Formula(
        name="linreg.two_feature_kappa",
        expr=sp.simplify(big / small),
        params=(scale, rho),
        source="Goh 2017, Why Momentum Really Works (elongated quadratics); LeCun et al. 1998, "
               "Efficient BackProp, sec. 4.3 (normalising and decorrelating inputs)",
        derived=True,
        derivation="ratio of the eigenvalues of H = [[scale^2, rho scale], [rho scale, 1]] (sympy eigenvals)",
        conditions=("scale = 1 is the standardised design: (1 + |rho|) / (1 - |rho|); "
                    "after whitening kappa = 1",),
        domains={"rho": sp.Interval.open(-1, 1)},
        description="condition number of the population Hessian of two scaled, correlated features",
    )


def _marchenko_pastur_stieltjes() -> tuple[sp.Expr, sp.Expr]:
    """m(-ridge) and m'(-ridge) of the Marchenko-Pastur law with ratio gamma.

    m(z) = int dF(s) / (s - z) solves gamma z m^2 - (1 - gamma - z) m + 1 = 0
    (Marchenko and Pastur 1967); the branch is the one positive on z < 0.
    """
    z, m = sp.symbols("z m")
    roots = sp.solve(gamma * z * m**2 - (1 - gamma - z) * m + 1, m)
    at = {gamma: sp.Rational(1, 2), z: -sp.Rational(1, 10)}
    (branch,) = [r for r in roots if r.subs(at).evalf() > 0]
    return branch.subs(z, -ridge), sp.diff(branch, z).subs(z, -ridge)


@formula_builder(FORMULAS, "ridge_risk")
def _derive_ridge_risk() -> Formula:
    # Ridge estimate (X^T X/n + ridge I)^{-1} X^T y/n with isotropic beta (|beta|^2 = r2):
    #   bias^2   = r2 * ridge^2 int dF(s) / (s + ridge)^2             = r2 ridge^2 m'(-ridge)
    #   variance = sigma2 gamma int s dF(s) / (s + ridge)^2           = sigma2 gamma (m - ridge m')
    # where F is the limiting spectrum of X^T X/n (Marchenko-Pastur).
    m, m_prime = _marchenko_pastur_stieltjes()
    risk = r2 * ridge**2 * m_prime + sigma2 * gamma * (m - ridge * m_prime)
    return Formula(
        name="linreg.ridge_risk",
        expr=sp.simplify(risk),
        params=(gamma, r2, sigma2, ridge),
        source=f"{_HMRT}, Theorem 5 / eq. (16) (isotropic features, ridge)",
        derived=True,
        derivation="bias-variance split of the ridge estimator over the Marchenko-Pastur law; "
                   "m from sympy.solve of its self-consistent quadratic, m' by sympy.diff",
        conditions=("n, d -> oo with d/n -> gamma; isotropic Gaussian features; risk excludes the "
                    "irreducible noise sigma2",),
        description="asymptotic excess test risk of ridge regression",
    )


@formula_builder(FORMULAS, "ridgeless_risk")
def _derive_ridgeless_risk() -> Formula:
    risk = _derive_ridge_risk().expr
    a = sp.Symbol("a", positive=True)
    branches = []
    for gamma_of_a in (1 / (1 + a), 1 + a):  # gamma < 1, then gamma > 1
        limit = sp.limit(risk.subs(gamma, gamma_of_a), ridge, 0, "+")
        (a_of_gamma,) = sp.solve(sp.Eq(gamma_of_a, gamma), a)
        branches.append(sp.factor(sp.simplify(limit.subs(a, a_of_gamma))))
    return Formula(
        name="linreg.ridgeless_risk",
        expr=sp.Piecewise((branches[0], gamma < 1), (branches[1], True)),
        params=(gamma, r2, sigma2),
        source=f"{_HMRT}, Theorem 1 (isotropic features) and eq. (8)",
        derived=True,
        derivation="sympy.limit of linreg.ridge_risk as ridge -> 0+, separately for gamma < 1 and gamma > 1",
        conditions=("min-norm least squares; n, d -> oo with d/n -> gamma; diverges at gamma = 1",),
        description="asymptotic excess test risk of min-norm least squares (double descent)",
    )


def gd_loss_curve(eta, eigenvalues, initial_errors, steps: int):
    r"""Excess loss $L(w_t) - L^*$ of GD for $t = 0, \dots, steps$, over a spectrum.

    $L_t - L^* = \tfrac12\sum_i \lambda_i\, e_i(t)^2$ with $e_i(t)$ from
    ``linreg.gd_mode_error``. ``eigenvalues`` and ``initial_errors`` are 1-D arrays
    of equal length (errors along the eigenvectors of H). Returns an array of shape
    (steps + 1,) in the inputs' float dtype. Jit-compatible (``steps`` static).
    """
    eigenvalues = jnp.asarray(eigenvalues)
    initial_errors = jnp.asarray(initial_errors)
    _check_spectrum(eta, eigenvalues, initial_errors)
    return _gd_loss_curve(eta, eigenvalues, initial_errors, int(steps))


def _check_spectrum(eta, eigenvalues, initial_errors) -> None:
    if isinstance(eta, jax.core.Tracer) or isinstance(eigenvalues, jax.core.Tracer):
        return
    if eigenvalues.ndim != 1 or eigenvalues.shape != initial_errors.shape:
        raise ValueError(
            f"eigenvalues and initial_errors must be 1-D of equal length, got shapes "
            f"{eigenvalues.shape} and {initial_errors.shape}")
    _derive_gd_mode_error().check_arguments(eta=eta, lam=eigenvalues, t=0, e0=initial_errors)


@functools.partial(jax.jit, static_argnums=3)
def _gd_loss_curve(eta, eigenvalues, initial_errors, steps):
    mode_error = _derive_gd_mode_error().jax
    times = jnp.arange(steps + 1, dtype=eigenvalues.dtype)[:, None]
    errors = mode_error(eta, eigenvalues[None, :], times, initial_errors[None, :])
    return 0.5 * jnp.sum(eigenvalues * errors**2, axis=-1)


def gf_loss_curve(eigenvalues, initial_errors, times):
    r"""Excess loss under gradient flow at ``times``: $\tfrac12\sum_i \lambda_i e_i(t)^2$.

    $e_i(t)$ from ``linreg.gf_mode_error``; ``times`` is any 1-D array of t >= 0.
    """
    eigenvalues = jnp.asarray(eigenvalues)
    initial_errors = jnp.asarray(initial_errors)
    times = jnp.asarray(times)
    _check_spectrum(1.0, eigenvalues, initial_errors)
    _derive_gf_mode_error().check_arguments(lam=eigenvalues[None, :], t=times[:, None], e0=0.0)
    return _gf_loss_curve(eigenvalues, initial_errors, times)


@jax.jit
def _gf_loss_curve(eigenvalues, initial_errors, times):
    errors = _derive_gf_mode_error().jax(eigenvalues[None, :], times[:, None], initial_errors[None, :])
    return 0.5 * jnp.sum(eigenvalues * errors**2, axis=-1)


__getattr__ = lazy_attributes(__name__, FORMULAS)
