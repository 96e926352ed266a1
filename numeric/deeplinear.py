r"""Deep linear networks trained directly by full-batch gradient descent.

Independent of ``analytic``: nothing here knows a closed form. A depth-$N$ network
$x \mapsto W_N\cdots W_1 x$ ($N$ weight matrices) is trained on the *summed* loss
$L = \tfrac12\sum_\mu\lVert W_N\cdots W_1 x^\mu - y^\mu\rVert^2$ by GD
$W_j \leftarrow W_j - \eta\,\partial L/\partial W_j$ (gradients by ``jax.grad``).
The synthetic task has whitened inputs ($\sum_\mu x^\mu x^{\mu\top} = I$) and an
input-output correlation $\sum_\mu y^\mu x^{\mu\top} = U\,\mathrm{diag}(s)\,V^\top$ with
prescribed singular values $s$. Recorded over time: the mode strengths
$u_a = U_a^\top W_e V_a$ and the singular values of the end-to-end map
$W_e = W_N\cdots W_1$, the loss, and the layer imbalance
$\max_j\lVert W_{j+1}^\top W_{j+1} - W_j W_j^\top\rVert_F$.

Also: GD on a symmetric square root, $B = A^2$ with $L = \tfrac12\lVert A^2 - S\rVert_F^2$.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric import sharding

__all__ = [
    "Task", "whitened_task", "Network", "balanced_init", "random_init", "stack_networks",
    "Trajectory", "train_deep_linear", "SymmetricTrajectory", "symmetric_target",
    "train_symmetric_square",
]


class Task(NamedTuple):
    """Whitened regression data with a prescribed input-output correlation."""

    inputs: jax.Array  # (P, d_in), sum_mu x x^T = I
    targets: jax.Array  # (P, d_out), y = U diag(s) V^T x
    singular_values: jax.Array  # (k,)
    left: jax.Array  # U: (d_out, k)
    right: jax.Array  # V: (d_in, k)


class Trajectory(NamedTuple):
    """GD on a deep linear network, recorded every ``record_every`` steps (record 0 = init)."""

    steps: jax.Array  # (R + 1,) GD step of each record
    mode_strengths: jax.Array  # (R + 1, k): U_a^T W_e V_a
    singular_values: jax.Array  # (R + 1, k): largest k singular values of W_e, descending
    losses: jax.Array  # (R + 1,)
    imbalance: jax.Array  # (R + 1,) max_j ||D_j||_F, D_j = W_{j+1}^T W_{j+1} - W_j W_j^T (0 for depth 1)
    imbalance_drift: jax.Array  # (R + 1,) max_j ||D_j(step) - D_j(0)||_F (gradient flow conserves D_j)
    diverged: jax.Array  # bool: a non-finite loss, or a final loss above 10x the initial one
    growth_rate: jax.Array  # per-step loss ratio over the last finite record interval


def _check_positive(name: str, value) -> None:
    v = np.asarray(value, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _random_orthogonal(key, d: int, dtype) -> np.ndarray:
    """Haar-random orthogonal (d, d) from a jax key (QR in numpy: set-up only, no compile)."""
    q, r = np.linalg.qr(np.asarray(jax.random.normal(key, (d, d), dtype)))
    return q * np.sign(np.diag(r))  # Haar measure (Mezzadri 2007)


def whitened_task(key, singular_values, d_in: int | None = None, d_out: int | None = None,
                  dtype=None) -> Task:
    """P = d_in samples forming an orthogonal matrix (so sum x x^T = I), targets y = M x.

    ``M = U diag(singular_values) V^T`` with Haar-random U (d_out, k), V (d_in, k);
    ``d_in`` and ``d_out`` default to k = len(singular_values).
    """
    s = jnp.asarray(singular_values, dtype=dtype or jnp.result_type(float))
    if s.ndim != 1 or s.shape[0] < 1:
        raise ValueError(f"singular_values must be a non-empty 1-D array, got shape {s.shape}")
    _check_positive("singular_values", s)
    k = s.shape[0]
    d_in = _check_count("d_in", d_in if d_in is not None else k, k)
    d_out = _check_count("d_out", d_out if d_out is not None else k, k)
    kx, ku, kv = jax.random.split(key, 3)
    inputs = _random_orthogonal(kx, d_in, s.dtype)  # rows are samples
    left = _random_orthogonal(ku, d_out, s.dtype)[:, :k]
    right = _random_orthogonal(kv, d_in, s.dtype)[:, :k]
    targets = inputs @ (right * np.asarray(s)) @ left.T
    return Task(*(jnp.asarray(a, s.dtype) for a in (inputs, targets, s, left, right)))


class Network(NamedTuple):
    """A depth-N linear network stored as D >= N square (n, n) layers, zero-padded.

    ``weights[j]`` maps padded hidden layer j to j + 1 (n = max(d_in, d_out, width));
    layers with ``active[j]`` False are frozen identities, so networks of different
    depths share one shape and can be trained in one ``vmap``. Zero padding is kept
    by GD (a unit with zero in- and out-weights gets zero gradient on both).
    """

    weights: jax.Array  # (D, n, n)
    active: jax.Array  # (D,) bool; the first ``depth`` layers are trained

    @property
    def depth(self) -> int:
        return int(np.sum(np.asarray(self.active), axis=-1).max())


def _as_network(layers: list, max_depth: int | None, n: int, dtype) -> Network:
    depth = len(layers)
    total = _check_count("max_depth", max_depth if max_depth is not None else depth, depth)
    weights = np.stack([np.eye(n)] * total)
    for j, w in enumerate(layers):
        weights[j] = 0.0
        weights[j, : w.shape[0], : w.shape[1]] = w
    return Network(jnp.asarray(weights, dtype), jnp.asarray(np.arange(total) < depth))


def _width(task: Task, width) -> tuple[int, int]:
    k = task.singular_values.shape[0]
    width = _check_count("width", width if width is not None else k, k)
    return width, max(width, task.right.shape[0], task.left.shape[0])


def balanced_init(key, task: Task, depth: int, sigma0, width: int | None = None,
                  max_depth: int | None = None) -> Network:
    """Balanced layers aligned with the task's singular vectors: W_e = U diag(sigma0) V^T.

    Every layer has strength ``sigma0 ** (1 / depth)`` in each mode, with random orthogonal
    hidden bases R_j: W_1 = R_1 A V^T, W_j = R_j A R_{j-1}^T, W_N = U A R_{N-1}^T, so that
    W_{j+1}^T W_{j+1} = W_j W_j^T. ``sigma0`` is a scalar or one value per mode;
    ``max_depth`` pads with frozen identity layers (see :class:`Network`).
    """
    depth = _check_count("depth", depth)
    _check_positive("sigma0", sigma0)
    k = task.singular_values.shape[0]
    width, n = _width(task, width)
    dtype = task.singular_values.dtype
    strength = np.broadcast_to(np.asarray(sigma0, float), (k,)) ** (1.0 / depth)
    hidden = [_random_orthogonal(kj, width, dtype)[:, :k] for kj in jax.random.split(key, depth)][: depth - 1]
    bases = [np.asarray(task.right), *hidden, np.asarray(task.left)]  # layer j: bases[j] -> bases[j + 1]
    layers = [(bases[j + 1] * strength) @ bases[j].T for j in range(depth)]
    return _as_network(layers, max_depth, n, dtype)


def random_init(key, task: Task, depth: int, scale: float, width: int | None = None,
                max_depth: int | None = None) -> Network:
    """Small unbalanced layers: i.i.d. N(0, scale^2 / fan_in) entries (no alignment)."""
    depth = _check_count("depth", depth)
    _check_positive("scale", scale)
    width, n = _width(task, width)
    d_in, d_out = task.right.shape[0], task.left.shape[0]
    sizes = [d_in] + [width] * (depth - 1) + [d_out]
    keys = jax.random.split(key, depth)
    dtype = task.singular_values.dtype
    layers = [scale * np.asarray(jax.random.normal(keys[j], (sizes[j + 1], sizes[j]), dtype)) / np.sqrt(sizes[j])
              for j in range(depth)]
    return _as_network(layers, max_depth, n, dtype)


def stack_networks(networks) -> Network:
    """One :class:`Network` with a leading batch axis (all must share D and n)."""
    networks = list(networks)
    shapes = {tuple(net.weights.shape) for net in networks}
    if len(shapes) != 1:
        raise ValueError(f"networks must share (D, n, n) to be stacked (use max_depth): {shapes}")
    return Network(jnp.stack([net.weights for net in networks]), jnp.stack([net.active for net in networks]))


def _end_to_end(weights) -> jax.Array:
    product = weights[0]
    for j in range(1, weights.shape[0]):
        product = weights[j] @ product
    return product


def _padded(task: Task, n: int):
    pad = lambda m, rows: jnp.zeros((rows, n), m.dtype).at[:, : m.shape[1]].set(m)
    inputs = pad(task.inputs, task.inputs.shape[0])
    targets = pad(task.targets, task.targets.shape[0])
    left = jnp.zeros((n, task.left.shape[1]), task.left.dtype).at[: task.left.shape[0]].set(task.left)
    right = jnp.zeros((n, task.right.shape[1]), task.right.dtype).at[: task.right.shape[0]].set(task.right)
    return inputs, targets, left, right


def _summed_loss(weights, inputs, targets):
    return 0.5 * jnp.sum((inputs @ _end_to_end(weights).T - targets) ** 2)


def _imbalance_matrices(weights):
    nxt, cur = weights[1:], weights[:-1]
    return jnp.swapaxes(nxt, -1, -2) @ nxt - cur @ jnp.swapaxes(cur, -1, -2)


def _largest(norms, active):
    both = active[1:] & active[:-1]  # pairs of trained layers only
    return jnp.max(jnp.where(both, norms, 0.0), initial=0.0)


def _train_one(inputs, targets, left, right, k, network: Network, lr, record_every, records: int):
    grad = jax.grad(_summed_loss)
    mask = network.active[:, None, None].astype(network.weights.dtype)

    start = _imbalance_matrices(network.weights)

    def record(weights):
        product = _end_to_end(weights)
        modes = jnp.einsum("ok,oi,ik->k", left, product, right)
        singular = jnp.linalg.svd(product, compute_uv=False)[:k]
        now = _imbalance_matrices(weights)
        imbalance = _largest(jnp.linalg.norm(now, axis=(-2, -1)), network.active)
        drift = _largest(jnp.linalg.norm(now - start, axis=(-2, -1)), network.active)
        return modes, singular, _summed_loss(weights, inputs, targets), imbalance, drift

    def interval(weights, _):
        weights = jax.lax.fori_loop(
            0, record_every, lambda _, w: w - lr * mask * grad(w, inputs, targets), weights)
        return weights, record(weights)

    _, recorded = jax.lax.scan(interval, network.weights, None, length=records)
    first = record(network.weights)
    modes, singular, losses, imbalance, drift = (jnp.concatenate([a[None], b]) for a, b in zip(first, recorded))
    steps = jnp.arange(records + 1) * record_every
    finite = jnp.isfinite(losses)
    diverged = ~jnp.all(finite) | (losses[-1] > 10 * losses[0])
    last = jnp.max(jnp.where(finite, jnp.arange(records + 1), 0))
    growth = (losses[last] / losses[jnp.maximum(last - 1, 0)]) ** (1.0 / record_every)
    return Trajectory(steps, modes, singular, losses, imbalance, drift, diverged, growth)


@functools.partial(jax.jit, static_argnames=("k", "records", "mesh"))
def _train_batch(inputs, targets, left, right, k, networks: Network, lrs, every, records: int, mesh=None):
    one = lambda net, lr, e: _train_one(inputs, targets, left, right, k, net, lr, e, records)
    return sharding.batch_map(lambda batch: jax.vmap(one)(*batch), mesh)((networks, lrs, every))


def train_deep_linear(task: Task, networks: Network, lrs, records: int, record_every, *,
                      mesh=None) -> Trajectory:
    """GD with step ``lr`` for ``records * record_every`` steps, recording every ``record_every``.

    ``networks`` is one :class:`Network` or a stack of them (``stack_networks``); ``lrs``
    and ``record_every`` are scalars or one per network. The batch is one ``jax.vmap``
    of a ``lax.scan`` over records with a ``fori_loop`` of GD steps inside (``record_every``
    is traced), so depths, seeds and step sizes share one compilation. With
    ``record_every = T / (lr * records)`` runs are recorded at the same gradient-flow
    times ``lr * step``. A too-large ``lr`` is allowed: ``diverged`` is then set and
    ``growth_rate`` is the per-step loss ratio. ``mesh`` (a ``jax.sharding.Mesh`` or a
    device count; None: one device) splits the batch of networks over devices
    (``numeric.sharding``).
    """
    weights = jnp.asarray(networks.weights)
    batched = weights.ndim == 4
    if not batched:
        networks = stack_networks([networks])
    if networks.weights.ndim != 4 or networks.weights.shape[-1] != networks.weights.shape[-2]:
        raise ValueError(f"network weights must be (D, n, n) or (B, D, n, n), got {weights.shape}")
    if not bool(jnp.all(jnp.any(networks.active, axis=-1))):
        raise ValueError("depth < 1: every network needs at least one active layer")
    b, n = networks.weights.shape[0], networks.weights.shape[-1]
    if n < max(task.right.shape[0], task.left.shape[0]):
        raise ValueError(f"layers of size {n} cannot hold d_in={task.right.shape[0]}, d_out={task.left.shape[0]}")
    _check_positive("lrs", lrs)
    records = _check_count("records", records)
    every = np.broadcast_to(np.asarray(record_every), (b,))
    for e in every:
        _check_count("record_every", e)
    lrs = jnp.broadcast_to(jnp.asarray(lrs, task.inputs.dtype), (b,))
    every = jnp.asarray(every, jnp.int32)
    mesh = sharding.resolve_mesh(mesh)
    if mesh is None:
        run = _train_batch(*_padded(task, n), task.singular_values.shape[0], networks, lrs, every, records)
    else:
        (networks, lrs, every), _ = sharding.pad_batch((networks, lrs, every), mesh)
        run = _train_batch(*_padded(task, n), task.singular_values.shape[0], networks, lrs, every, records,
                           mesh)
        run = sharding.unpad_batch(run, b)
    return run if batched else jax.tree_util.tree_map(lambda x: x[0], run)


# --- symmetric square root: B = A^2 ------------------------------------------------------
class SymmetricTrajectory(NamedTuple):
    """GD on a symmetric A with B = A^2, recorded every ``record_every`` steps."""

    steps: jax.Array  # (R + 1,)
    projections: jax.Array  # (R + 1, d): q_a^T B q_a on the target's eigenvectors
    eigenvalues: jax.Array  # (R + 1, d): eigenvalues of B, ascending
    losses: jax.Array  # (R + 1,) 1/2 ||A^2 - S||_F^2
    diverged: jax.Array


def symmetric_target(key, eigenvalues) -> tuple[jax.Array, jax.Array]:
    """S = Q diag(eigenvalues) Q^T with Haar-random Q; returns (S, Q)."""
    ev = jnp.asarray(eigenvalues, dtype=jnp.result_type(float))
    if ev.ndim != 1:
        raise ValueError(f"eigenvalues must be 1-D, got shape {ev.shape}")
    _check_positive("eigenvalues", ev)
    q = jnp.asarray(_random_orthogonal(key, ev.shape[0], ev.dtype), ev.dtype)
    return (q * ev) @ q.T, q


def _square_loss(a, target):
    return 0.5 * jnp.sum((a @ a - target) ** 2)


@functools.partial(jax.jit, static_argnames="records")
def _train_square(target, basis, a0, lr, record_every, records: int):
    grad = jax.grad(_square_loss)

    def record(a):
        b = a @ a
        return jnp.einsum("ik,ij,jk->k", basis, b, basis), jnp.linalg.eigvalsh(b), _square_loss(a, target)

    def interval(a, _):
        a = jax.lax.fori_loop(0, record_every, lambda _, x: x - lr * grad(x, target), a)
        return a, record(a)

    _, recorded = jax.lax.scan(interval, a0, None, length=records)
    first = record(a0)
    proj, eig, losses = (jnp.concatenate([x[None], y]) for x, y in zip(first, recorded))
    diverged = ~jnp.all(jnp.isfinite(losses)) | (losses[-1] > 10 * losses[0])
    return SymmetricTrajectory(jnp.arange(records + 1) * record_every, proj, eig, losses, diverged)


def train_symmetric_square(target, basis, a0, lr, records: int, record_every: int) -> SymmetricTrajectory:
    """GD ``A <- A - lr * grad_A 1/2 ||A^2 - S||^2`` from a symmetric ``a0``.

    ``basis`` holds the target's eigenvectors as columns (to project B on); the gradient
    ``(A^2 - S) A + A (A^2 - S)`` keeps A symmetric.
    """
    target, basis, a0 = (jnp.asarray(x) for x in (target, basis, a0))
    d = target.shape[0]
    for name, m in (("target", target), ("basis", basis), ("a0", a0)):
        if m.shape != (d, d):
            raise ValueError(f"{name} must be ({d}, {d}), got {m.shape}")
    if not bool(jnp.allclose(a0, a0.T)) or not bool(jnp.allclose(target, target.T)):
        raise ValueError("a0 and target must be symmetric")
    _check_positive("lr", lr)
    records = _check_count("records", records)
    record_every = _check_count("record_every", record_every)
    return _train_square(target, basis, a0, jnp.asarray(lr, target.dtype), record_every, records)
