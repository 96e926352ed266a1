"""Nearest-neighbour regression on a flat torus, simulated directly (brute-force distances in JAX).

Independent of ``analytic``: nothing here knows a closed form.

Data: points uniform on the flat torus ``[0, 1)^d`` (volume 1), stored in ``max_dim``
coordinates with the unused ones zero, so that every intrinsic dimension ``d <= max_dim``
runs in one compiled program (``vmap`` over a mask). The Clifford embedding
``x -> (cos 2 pi x_i, sin 2 pi x_i)_i / (2 pi)`` puts this torus isometrically (as a
Riemannian manifold) in ``R^(2d)``; distances here are the torus' own (the minimum image
``|x - y - round(x - y)|``), which is what the intrinsic dimension is about.

Target ``f(x) = sum_{i < d} sin(2 pi x_i)``, labels ``f(x) + noise`` with Gaussian noise of
variance ``label_noise``. Training sets of several sizes are the leading ``n`` points of
one draw of ``max(n_grid)`` (nested, each an i.i.d. sample). Per seed (``vmap``) and
training size the run averages over ``n_test`` query points:

* ``nn_sq_distance``: the squared distance to the nearest training point;
* ``ball_count``: how many of the first n points lie within distance ``radius``;
* ``one_nn_error``: ``(f(x_nn) - f(x))^2`` (noise-free labels);
* ``one_nn_error_clean``: ``(y_nn - f(x))^2`` (noisy labels, clean target);
* ``one_nn_error_noisy``: ``(y_nn - y)^2`` (noisy labels, noisy test label);
* ``knn_error``: ``(mean of the k nearest y - f(x))^2`` for k = 1..max_neighbours.

``interpolation_errors`` fits the multilinear interpolant on a regular grid of ``m^d``
cells and measures its mean squared error at random points (the piecewise-linear model).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["KnnRun", "torus_target", "nearest_neighbour_run", "interpolation_errors"]


class KnnRun(NamedTuple):
    """Per dimension, training size and seed (axes (dims, n_grid, seeds)); ``knn_error`` has a last
    axis k = 1..max_neighbours."""

    nn_sq_distance: jax.Array
    ball_count: jax.Array
    one_nn_error: jax.Array
    one_nn_error_clean: jax.Array
    one_nn_error_noisy: jax.Array
    knn_error: jax.Array


def torus_target(x, mask):
    """``sum_i mask_i sin(2 pi x_i)``: the target on the torus [0, 1)^d (d = mask.sum())."""
    return jnp.sum(mask * jnp.sin(2 * jnp.pi * x), axis=-1)


def _fast_key(key):
    """An RBG-generator key seeded from ``key``'s data: the same draws for the same key, and a
    program that compiles in a fraction of a second (threefry's hash costs about a second of
    CPU compile time per draw in float64 on CPU)."""
    data = np.asarray(jax.random.key_data(key), dtype=np.uint64).ravel()
    seed = int(np.bitwise_xor.reduce(data * np.uint64(0x9E3779B1) + np.arange(data.size, dtype=np.uint64)))
    return jax.random.key(seed % (2**63), impl="rbg")


def _positive_int(name, value, low=1):
    if isinstance(value, bool) or int(value) != value or int(value) < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def _nearest(sq, k: int):
    """Indices of the ``k`` smallest entries of each row of ``sq``, nearest first.

    numpy's partition and sort through a callback: XLA's CPU sort (``lax.top_k``) took ~7x longer
    on these (queries, n) blocks. The same indices (up to exact ties, of probability zero)."""
    def host(block):
        block = np.asarray(block)
        part = np.argpartition(block, k - 1, axis=-1)[..., :k]
        order = np.argsort(np.take_along_axis(block, part, axis=-1), axis=-1)
        return np.take_along_axis(part, order, axis=-1).astype(np.int32)

    shape = jax.ShapeDtypeStruct(sq.shape[:-1] + (k,), jnp.int32)
    return jax.pure_callback(host, shape, sq, vmap_method="broadcast_all")


@functools.partial(jax.jit, static_argnames=("n_grid", "n_test", "seeds", "max_dim", "max_neighbours"))
def _run(key, dims, label_noise, radius, n_grid, n_test, seeds, max_dim, max_neighbours):
    n_max = max(n_grid)

    def one_seed(key, mask, label_noise):
        kx, kq, ke, kt = jax.random.split(key, 4)
        x = jax.random.uniform(kx, (n_max, max_dim)) * mask
        q = jax.random.uniform(kq, (n_test, max_dim)) * mask
        clean = torus_target(x, mask)
        noisy = clean + jnp.sqrt(label_noise) * jax.random.normal(ke, (n_max,))
        target = torus_target(q, mask)
        test_label = target + jnp.sqrt(label_noise) * jax.random.normal(kt, (n_test,))
        delta = q[:, None, :] - x[None, :, :]
        delta = delta - jnp.round(delta)  # minimum image on the unit torus
        sq = jnp.sum(delta**2, axis=-1)  # (n_test, n_max)
        out = []
        for n in n_grid:  # the first n training points (static slices: one small program per size)
            if max_neighbours == 1:
                idx = jnp.argmin(sq[:, :n], axis=1)[:, None]
            else:
                idx = _nearest(sq[:, :n], max_neighbours)  # nearest first
            nearest = idx[:, 0]
            knn_mean = jnp.cumsum(noisy[idx], axis=1) / jnp.arange(1, max_neighbours + 1)
            out.append((jnp.mean(sq[jnp.arange(n_test), nearest]), jnp.mean(jnp.sum(sq[:, :n] < radius**2, axis=1)),
                        jnp.mean((clean[nearest] - target) ** 2),
                        jnp.mean((noisy[nearest] - target) ** 2), jnp.mean((noisy[nearest] - test_label) ** 2),
                        jnp.mean((knn_mean - target[:, None]) ** 2, axis=0)))
        return tuple(jnp.stack(v) for v in zip(*out))

    masks = (jnp.arange(max_dim)[None, :] < dims[:, None]).astype(jnp.result_type(float))
    keys = jax.random.split(key, seeds)
    per_dim = jax.vmap(lambda mask, noise: jax.vmap(lambda k: one_seed(k, mask, noise))(keys))(masks, label_noise)
    # (dims, seeds, n_grid[, k]) -> (dims, n_grid, seeds[, k])
    return KnnRun(*(jnp.swapaxes(v, 1, 2) for v in per_dim))


def nearest_neighbour_run(key, dims, n_grid, *, n_test: int = 64, seeds: int = 8, label_noise=0.0,
                          max_neighbours: int = 1, radius: float = 0.25, max_dim: int | None = None) -> KnnRun:
    """1-NN and k-NN regression of ``torus_target`` for each intrinsic dimension in ``dims``.

    ``label_noise``: one variance, or one per dimension.

    Example:
        >>> import jax
        >>> run = nearest_neighbour_run(jax.random.key(0), [1, 2], (100, 400), n_test=16, seeds=2)
        >>> run.nn_sq_distance.shape   # (dims, n_grid, seeds)
        (2, 2, 2)
    """
    dims = np.asarray(dims)
    if dims.ndim != 1 or dims.size == 0 or np.any(dims < 1) or np.any(dims != np.round(dims)):
        raise ValueError(f"dims must be a non-empty list of integers >= 1, got {dims!r}")
    max_dim = int(dims.max()) if max_dim is None else _positive_int("max_dim", max_dim)
    if dims.max() > max_dim:
        raise ValueError(f"dims must be <= max_dim = {max_dim}, got {dims!r}")
    n_grid = tuple(_positive_int("n_grid entry", n) for n in n_grid)
    if not n_grid:
        raise ValueError("n_grid must not be empty")
    max_neighbours = _positive_int("max_neighbours", max_neighbours)
    if max_neighbours > min(n_grid):
        raise ValueError(f"max_neighbours must be <= min(n_grid) = {min(n_grid)}, got {max_neighbours}")
    noise = np.broadcast_to(np.asarray(label_noise, dtype=float), dims.shape)
    if not np.all(np.isfinite(noise)) or np.any(noise < 0):
        raise ValueError(f"label_noise must be finite and >= 0, got {label_noise!r}")
    if not np.isfinite(radius) or not 0 < radius <= 0.5:
        raise ValueError(f"radius must be in (0, 0.5] (half the torus' period), got {radius!r}")
    return _run(_fast_key(key), jnp.asarray(dims), jnp.asarray(noise), jnp.asarray(float(radius)), n_grid,
                _positive_int("n_test", n_test), _positive_int("seeds", seeds), max_dim, max_neighbours)


@functools.partial(jax.jit, static_argnames=("max_dim", "n_test", "seeds"))
def _interpolation(key, dims, sides, max_dim, n_test, seeds):
    def one(key, mask, m):
        q = jax.random.uniform(key, (n_test, max_dim)) * mask  # unused coordinates 0: on the grid
        # multilinear interpolation of sum_i sin(2 pi x_i) from its values on the grid of m^d
        # cells: each of the 2^max_dim corners of the query's cell, weighted by products over
        # axes (an unused axis has fraction 0, so only its lower corner has weight)
        scaled = q * m
        low = jnp.floor(scaled)
        frac = scaled - low
        bits = (jnp.arange(2**max_dim)[:, None] >> jnp.arange(max_dim)[None, :]) & 1  # (corners, max_dim)
        corner = (low[None] + bits[:, None, :]) / m  # (corners, n_test, max_dim), on the grid
        weight = jnp.prod(jnp.where(bits[:, None, :] == 1, frac[None], 1 - frac[None]), axis=-1)
        total = jnp.sum(weight * jnp.sum(jnp.sin(2 * jnp.pi * corner), axis=-1), axis=0)
        exact = jnp.sum(jnp.sin(2 * jnp.pi * q), axis=1)
        return jnp.mean((total - exact) ** 2)

    masks = (jnp.arange(max_dim)[None, :] < dims[:, None]).astype(jnp.result_type(float))
    keys = jax.random.split(key, (dims.size, sides.size, seeds))
    return jax.vmap(lambda kd, mask: jax.vmap(lambda ks, m: jax.vmap(lambda k: one(k, mask, m))(ks))(kd, sides))(
        keys, masks)


def interpolation_errors(key, dims, cells_per_side, *, n_test: int = 256, seeds: int = 8):
    """Mean squared error of the multilinear interpolant of ``torus_target`` on ``m^d`` cells,
    for each intrinsic dimension d in ``dims`` and m in ``cells_per_side``: axes (dims, m, seeds).

    Example:
        >>> import jax
        >>> errors = interpolation_errors(jax.random.key(0), [1, 2], [8, 16], seeds=2)
        >>> errors.shape
        (2, 2, 2)
    """
    dims = np.asarray(dims)
    if dims.ndim != 1 or dims.size == 0 or np.any(dims < 1) or np.any(dims != np.round(dims)):
        raise ValueError(f"dims must be a non-empty list of integers >= 1, got {dims!r}")
    sides = [_positive_int("cells_per_side entry", m, low=2) for m in cells_per_side]
    return _interpolation(_fast_key(key), jnp.asarray(dims), jnp.asarray(sides, dtype=jnp.result_type(float)),
                          int(dims.max()), _positive_int("n_test", n_test), _positive_int("seeds", seeds))
