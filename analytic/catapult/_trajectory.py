r"""Iterating the derived uv map, and the three phases it predicts.

Built from the Formulas ``catapult.uv_map``, ``catapult.critical_lr`` and
``catapult.max_lr``; nothing here retypes them.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from analytic.catapult._uv_model import _critical_lr, _max_lr, _uv_map
from analytic.formula import real_array

__all__ = ["uv_trajectory", "phase", "PHASES"]

PHASES = ("lazy", "catapult", "divergent")


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and not (
            hasattr(value, "shape") and getattr(value, "shape") == ()):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} = {v!r} must be finite")
    return v


def _check_rate_and_ntk(eta, lam0) -> tuple[float, float]:
    eta, lam0 = _real("eta", eta), _real("lam0", lam0)
    if eta <= 0:
        raise ValueError(f"eta = {eta!r} must be in (0, oo)")
    if lam0 <= 0:
        raise ValueError(f"lam0 = {lam0!r} must be in (0, oo)")
    return eta, lam0


def uv_trajectory(eta, lam0, f0, n, steps: int, label=0.0, uv_map=None):
    r"""(f_t, lam_t) for t = 0..steps under GD on the uv model, from the derived map.

    Iterates ``catapult.uv_map`` (for label $y=0$:
    $f' = (1 - \eta\lambda + \eta^2 f^2/n) f$, $\lambda' = \lambda + (\eta f^2/n)(\eta\lambda - 4)$)
    from $(f_0, \lambda_0)$ with ``jax.lax.scan``. ``eta``, ``lam0``, ``f0``, ``n`` and ``label``
    may be arrays that broadcast together (a sweep of learning rates is one call), and the
    function may be used under ``jax.vmap``/``jax.jit`` (traced values are not range-checked:
    check concrete ones beforehand). Returns two arrays of shape ``broadcast shape +
    (steps + 1,)`` (``(steps + 1,)`` for scalars) in float64 when x64 is on. A divergent run
    is returned as it is: its values grow to +-inf and stay there (never NaN); divergence is
    a result, not an error.

    Raises ``ValueError`` for eta <= 0, lam0 <= 0, n < 1, steps < 0, and for
    $|f_0 - 0| > \sqrt n \lambda_0 / 2$, which no pair of vectors realises
    ($|u\cdot v| \le (|u|^2 + |v|^2)/2$); ``TypeError`` for a non-real value.

    ``uv_map``: the Formula to iterate (default ``catapult.uv_map``); verify passes a
    perturbed one to check that a wrong map is caught.

    Example:
        >>> f, lam = uv_trajectory(jnp.array([1.0, 3.0]), 1.0, 0.3, 100, 10)
        >>> f.shape
        (2, 11)
    """
    eta, lam0, f0, n, label = (_real_values(name, v) for name, v in
                               (("eta", eta), ("lam0", lam0), ("f0", f0), ("n", n), ("label", label)))
    for name, v, low in (("eta", eta, 0.0), ("lam0", lam0, 0.0)):
        _require(name, v, lambda x, low=low: x > low, "(0, oo)")
    _require("n", n, lambda x: x >= 1, "[1, oo) (the width of u and v)")
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps = {steps!r} must be an integer in {{0, 1, 2, ...}}")
    if not any(isinstance(v, jax.core.Tracer) for v in (f0, n, lam0)):
        bound = np.sqrt(n) * lam0 / 2
        bad = np.abs(f0) > bound
        if np.any(bad):
            i = np.unravel_index(int(np.argmax(bad)), bad.shape) if bad.ndim else ()
            shown_f0 = float(np.broadcast_to(f0, bad.shape)[i])
            shown_bound = float(np.broadcast_to(bound, bad.shape)[i])
            raise ValueError(f"f0 = {shown_f0!r} is not realisable: |f0| must be <= sqrt(n) lam0 / 2 = "
                             f"{shown_bound!r} (|u.v| <= (|u|^2 + |v|^2) / 2)")
    dtype = jnp.result_type(float)
    args = jnp.broadcast_arrays(*(jnp.asarray(x, dtype) for x in (eta, lam0, f0, label, n)))
    step = (uv_map or _uv_map()).jax  # (eta, lam, f, y, n) -> (f_next, lam_next)
    return _iterate(*args, steps=int(steps), step=step)


def _real_values(name: str, value):
    """``value`` as a float array (a traced value as it is); TypeError for bool, str, None, complex."""
    if isinstance(value, jax.core.Tracer):
        return value
    a = real_array("uv_trajectory", name, value)
    bad = ~np.isfinite(a)
    if bad.any():
        raise ValueError(f"{name} = {float(a[bad].flat[0])!r} must be finite")
    return a


def _require(name: str, values, ok, valid: str) -> None:
    """ValueError naming the first value of ``name`` outside ``valid`` (traced values: unchecked)."""
    if isinstance(values, jax.core.Tracer):
        return
    bad = ~ok(values)
    if np.any(bad):
        raise ValueError(f"{name} = {float(np.asarray(values)[bad].flat[0] if np.ndim(values) else values)!r} "
                         f"must be in {valid}")


@functools.partial(jax.jit, static_argnames=("steps", "step"))
def _iterate(eta, lam0, f0, label, n, steps, step):
    def body(state, _):
        f, lam = state
        f_next, lam_next = step(eta, lam, f, label, n)
        # Past overflow inf - inf would give NaN: a divergent run stays at +-inf instead.
        f_next = jnp.where(jnp.isnan(f_next), jnp.copysign(jnp.inf, f), f_next)
        lam_next = jnp.where(jnp.isnan(lam_next), jnp.copysign(jnp.inf, lam), lam_next)
        return (f_next, lam_next), (f_next, lam_next)

    _, (fs, lams) = jax.lax.scan(body, (f0, lam0), None, length=steps)
    # time is the last axis: (..., steps + 1)
    return (jnp.moveaxis(jnp.concatenate([f0[None], fs]), 0, -1),
            jnp.moveaxis(jnp.concatenate([lam0[None], lams]), 0, -1))


def phase(eta, lam0, critical_lr=None, max_lr=None) -> str:
    """"lazy" (eta < critical_lr), "catapult" (critical_lr <= eta < max_lr) or "divergent".

    The boundaries are the Formulas ``catapult.critical_lr`` = 2/lam0 and
    ``catapult.max_lr`` = 4/lam0 (uv model, label 0, large width); other Formulas
    of ``lam0`` may be passed in their place.
    """
    eta, lam0 = _check_rate_and_ntk(eta, lam0)
    if eta < float((critical_lr or _critical_lr())(lam0=lam0)):
        return "lazy"
    if eta < float((max_lr or _max_lr())(lam0=lam0)):
        return "catapult"
    return "divergent"
