"""Fisher matrices by autodiff and K-FAC / exact natural-gradient training of deep linear networks, in JAX.

Independent of ``analytic``: nothing here knows a closed form.

* :func:`deep_linear_fisher`: the exact Fisher of a deep linear network ``f(x) = W_L ... W_1 x`` with a
  unit-variance Gaussian output model, ``F = mean_x J_x^T J_x`` from ``jax.jacfwd`` (the expectation
  over model-sampled labels is exact for a Gaussian), and K-FAC's factors for every pair of layers:
  ``A_lm = mean a_l a_m^T`` from the forward pass and ``G_lm = mean J_l^T J_m`` with ``J_l`` the
  Jacobian of the output in layer ``l``'s output (autodiff through an additive probe).
* :func:`empirical_fisher_gap`: Monte Carlo on one linear layer with Gaussian inputs: per-example
  gradients (``jax.vmap(jax.grad)``) of the squared loss against labels either from a teacher
  (the empirical Fisher) or sampled from the model, the Fisher ``mean grad grad^T`` and the unbiased
  estimate of its gap to the Kronecker product of the Monte Carlo factors, over replicates.
* :func:`deep_linear_training`: exact natural gradient (the minimum-norm least-squares step
  ``J^+ r``, i.e. the Fisher's pseudo-inverse) or block-diagonal K-FAC (``G_l^-1 grad_l A_l^-1``) on
  deep linear networks of several depths in one compiled program (shallower networks are padded with
  frozen identity layers).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.scipy.linalg
import numpy as np

METHODS = ("natural", "kfac")


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _forward(weights, mask, x, probes=None):
    """Outputs of the padded network and every layer's input; ``probes`` (layers, d) are added to layer outputs.

    The loop over layers is unrolled (a handful of layers): it compiles faster under ``jacfwd`` than a scan."""
    h, inputs = x, []
    for layer in range(weights.shape[0]):
        inputs.append(h)
        h = jnp.where(mask[layer], weights[layer] @ h, h)
        if probes is not None:
            h = h + probes[layer]
    return h, jnp.stack(inputs)


class FisherBlocks(NamedTuple):
    fisher: jax.Array  # (P, P): mean_x J^T J in the parameters' ravel order (layer, out, in)
    input_moments: jax.Array  # (L, L, d, d): A_lm = mean a_l a_m^T
    gradient_moments: jax.Array  # (L, L, d, d): G_lm = mean J_l^T J_m (J_l: output w.r.t. layer l's output)


@jax.jit
def _fisher(weights, x):
    mask = jnp.ones(weights.shape[0], bool)

    def output(flat, xi):
        return _forward(flat.reshape(weights.shape), mask, xi)[0]

    jac = jax.vmap(jax.jacfwd(output), (None, 0))(weights.ravel(), x)  # (n, d, P)
    fisher = jnp.einsum("nop,noq->pq", jac, jac) / x.shape[0]
    acts = jax.vmap(lambda xi: _forward(weights, mask, xi)[1])(x)  # (n, L, d)
    probe_jac = jax.vmap(jax.jacfwd(lambda p, xi: _forward(weights, mask, xi, p)[0]), (None, 0))(
        jnp.zeros(weights.shape[:2]), x)  # (n, d_out, L, d)
    a = jnp.einsum("nli,nmj->lmij", acts, acts) / x.shape[0]
    g = jnp.einsum("nolk,nomj->lmkj", probe_jac, probe_jac) / x.shape[0]
    return FisherBlocks(fisher, a, g)


def deep_linear_fisher(weights, inputs) -> FisherBlocks:
    """Exact Fisher (Gaussian output, unit variance) of ``f(x) = W_L ... W_1 x`` and K-FAC's factors.

    ``weights``: (L, d, d), layer 1 first; ``inputs``: (n, d). The Fisher is ``mean_x J_x^T J_x``
    over the ``n`` inputs, parameters in ``weights.ravel()`` order (layer, output row, input column).

    Example:
        >>> import numpy as np
        >>> blocks = deep_linear_fisher(np.eye(1)[None], np.array([[1.0], [3.0]]))   # F = mean x^2
        >>> float(blocks.fisher[0, 0]), float(blocks.input_moments[0, 0, 0, 0])
        (5.0, 5.0)
    """
    w = jnp.asarray(weights, dtype=float)
    x = jnp.asarray(inputs, dtype=float)
    if w.ndim != 3 or w.shape[1] != w.shape[2] or x.ndim != 2 or x.shape[1] != w.shape[2]:
        raise ValueError(f"weights must be (L, d, d) and inputs (n, d), got {w.shape} and {x.shape}")
    return _fisher(w, x)


class FisherGap(NamedTuple):
    fisher: jax.Array  # (replicates, P, P): mean over examples of grad grad^T (grad = vec of d loss / dW)
    gap: jax.Array  # (replicates, P, P): unbiased estimate of fisher - kron(G, A) (n/(n-1) correction)
    input_moments: jax.Array  # (replicates, in, in): A = mean a a^T
    gradient_moments: jax.Array  # (replicates, out, out): G = mean g g^T (g = d loss / d output)


@jax.jit
def _gap(weights, teacher, x, eps, sampled):
    def one(x, eps):
        examples = x.shape[0]
        y = jnp.where(sampled, x @ weights.T, x @ teacher.T) + eps  # model-sampled or teacher labels

        def loss(w, xi, yi):
            return 0.5 * jnp.sum((w @ xi - yi) ** 2)

        grads = jax.vmap(jax.grad(loss), (None, 0, 0))(weights, x, y).reshape(examples, -1)
        g = jax.vmap(jax.grad(lambda s, yi: 0.5 * jnp.sum((s - yi) ** 2)))(x @ weights.T, y)
        fisher = grads.T @ grads / examples
        a, gg = x.T @ x / examples, g.T @ g / examples
        gap = examples / (examples - 1) * (fisher - jnp.kron(gg, a))
        return fisher, gap, a, gg

    return FisherGap(*jax.vmap(one)(x, eps))


def empirical_fisher_gap(seed: int, weights, teacher, input_scale, noise: float, examples: int, replicates: int,
                         labels: str = "teacher") -> FisherGap:
    """Monte Carlo Fisher of one linear layer ``s = W a``, inputs ``a = input_scale z`` (z standard normal).

    ``seed`` seeds numpy's generator for the inputs and the label noise (``replicates`` x ``examples``).

    ``labels="teacher"``: ``y = teacher a + noise eps`` (the empirical Fisher of a regression on data);
    ``labels="model"``: ``y = W a + noise eps`` (labels sampled from the model). Per-example gradients of
    ``|W a - y|^2 / 2`` by ``jax.grad``, in ``W.ravel()`` order. The gap estimate multiplies
    ``fisher - kron(G, A)`` by ``n / (n - 1)``: the product of two sample means over the same examples is
    biased by ``(fisher - kron)/n`` (zero-mean examples).

    Example:
        >>> import numpy as np
        >>> run = empirical_fisher_gap(0, np.eye(1), np.zeros((1, 1)), np.eye(1), 1.0, 8, 2)
        >>> run.gap.shape
        (2, 1, 1)
    """
    w = jnp.asarray(weights, dtype=float)
    t = jnp.asarray(teacher, dtype=float)
    s = jnp.asarray(input_scale, dtype=float)
    if w.ndim != 2 or t.shape != w.shape or s.shape != (w.shape[1], w.shape[1]):
        raise ValueError(f"weights (out, in) = {w.shape} needs teacher of the same shape and input_scale "
                         f"(in, in); got {t.shape} and {s.shape}")
    if not float(noise) >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    if labels not in ("teacher", "model"):
        raise ValueError(f"labels must be 'teacher' or 'model', got {labels!r}")
    examples = _positive_int("examples", examples)
    if examples < 2:
        raise ValueError(f"examples must be >= 2 (the gap estimate divides by examples - 1), got {examples}")
    replicates = _positive_int("replicates", replicates)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((replicates, examples, w.shape[1])) @ np.asarray(s).T
    eps = float(noise) * rng.standard_normal((replicates, examples, w.shape[0]))
    return _gap(w, t, jnp.asarray(x), jnp.asarray(eps), labels == "model")


class TrainingCurves(NamedTuple):
    losses: jax.Array  # (len(depths), steps + 1): mean squared loss / 2 on the training inputs
    depths: tuple


def _loss(weights, mask, x, y):
    out = jax.vmap(lambda xi: _forward(weights, mask, xi)[0])(x)
    return 0.5 * jnp.mean(jnp.sum((out - y) ** 2, -1))


def _later_products(weights, mask):
    """B_l = W_L ... W_{l+1} for every layer l (identity for the last): the output's Jacobian in layer l's output."""
    eye = jnp.eye(weights.shape[1], dtype=weights.dtype)
    products, b = [], eye
    for layer in reversed(range(weights.shape[0])):
        products.append(b)
        b = b @ jnp.where(mask[layer], weights[layer], eye)
    return jnp.stack(products[::-1])


def _jacobian(weights, mask, x):
    """Residual Jacobian (n d, P) by the chain rule of a linear net: d f_o / d W_l[k, i] = B_l[o, k] a_l[i]
    (frozen layers' columns zero); written out, not autodiff, because it compiles in a fraction of the time
    (tests/test_kfac.py checks it against jax.jacfwd)."""
    acts = jax.vmap(lambda xi: _forward(weights, mask, xi)[1])(x)  # (n, L, d)
    later = _later_products(weights, mask)  # (L, d_out, d)
    jac = jnp.einsum("lok,nli,l->nolki", later, acts, mask.astype(x.dtype))
    return jac.reshape(x.shape[0] * weights.shape[1], -1) / jnp.sqrt(x.shape[0]), acts, later


def _step(weights, mask, natural, x, y, learning_rate):
    """One step of exact natural gradient (``natural`` True) or block-diagonal K-FAC, from one Jacobian.

    Natural gradient: ``-eta J^+ r``, the minimum-norm Gauss-Newton step, i.e. the Fisher's pseudo-inverse
    (``F = J^T J``, gradient ``J^T r``, ``F^+ J^T r = J^+ r``). K-FAC: ``-eta G_l^-1 grad_l A_l^-1`` per layer,
    ``A_l = mean a_l a_l^T`` over the inputs and ``G_l = E[g_l g_l^T]`` over labels sampled from the
    unit-variance Gaussian output model (``g_l = B_l^T eps``), i.e. ``B_l^T B_l``. Both are computed (one
    compiled program serves both methods) and ``natural`` selects one."""
    jac, acts, later = _jacobian(weights, mask, x)
    out = jax.vmap(lambda xi: _forward(weights, mask, xi)[0])(x)
    residual = ((out - y) / jnp.sqrt(x.shape[0])).ravel()
    # F^+ J^T r with F = J^T J by its eigendecomposition (eigh compiles several times faster than lstsq's SVD);
    # F's null space (the product map's symmetries, frozen layers) is cut at 1e-10 of its largest eigenvalue
    curvature, basis = jnp.linalg.eigh(jac.T @ jac)
    kept = curvature > 1e-10 * curvature[-1]
    inverse = jnp.where(kept, 1.0 / jnp.where(kept, curvature, 1.0), 0.0)
    exact = basis @ (inverse * (basis.T @ (jac.T @ residual)))
    grads = (jac.T @ residual).reshape(weights.shape)  # J^T r: the gradient of the loss
    a = jnp.einsum("nli,nlj->lij", acts, acts) / x.shape[0]
    g = jnp.einsum("lok,loj->lkj", later, later)
    eye = jnp.eye(weights.shape[1], dtype=x.dtype)
    a = jnp.where(mask[:, None, None], a, eye)  # frozen layers: any invertible factor (their update is masked)
    factors = jnp.concatenate([a, g])  # symmetric positive definite: Cholesky (compiles faster than LU)
    inverses = jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(factors, lower=True),
                                          jnp.broadcast_to(eye, factors.shape))
    blockwise = jnp.where(mask[:, None, None], inverses[weights.shape[0]:] @ grads @ inverses[:weights.shape[0]], 0.0)
    return weights - learning_rate * jnp.where(natural, exact.reshape(weights.shape), blockwise)


@functools.partial(jax.jit, static_argnums=6)
def _train(weights, masks, natural, x, y, learning_rates, steps):
    def run(w0, mask, use_natural, lr):
        def step(w, _):
            w = _step(w, mask, use_natural, x, y, lr)
            return w, _loss(w, mask, x, y)

        _, losses = jax.lax.scan(step, w0, None, length=steps)
        return jnp.concatenate([_loss(w0, mask, x, y)[None], losses])

    return jax.vmap(run)(weights, masks, natural, learning_rates)


def deep_linear_training(seed: int, depths, width: int, examples: int, learning_rate, steps: int,
                         method: str = "natural", init_scale: float = 0.2, target_scale: float = 0.5) -> TrainingCurves:
    """Train ``f(x) = W_L ... W_1 x`` (``width`` x ``width`` layers) on ``examples`` Gaussian inputs, one per depth.

    ``seed`` seeds numpy's generator for the inputs, the target and the initial layers.

    Targets ``y = W* x`` with ``W* = I + target_scale K / |K|_2`` (K Gaussian); layers start at
    ``I + init_scale N / sqrt(width)``, the same draws for every depth (layer l of every network shares
    them). ``method``: ``"natural"`` (exact natural gradient, pseudo-inverse of the full Fisher) or
    ``"kfac"`` (block-diagonal K-FAC), or one of them per depth. ``learning_rate``: one value or one per depth. All depths run
    in one compiled program (padded to the largest depth with frozen identity layers).

    Example:
        >>> curves = deep_linear_training(0, (1, 2), 2, 8, 0.5, 3)
        >>> curves.losses.shape
        (2, 4)
    """
    depths = tuple(_positive_int("depth", d) for d in np.atleast_1d(depths))
    methods = (method,) * len(depths) if isinstance(method, str) else tuple(method)
    if len(methods) != len(depths) or any(m not in METHODS for m in methods):
        raise ValueError(f"method must be one of {METHODS} or one of them per depth, got {method!r}")
    width, examples, steps = (_positive_int(n, v) for n, v in (("width", width), ("examples", examples),
                                                               ("steps", steps)))
    rates = np.broadcast_to(np.asarray(learning_rate, dtype=float), (len(depths),))
    if np.any(~(rates > 0)):
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if examples < width:
        raise ValueError(f"examples must be >= width (K-FAC's input factor must be invertible), "
                         f"got {examples} < {width}")
    top = max(depths)
    rng = np.random.default_rng(seed)  # numpy draws: no PRNG program to compile
    x = rng.standard_normal((examples, width))
    k = rng.standard_normal((width, width))
    target = np.eye(width) + target_scale * k / np.linalg.norm(k, 2)
    layers = np.eye(width) + init_scale * rng.standard_normal((top, width, width)) / np.sqrt(width)
    masks = np.array([[layer < d for layer in range(top)] for d in depths])
    weights = np.where(masks[:, :, None, None], layers[None], np.eye(width))
    natural = jnp.asarray([m == "natural" for m in methods])
    losses = _train(jnp.asarray(weights), jnp.asarray(masks), natural, jnp.asarray(x), jnp.asarray(x @ target.T),
                    jnp.asarray(rates), steps)
    return TrainingCurves(losses, depths)
