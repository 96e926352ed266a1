"""Loss curves over a whole spectrum, built from the per-mode Formulas."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from analytic.formula import real_array
from analytic.linreg._gradient_descent import _gd_mode_error, _gf_mode_error


def gd_loss_curve(eta, eigenvalues, initial_errors, steps: int):
    r"""Excess loss $L(w_t) - L^*$ of GD for $t = 0, \dots, steps$, over a spectrum.

    $L_t - L^* = \tfrac12\sum_i \lambda_i\, e_i(t)^2$ with $e_i(t)$ from
    ``linreg.gd_mode_error``. ``eigenvalues`` and ``initial_errors`` are 1-D arrays
    of equal length (errors along the eigenvectors of H). Returns an array of shape
    (steps + 1,) in the inputs' float dtype. Jit-compatible (``steps`` static).
    """
    eigenvalues, initial_errors = _arrays("linreg.gd_loss_curve", eigenvalues, initial_errors)
    _check_spectrum("linreg.gd_loss_curve", eta, eigenvalues, initial_errors)
    return _gd_loss_curve(eta, eigenvalues, initial_errors, steps=int(steps))


def _arrays(caller: str, eigenvalues, initial_errors):
    """jnp arrays of the spectrum; ragged lists, bool, str... refused naming ``caller``."""
    for name, v in (("eigenvalues", eigenvalues), ("initial_errors", initial_errors)):
        if not isinstance(v, jax.core.Tracer):
            real_array(caller, name, v)
    return jnp.asarray(eigenvalues), jnp.asarray(initial_errors)


def _check_spectrum(caller: str, eta, eigenvalues, initial_errors) -> None:
    if isinstance(eta, jax.core.Tracer) or isinstance(eigenvalues, jax.core.Tracer):
        return
    if eigenvalues.ndim != 1 or eigenvalues.shape != initial_errors.shape:
        raise ValueError(
            f"{caller}: eigenvalues and initial_errors must be 1-D of equal length, got shapes "
            f"{eigenvalues.shape} and {initial_errors.shape}")
    _gd_mode_error().check_arguments(caller, eta=eta, lam=eigenvalues, t=0, e0=initial_errors)


@functools.partial(jax.jit, static_argnames="steps")
def _gd_loss_curve(eta, eigenvalues, initial_errors, steps):
    mode_error = _gd_mode_error().jax
    times = jnp.arange(steps + 1, dtype=eigenvalues.dtype)[:, None]
    errors = mode_error(eta, eigenvalues[None, :], times, initial_errors[None, :])
    return 0.5 * jnp.sum(eigenvalues * errors**2, axis=-1)


def gf_loss_curve(eigenvalues, initial_errors, times):
    r"""Excess loss under gradient flow at ``times``: $\tfrac12\sum_i \lambda_i e_i(t)^2$.

    $e_i(t)$ from ``linreg.gf_mode_error``; ``times`` is any 1-D array of t >= 0.
    """
    eigenvalues, initial_errors = _arrays("linreg.gf_loss_curve", eigenvalues, initial_errors)
    if not isinstance(times, jax.core.Tracer):
        real_array("linreg.gf_loss_curve", "times", times)
    times = jnp.asarray(times)
    _check_spectrum("linreg.gf_loss_curve", 1.0, eigenvalues, initial_errors)
    _gf_mode_error().check_arguments("linreg.gf_loss_curve", lam=eigenvalues[None, :], t=times[:, None], e0=0.0)
    return _gf_loss_curve(eigenvalues, initial_errors, times)


@jax.jit
def _gf_loss_curve(eigenvalues, initial_errors, times):
    errors = _gf_mode_error().jax(eigenvalues[None, :], times[:, None], initial_errors[None, :])
    return 0.5 * jnp.sum(eigenvalues * errors**2, axis=-1)
