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

Architectures (``architecture=kernels.serial(...)`` instead of the FC arguments, inputs
validated once by ``prepare_network``): the kernel of a pair depends only on its two inputs,
so each block is the jitted engine of :func:`serial` (``_architecture_kernels``) on the
block's rows and columns; for $K(X, X)$ the pairs of equal global index take each point's
own kernel from the symmetric engine (K(x_i, x_i) alone): coincident cosines exactly 1, as in
``.kernels(x)``. Blocks equal ``.kernels`` to ~4e-16 relative (float64,
``tests/test_architectures_scale.py``). An architecture that is :func:`fc_kernels`' network
(Dense/relu-or-erf alternating, 2-D inputs) runs the FC path, as its ``.kernels`` does.

When even the sharded matrix does not fit, :func:`stream_fc_kernels` computes
``devices x block_rows`` rows at a time and hands each slab to a callback, or writes
it into a pair of arrays such as ``numpy.lib.format.open_memmap`` files (the next
slab is computed while the previous one is written).

Multi-host: with ``jax.distributed.initialize`` called first, a mesh over
``jax.devices()`` spans every process; each process then holds (and can read) the
rows of its own devices (``addressable_shards``).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from analytic.kernels._fc import (ACTIVATIONS, Duals, Kernels, _fc_kernels_direct, check_arguments,
                                  checked_duals, common_inputs, layer_recursion)
from analytic.kernels._safe_math import _row_norms

__all__ = ["resolve_mesh", "sharded_fc_kernels", "stream_fc_kernels", "pair_block_kernels", "prepare_network",
           "ArchitectureSpec"]

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
    if parameterization is None:
        parameterization = "ntk"
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


@dataclasses.dataclass(frozen=True)
class ArchitectureSpec:
    """The static description of an architecture's per-block kernels (hashable: a jit static
    argument): the :class:`Architecture` and its quadrature dual maps, built once per call."""

    architecture: object
    table: tuple


_FC_ARGUMENTS = ("depth", "activation", "sigma_w", "sigma_b", "parameterization", "duals")


def prepare_network(x1, x2, architecture=None, *, depth=None, activation=None, sigma_w=None, sigma_b=None,
                    parameterization=None, duals=None):
    """``_prepare`` for either network description: the FC arguments or ``architecture=``
    (a :func:`serial` architecture), never both. Validates the inputs once; returns
    (x1, x2, sigma_w, sigma_b, symmetric, spec) with ``spec`` an FC tuple (an architecture that
    is fc_kernels' network is evaluated by the FC path, as its ``.kernels`` is) or an
    :class:`ArchitectureSpec` (sigma_w, sigma_b then unused zeros)."""
    given = {name: value for name, value in zip(_FC_ARGUMENTS, (depth, activation, sigma_w, sigma_b,
                                                                 parameterization, duals)) if value is not None}
    if architecture is None:
        missing = [name for name in _FC_ARGUMENTS[:4] if name not in given]
        if missing:
            raise TypeError(f"the network is missing: {', '.join(missing)} (give depth, activation, sigma_w, "
                            "sigma_b for a fully-connected network, or architecture=kernels.serial(...))")
        return _prepare(x1, x2, depth, activation, sigma_w, sigma_b, parameterization, duals)
    from analytic.kernels._architecture import Architecture, _quadrature_table
    if given:
        raise ValueError(f"architecture = {architecture!r} was given together with the fully-connected "
                         f"arguments {given!r}; give one or the other (the architecture's layers carry "
                         "sigma_w, sigma_b, activations and serial(..., parameterization=))")
    if not isinstance(architecture, Architecture):
        raise TypeError(f"architecture must be a kernels.serial(...) Architecture, got {architecture!r}")
    x1, x2, symmetric = architecture._checked(x1, x2)
    fc = architecture._fc_spec(x1.ndim)
    if fc is not None:  # the same numbers as architecture.kernels (fc_kernels' path)
        depth, activation, sigma_w, sigma_b = fc
        return _prepare(x1, None if symmetric else x2, depth, activation, sigma_w, sigma_b,
                        architecture.parameterization, None)
    zero = jnp.zeros((), x1.dtype)
    spec = ArchitectureSpec(architecture, _quadrature_table(architecture.layers))
    return x1, x2, zero, zero, symmetric, spec


def pad_rows(x, pad: int, spec):
    """``x`` with ``pad`` more rows: zero points (FC), or copies of the last row (architectures:
    a zero input would give LayerNorm 0/0, and padded columns meet zero weights in mat-vecs)."""
    widths = ((0, pad),) + ((0, 0),) * (x.ndim - 1)
    return jnp.pad(x, widths, mode="edge" if isinstance(spec, ArchitectureSpec) and x.shape[0] else "constant")


def _host_pad(x: np.ndarray, pad: int, spec) -> np.ndarray:
    """:func:`pad_rows` of a numpy array."""
    widths = ((0, pad),) + ((0, 0),) * (x.ndim - 1)
    return np.pad(x, widths, mode="edge" if isinstance(spec, ArchitectureSpec) and x.shape[0] else "constant")


def _architecture_block(x_rows, x_cols, row_start, col_start, spec: ArchitectureSpec, symmetric: bool):
    """One block of an architecture's kernels: the kernel of a pair depends on its two inputs
    only, so a block is ``.kernels`` of the block's rows and columns. For K(X, X) the pairs of
    equal global index take each point's own kernel from the symmetric engine (its coincident
    cosines exactly 1, as the full ``.kernels(x)`` has them), the rest the two-sided engine."""
    from analytic.kernels._architecture import _architecture_kernels
    run = functools.partial(_architecture_kernels, architecture=spec.architecture, precision=_HIGHEST,
                            table=spec.table)
    out = run(x_rows, x_cols, symmetric=False)
    if not symmetric:
        return out
    own = jax.vmap(lambda x: run(x[None], x[None], symmetric=True))(x_rows)  # (m, 1, 1) each
    eye = ((row_start + jnp.arange(x_rows.shape[0]))[:, None]
           == (col_start + jnp.arange(x_cols.shape[0]))[None, :])
    return Kernels(*(jnp.where(eye, o[:, 0, 0][:, None], k) for o, k in zip(own, out)))


def pair_block_kernels(x_rows, x_cols, row_start, col_start, sigma_w, sigma_b, spec, symmetric: bool):
    r"""Kernels(nngp, ntk) of one block, rows ``x_rows`` (m1, d) against ``x_cols`` (m2, d).

    ``spec = (depth, activation, parameterization, duals)`` as made by ``_prepare``, or an
    :class:`ArchitectureSpec` (inputs (m, *spatial, channels); sigma_w, sigma_b unused).
    When ``symmetric`` (a block of K(X, X)), the pairs whose global indices
    ``row_start + a == col_start + b`` are the same point: angle exactly 0 in every
    layer, as in :func:`fc_kernels`' symmetric path. Traceable (used inside jit/shard_map).
    """
    if isinstance(spec, ArchitectureSpec):
        return _architecture_block(x_rows, x_cols, row_start, col_start, spec, symmetric)
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
        blocks = rows.reshape((-1, block_rows) + rows.shape[1:])
        starts = start + block_rows * jnp.arange(blocks.shape[0])

        def one(args):
            block, row_start = args
            return pair_block_kernels(block, cols, row_start, 0, sigma_w, sigma_b, spec, symmetric)

        out = jax.lax.map(one, (blocks, starts))
        return Kernels(*(k.reshape(rows.shape[0], cols.shape[0])[:rows_per_device] for k in out))

    rows_spec = PartitionSpec(axes, None)
    fn = jax.shard_map(local, mesh=mesh, in_specs=(PartitionSpec(axes), PartitionSpec(), PartitionSpec(),
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


def sharded_fc_kernels(x1, x2, depth=None, activation=None, sigma_w=None, sigma_b=None, parameterization=None, *,
                       mesh=None, block_rows: int = 256, duals: Duals | None = None,
                       architecture=None) -> Kernels:
    r""":func:`fc_kernels` with its rows split over the devices of ``mesh``.

    Same arguments and conventions as :func:`fc_kernels` (``parameterization`` None means
    "ntk"), or instead of them ``architecture=kernels.serial(...)`` (inputs
    (n, *spatial, channels); the numbers of its ``.kernels`` to round-off; an example in the
    README, "More than one device"); ``mesh`` is a
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
    x1, x2, sigma_w, sigma_b, symmetric, spec = prepare_network(
        x1, x2, architecture, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
        parameterization=parameterization, duals=duals)
    n1 = x1.shape[0]
    if n1 % mesh.size:
        raise ValueError(f"x1 has n1 = {n1} rows, not a multiple of the {mesh.size} devices of the mesh "
                         f"(valid: multiples of {mesh.size}); pad x1 or use stream_fc_kernels")
    per_device = n1 // mesh.size
    block, padded = _layout(per_device, block_rows)
    rows = np.asarray(x1).reshape((mesh.size, per_device) + x1.shape[1:])  # each device's rows, padded
    rows = np.concatenate([_host_pad(r, padded - per_device, spec) for r in rows])  # (on the host: no compiles)
    rows = jax.device_put(rows, NamedSharding(mesh, PartitionSpec(_axes(mesh), None)))
    return _sharded_rows(rows, _replicated(x2, mesh), _replicated(jnp.int32(0), mesh),
                         _replicated(sigma_w, mesh), _replicated(sigma_b, mesh), spec=spec,
                         symmetric=symmetric, mesh=mesh, block_rows=block, rows_per_device=per_device)


def stream_fc_kernels(x1, x2, depth=None, activation=None, sigma_w=None, sigma_b=None, parameterization=None, *,
                      sink, mesh=None, block_rows: int = 256, duals: Duals | None = None, architecture=None):
    r""":func:`fc_kernels` for matrices that do not fit: row slabs handed to ``sink`` as computed.

    Each slab is ``devices x block_rows`` rows (the last one shorter), computed over the
    mesh like :func:`sharded_fc_kernels` and copied to the host. ``sink`` is either a
    callable ``sink(start, Kernels(nngp, ntk))`` receiving numpy rows ``start:start+rows``,
    or a pair ``(nngp_out, ntk_out)`` of writable (n1, n2) arrays, e.g. memory-mapped
    files from ``numpy.lib.format.open_memmap``; the pair is returned (None for a
    callable). Host memory: one or two slabs. Single-process (use
    :func:`sharded_fc_kernels` across hosts). ``architecture=kernels.serial(...)`` replaces the
    fully-connected arguments, as in :func:`sharded_fc_kernels`.

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
    x1, x2, sigma_w, sigma_b, symmetric, spec = prepare_network(
        x1, x2, architecture, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
        parameterization=parameterization, duals=duals)
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

    host = np.asarray(x1)  # slabs cut and padded on the host: no compiled programs per slab shape

    def launch(start):
        rows = host[start:start + slab]
        rows = jax.device_put(_host_pad(rows, slab - rows.shape[0], spec), sharding)
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
