r"""Steps to a target loss versus batch size, tuned per batch size, and the critical batch size.

Zhang et al. 2019 (arXiv:1907.04164v2, sec. 3 and 4, fig. 4 and 5) measure, for each
batch size $B$, the fewest steps $S(B)$ after which the expected loss
$\mathbb E L_t = \tfrac12\sum_i h_i\mathbb E\theta_{i,t}^2$ is at or below a target,
with the learning rate (and momentum) tuned separately for every $B$. Small batches
are noise-dominated: the best learning rate grows like $B$ and $S \propto 1/B$
(perfect scaling). Large batches are curvature-dominated: $S$ levels off at the
deterministic (full-batch) count. Momentum and preconditioning lower that floor, so
perfect scaling lasts to larger $B$: the critical batch size grows.

Here $\mathbb E L_t$ is exact: the sympy-derived second-moment map
``nqm.second_moment_step`` iterated per dimension (see :mod:`analytic.nqm._curves`), so
the only approximation is the discrete hyperparameter grid. Every function takes the
Formulas it uses as optional keywords (``moment_step``, ``max_lr``; default: the
catalogue's), so that a check can hand over the ones it received.

The critical batch size is read off a tuned curve as the crossing of its two
asymptotes, $B^* = E_{\min}/S_{\min}$ with $E = B\,S(B)$ the examples processed
(McCandlish, Kaplan, Amodei et al. 2018, arXiv:1812.06162v1, sec. 2.2, eq. 2.11-2.12).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from analytic.formula import Formula
from analytic.nqm._curves import check_hyperparameters, check_spectrum, moment_step_or_default
from analytic.nqm._moments import _max_stable_lr

__all__ = ["steps_to_target", "TunedSteps", "learning_rate_grid", "tuned_steps_to_target",
           "critical_batch_size"]


def steps_to_target(alpha, beta, p, h, c, B, theta0, target, max_steps: int, *,
                    moment_step: Formula | None = None):
    r"""First $t \le$ ``max_steps`` with $\mathbb E L_t \le$ ``target`` (inf if none).

    ``alpha``, ``beta``, ``B`` broadcast against each other (a grid of
    configurations, any shape); ``p`` is a scalar; ``h``, ``c``, ``theta0`` form the
    1-D spectrum. Returns a float array of the configurations' shape. The moment map
    is iterated until every configuration has hit (or ``max_steps``), not beyond.
    """
    a, b, batch, p_, hv, cv, th, tgt, steps = _checked(alpha, beta, p, h, c, B, theta0, target, max_steps)
    hit, _ = _first_hit(a, b, p_, batch, hv, cv, th, tgt, max_steps=steps, stop_at_first=False,
                        moment_step=moment_step_or_default(moment_step))
    return jnp.where(hit <= steps, hit.astype(hv.dtype), jnp.inf)


def _checked(alpha, beta, p, h, c, B, theta0, target, max_steps):
    hv, cv, th = check_spectrum(h, c, theta0, caller="nqm.steps_to_target")
    check_hyperparameters(alpha, beta, p, B, caller="nqm.steps_to_target")
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"target must be a finite loss > 0, got {target!r}")
    if int(max_steps) < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps!r}")
    a, b, batch = jnp.broadcast_arrays(*(jnp.asarray(v, hv.dtype) for v in (alpha, beta, B)))
    return (a, b, batch, jnp.asarray(p, hv.dtype), hv, cv, th, jnp.asarray(target, hv.dtype),
            int(max_steps))


_NEVER = jnp.iinfo(jnp.int32).max


@functools.partial(jax.jit, static_argnames=("max_steps", "stop_at_first", "moment_step"))
def _first_hit(a, b, p, batch, hv, cv, th, target, max_steps, stop_at_first, moment_step):
    """Per configuration the first t with E L_t <= target (int32 max if none), and E L there.

    Iterates the exact second-moment map in a ``while_loop`` that stops at ``max_steps``,
    once every configuration has hit, or (``stop_at_first``) once any has: then the
    minimum over the configurations is already known, so no later step can change it.
    """
    step = moment_step.jax
    effective = a[..., None] * hv ** (-p)
    b_, batch_ = b[..., None], batch[..., None]
    start_sq = jnp.broadcast_to(th**2, effective.shape)
    initial = 0.5 * jnp.sum(hv * th**2)
    hit0 = jnp.broadcast_to(jnp.where(initial <= target, 0, _NEVER).astype(jnp.int32), a.shape)
    loss0 = jnp.broadcast_to(initial, a.shape)

    def running(carry):
        t, _, hit, _ = carry
        done = jnp.any(hit < _NEVER) if stop_at_first else jnp.all(hit < _NEVER)
        return (t < max_steps) & ~done

    def advance(carry):
        t, state, hit, loss_at_hit = carry
        t = t + 1
        state = step(effective, b_, hv, cv, batch_, *state)
        loss = 0.5 * jnp.sum(hv * state[0], axis=-1)
        new = (loss <= target) & (hit == _NEVER)
        return t, state, jnp.where(new, t, hit), jnp.where(new, loss, loss_at_hit)

    carry = (jnp.int32(0), (start_sq, start_sq, start_sq), hit0, loss0)
    _, _, hit, loss_at_hit = jax.lax.while_loop(running, advance, carry)
    return hit, loss_at_hit


class TunedSteps(NamedTuple):
    """Per batch size: the fewest steps to target over the grid and the (alpha, beta) achieving it."""

    batch_size: np.ndarray
    steps: np.ndarray  # inf where no grid point reaches the target within max_steps
    alpha: np.ndarray
    beta: np.ndarray


def learning_rate_grid(lr_fractions, betas, p, h, *, max_lr: Formula | None = None) -> np.ndarray:
    """alpha[f, b] = lr_fractions[f] * (the largest stable rate over the spectrum at betas[b])."""
    fractions = np.asarray(lr_fractions, float)
    if fractions.ndim != 1 or np.any(fractions <= 0) or np.any(fractions >= 1):
        raise ValueError(f"lr_fractions must be a 1-D array in (0, 1), got {lr_fractions!r}")
    bound = (_max_stable_lr() if max_lr is None else max_lr)(beta=np.asarray(betas)[:, None], p=p, h=np.asarray(h)[None, :])
    return fractions[:, None] * np.min(np.asarray(bound), axis=1)[None, :]


def tuned_steps_to_target(batch_sizes, lr_fractions, betas, p, h, c, theta0, target,
                          max_steps: int, *, moment_step: Formula | None = None,
                          max_lr: Formula | None = None) -> TunedSteps:
    """Steps to target at every batch size, minimised over a learning-rate x momentum grid.

    The learning rates are ``lr_fractions`` of the stability limit
    ``nqm.max_stable_lr`` of the stiffest dimension (for each momentum), so every
    grid point is stable; ``betas`` is the momentum grid (``[0.0]`` for plain SGD);
    ``p`` the preconditioning power (0: none).

    The tuned count is the first step at which *any* grid point reaches the target,
    so each batch size iterates the moment map for that many steps only (cost: grid
    size x dims x S(B), not x ``max_steps``). Ties at that step go to the grid point
    with the lowest expected loss.
    """
    batch = np.asarray(batch_sizes, float)
    mom = np.asarray(betas, float)
    if batch.ndim != 1 or mom.ndim != 1:
        raise ValueError("batch_sizes and betas must be 1-D")
    lrs = learning_rate_grid(lr_fractions, mom, p, h, max_lr=max_lr)  # (F, M)
    step = moment_step_or_default(moment_step)
    steps, alpha, beta = [], [], []
    for size in batch:
        a, b, bs, p_, hv, cv, th, tgt, n = _checked(lrs, mom[None, :], p, h, c, size, theta0, target,
                                                    max_steps)
        hit, loss = (np.asarray(v) for v in _first_hit(a, b, p_, bs, hv, cv, th, tgt, max_steps=n,
                                                                 stop_at_first=True, moment_step=step))
        first = hit.min()
        best = np.unravel_index(np.argmin(np.where(hit == first, loss, np.inf)), hit.shape)
        steps.append(float(first) if first <= n else np.inf)
        alpha.append(lrs[best])
        beta.append(mom[best[1]])
    return TunedSteps(batch, np.array(steps), np.array(alpha), np.array(beta))


def critical_batch_size(batch_sizes, steps) -> float:
    r"""$B^* = E_{\min}/S_{\min}$: where perfect scaling $S = E_{\min}/B$ meets the floor $S_{\min}$.

    ``E_min = min_B B S(B)`` (examples, attained in the perfect-scaling regime) and
    ``S_min = min_B S(B)``; both over the finite entries of ``steps``.
    """
    batch = np.asarray(batch_sizes, float)
    s = np.asarray(steps, float)
    ok = np.isfinite(s) & (s > 0)
    if batch.shape != s.shape or ok.sum() < 2:
        raise ValueError("need matching 1-D batch_sizes and steps with at least two finite, positive steps")
    return float(np.min(batch[ok] * s[ok]) / np.min(s[ok]))
