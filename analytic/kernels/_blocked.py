r"""Kernel matrices over a device mesh, block by block: :func:`sharded_fc_kernels`,
:func:`stream_fc_kernels`.

The rows of $K(X_1, X_2)$ are split over the devices of a ``jax.sharding.Mesh`` (one
shard of rows per device; ``NamedSharding(mesh, P(axes, None))``), and every device
computes its rows in blocks of ``block_rows`` rows against all columns (``shard_map``
with a ``lax.map`` over blocks), so a device holds its shard plus one block's
intermediates. Each block runs the same per-layer maps as :func:`fc_kernels`
(``_fc.layer_recursion``: the scale-free ReLU/erf recursion; the direct recursion for
other activations and for ``duals``); for $K(X, X)$ the pairs with equal global row
and column index get angle exactly 0, as the single-device path gives its
diagonal, and for a separate $X_2$ the pairs of equal rows, as there too. The one difference from the single-device path is that it mirrors its
upper triangle, while here $K_{ij}$ and $K_{ji}$ come from two products
$u_i\cdot u_j$, $u_j\cdot u_i$ (equal to within an ulp): the numbers agree to
round-off (tested in ``tests/test_scale_out.py``).

When even the sharded matrix does not fit, :func:`stream_fc_kernels` computes
``devices x block_rows`` rows at a time and hands each slab to a callback, or writes
it into a pair of arrays such as ``numpy.lib.format.open_memmap`` files (the next
slab is computed while the previous one is written).

Multi-host: with ``jax.distributed.initialize`` called first, a mesh over
``jax.devices()`` spans every process; each process then holds (and can read) the
rows of its own devices (``addressable_shards``).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from analytic.kernels._fc import (ACTIVATIONS, Duals, Kernels, _fc_kernels_direct, check_arguments,
                                  checked_duals, common_inputs, layer_recursion)
from analytic.kernels._safe_math import _row_norms

__all__ = ["resolve_mesh", "sharded_fc_kernels", "stream_fc_kernels", "pair_block_kernels"]

_HIGHEST = jax.lax.Precision.HIGHEST


def resolve_mesh(mesh) -> Mesh:
    """A ``Mesh`` from None (every device of the default platform), a device count, or a Mesh."""
    if isinstance(mesh, Mesh):
        return mesh
    devices = jax.devices()
    if mesh is None:
        count = len(devices)
    elif isinstance(mesh, bool) or not isinstance(mesh, int):
        raise TypeError(f"mesh must be a jax.sharding.Mesh, a device count or None, got {mesh!r}")
    else:
        count = mesh
    if not 1 <= count <= len(devices):
        raise ValueError(f"mesh = {mesh!r} devices is outside the valid range [1, {len(devices)}] "
                         f"({len(devices)} {devices[0].platform} device(s) visible to JAX)")
    return Mesh(np.array(devices[:count]), ("batch",))


def _axes(mesh: Mesh):
    """Every axis of the mesh, as one PartitionSpec entry (rows split over all devices)."""
    return tuple(mesh.axis_names) if len(mesh.axis_names) > 1 else mesh.axis_names[0]


KERNEL_NAMES = ("nngp", "ntk")  # the fields of Kernels, in order


def kernel_index(kernel) -> int:
    """Index of ``kernel`` ("nngp" or "ntk") in :class:`Kernels`; a ValueError otherwise."""
    if kernel not in KERNEL_NAMES:
        raise ValueError(f"kernel = {kernel!r} is unknown; valid: {KERNEL_NAMES}")
    return KERNEL_NAMES.index(kernel)


def _check_block(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} = {value!r} is outside its valid range (integers >= 1)")
    return value


def _prepare(x1, x2, depth, activation, sigma_w, sigma_b, parameterization, duals):
    """Validated inputs in one floating dtype, whether K(X, X) (symmetric), and the static
    (depth, activation-or-None, parameterization, duals-or-None) of the per-block recursion."""
    if callable(activation) or activation not in ACTIVATIONS:
        if duals is not None:
            raise ValueError("duals can only be given with activation 'relu' or 'erf'")
        from analytic.kernels._fc import quadrature_duals
        duals = quadrature_duals(activation)
        check_arguments(x1, x2, depth, ACTIVATIONS[0], sigma_w, sigma_b, parameterization)
        activation = None
    else:
        check_arguments(x1, x2, depth, activation, sigma_w, sigma_b, parameterization)
        duals = checked_duals(duals, activation)
        if duals is not None:  # the user's maps: the direct recursion
            activation = None
    x1, x2, sigma_w, sigma_b, symmetric = common_inputs(x1, x2, sigma_w, sigma_b)
    spec = (int(depth), activation, parameterization, duals)
    return x1, x2, sigma_w, sigma_b, symmetric, spec


def pair_block_kernels(x_rows, x_cols, row_start, col_start, sigma_w, sigma_b, spec, symmetric: bool):
    r"""Kernels(nngp, ntk) of one block, rows ``x_rows`` (m1, d) against ``x_cols`` (m2, d).

    ``spec = (depth, activation, parameterization, duals)`` as made by ``_prepare``.
    When ``symmetric`` (a block of K(X, X)), the pairs whose global indices
    ``row_start + a == col_start + b`` are the same point: angle exactly 0 in every
    layer, as in :func:`fc_kernels`' symmetric path. Traceable (used inside jit/shard_map).
    """
    depth, activation, parameterization, duals = spec
    if activation is None:  # the direct recursion (quadrature maps or given duals)
        return _fc_kernels_direct(x_rows, x_cols, sigma_w, sigma_b, depth=depth, duals=duals,
                                  parameterization=parameterization)
    standard = parameterization == "standard"
    d = x_rows.shape[1]
    n1, u1 = _row_norms(x_rows)
    n2, u2 = _row_norms(x_cols)
    if symmetric:  # the same point: equal global indices
        eye = ((row_start + jnp.arange(x_rows.shape[0]))[:, None]
               == (col_start + jnp.arange(x_cols.shape[0]))[None, :])[None]
    else:  # equal rows, per pair, as fc_kernels does for a separate x2
        eye = jnp.all(x_rows[:, None, :] == x_cols[None, :, :], axis=-1)[None]
    cos = jnp.where(eye, 1, jnp.clip(jnp.matmul(u1, u2.T, precision=_HIGHEST), -1, 1)[None])
    a1, a2 = (sigma_w * n1 / math.sqrt(d))[None], (sigma_w * n2 / math.sqrt(d))[None]
    nngp, ntk = layer_recursion(a1, a2, cos, eye, sigma_w, sigma_b, depth=depth, activation=activation,
                                standard=standard)
    return Kernels(nngp[0], ntk[0])


@functools.partial(jax.jit, static_argnames=("spec", "symmetric", "mesh", "block_rows", "rows_per_device"))
def _sharded_rows(x_rows, x_cols, offset, sigma_w, sigma_b, *, spec, symmetric, mesh, block_rows,
                  rows_per_device):
    """Rows against every column. ``x_rows`` (D * p, d), sharded over the mesh, holds per
    device its ``rows_per_device`` rows padded to p (a multiple of ``block_rows``); each
    device maps its rows in blocks and returns the first ``rows_per_device``. Device k's
    row a has the global index offset + k * rows_per_device + a."""
    axes = _axes(mesh)

    def local(rows, cols, offset, sigma_w, sigma_b):
        start = offset + jax.lax.axis_index(axes) * rows_per_device
        blocks = rows.reshape(-1, block_rows, rows.shape[1])
        starts = start + block_rows * jnp.arange(blocks.shape[0])

        def one(args):
            block, row_start = args
            return pair_block_kernels(block, cols, row_start, 0, sigma_w, sigma_b, spec, symmetric)

        out = jax.lax.map(one, (blocks, starts))
        return Kernels(*(k.reshape(rows.shape[0], cols.shape[0])[:rows_per_device] for k in out))

    rows_spec = PartitionSpec(axes, None)
    fn = jax.shard_map(local, mesh=mesh, in_specs=(rows_spec, PartitionSpec(), PartitionSpec(),
                                                   PartitionSpec(), PartitionSpec()),
                       out_specs=Kernels(rows_spec, rows_spec), check_vma=False)
    return fn(x_rows, x_cols, offset, sigma_w, sigma_b)


def _layout(per_device: int, block_rows: int) -> tuple[int, int]:
    """(rows per block, padded rows per device): the fewest blocks of <= ``block_rows`` rows."""
    blocks = -(-per_device // block_rows)
    block = -(-per_device // blocks)
    return block, blocks * block


def _replicated(x, mesh):
    return jax.device_put(x, NamedSharding(mesh, PartitionSpec()))


def sharded_fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
                       mesh=None, block_rows: int = 256, duals: Duals | None = None) -> Kernels:
    r""":func:`fc_kernels` with its rows split over the devices of ``mesh``.

    Same arguments and conventions as :func:`fc_kernels`; ``mesh`` is a
    ``jax.sharding.Mesh``, a device count, or None (every device of the default
    platform). Returns ``Kernels(nngp, ntk)`` as ``jax.Array`` s of shape (n1, n2),
    rows sharded with ``NamedSharding(mesh, P(axes, None))``; n1 must be a multiple of
    the device count (a jax.Array's shards are equal; pad x1, or use
    :func:`stream_fc_kernels`). Every device computes
    its rows in blocks of ``block_rows`` rows against all n2 columns, so it holds
    ~ its shard plus ``block_rows x n2 x (a few)`` intermediates. Numbers equal the
    single-device path to round-off (module docstring).

    Example:
        >>> x = jax.random.normal(jax.random.key(0), (8, 3))
        >>> k = sharded_fc_kernels(x, None, 2, "relu", 1.4, 0.1, mesh=1, block_rows=4)
        >>> k.ntk.shape, k.ntk.sharding.spec
        ((8, 8), P('batch', None))
    """
    mesh = resolve_mesh(mesh)
    block_rows = _check_block("block_rows", block_rows)
    x1, x2, sigma_w, sigma_b, symmetric, spec = _prepare(x1, x2, depth, activation, sigma_w, sigma_b,
                                                         parameterization, duals)
    n1 = x1.shape[0]
    if n1 % mesh.size:
        raise ValueError(f"x1 has n1 = {n1} rows, not a multiple of the {mesh.size} devices of the mesh "
                         f"(valid: multiples of {mesh.size}); pad x1 or use stream_fc_kernels")
    per_device = n1 // mesh.size
    block, padded = _layout(per_device, block_rows)
    rows = x1.reshape(mesh.size, per_device, -1)  # each device's rows padded with zero points
    rows = jnp.pad(rows, ((0, 0), (0, padded - per_device), (0, 0))).reshape(mesh.size * padded, -1)
    rows = jax.device_put(rows, NamedSharding(mesh, PartitionSpec(_axes(mesh), None)))
    return _sharded_rows(rows, _replicated(x2, mesh), _replicated(jnp.int32(0), mesh),
                         _replicated(sigma_w, mesh), _replicated(sigma_b, mesh), spec=spec,
                         symmetric=symmetric, mesh=mesh, block_rows=block, rows_per_device=per_device)


def stream_fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
                      sink, mesh=None, block_rows: int = 256, duals: Duals | None = None):
    r""":func:`fc_kernels` for matrices that do not fit: row slabs handed to ``sink`` as computed.

    Each slab is ``devices x block_rows`` rows (the last one shorter), computed over the
    mesh like :func:`sharded_fc_kernels` and copied to the host. ``sink`` is either a
    callable ``sink(start, Kernels(nngp, ntk))`` receiving numpy rows ``start:start+rows``,
    or a pair ``(nngp_out, ntk_out)`` of writable (n1, n2) arrays, e.g. memory-mapped
    files from ``numpy.lib.format.open_memmap``; the pair is returned (None for a
    callable). Host memory: one or two slabs. Single-process (use
    :func:`sharded_fc_kernels` across hosts).

    Example:
        >>> from analytic.kernels import fc_kernels
        >>> x = jax.random.normal(jax.random.key(0), (10, 3))
        >>> out = (np.zeros((10, 10)), np.zeros((10, 10)))
        >>> nngp, ntk = stream_fc_kernels(x, None, 2, "relu", 1.4, 0.1, sink=out, mesh=1, block_rows=4)
        >>> bool(np.allclose(ntk, fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk, rtol=1e-12))
        True
    """
    mesh = resolve_mesh(mesh)
    block_rows = _check_block("block_rows", block_rows)
    x1, x2, sigma_w, sigma_b, symmetric, spec = _prepare(x1, x2, depth, activation, sigma_w, sigma_b,
                                                         parameterization, duals)
    n1, n2 = x1.shape[0], x2.shape[0]
    if callable(sink):
        write = sink
    else:
        try:
            targets = tuple(sink)
        except TypeError:
            raise TypeError(f"sink must be a callable or a pair of (n1, n2) arrays, got {sink!r}") from None
        if len(targets) != 2 or any(getattr(t, "shape", None) != (n1, n2) for t in targets):
            raise ValueError(f"sink arrays must be two arrays of shape {(n1, n2)}, got "
                             f"{[getattr(t, 'shape', None) for t in targets]}")

        def write(start, kernels):
            for target, block in zip(targets, kernels):
                target[start:start + block.shape[0]] = block

    block, _ = _layout(-(-n1 // mesh.size), block_rows)
    slab = mesh.size * block
    cols = _replicated(x2, mesh)
    sigma_w, sigma_b = _replicated(sigma_w, mesh), _replicated(sigma_b, mesh)
    sharding = NamedSharding(mesh, PartitionSpec(_axes(mesh), None))

    def launch(start):
        rows = x1[start:start + slab]
        rows = jax.device_put(jnp.pad(rows, ((0, slab - rows.shape[0]), (0, 0))), sharding)
        return _sharded_rows(rows, cols, _replicated(jnp.int32(start), mesh), sigma_w, sigma_b, spec=spec,
                             symmetric=symmetric, mesh=mesh, block_rows=block, rows_per_device=block)

    pending = (0, launch(0))
    for start in range(slab, n1 + slab, slab):
        following = (start, launch(start)) if start < n1 else None  # dispatched before writing
        first, kernels = pending
        count = min(slab, n1 - first)
        write(first, Kernels(*(np.asarray(k)[:count] for k in kernels)))
        pending = following
    return None if callable(sink) else targets
