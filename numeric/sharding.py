"""A leading batch axis (seeds, networks, chains) split over a device mesh.

Used by the ensembles of ``numeric/mlp.py`` (seeds), ``numeric/nqm.py`` (Monte Carlo
chains) and ``numeric/deeplinear.py`` (networks). ``mesh=None`` everywhere means the
unsharded single-device code, unchanged. With a mesh, the batch is split with
``NamedSharding(mesh, P(axes))``:

* :func:`batch_map` runs a batched function under ``shard_map``: every device applies
  it to its own slice (no communication); a batch that is not a multiple of the
  device count is padded by repeating its last element, and the padding is dropped
  (:func:`pad_batch`, :func:`unpad_batch`). Every element is computed from its own
  inputs (its own key), so results do not depend on the device count beyond
  round-off (tested in ``tests/test_scale_out.py``).
* :func:`constrain_batch` marks an intermediate's leading axis as sharded inside
  ``jit`` (XLA partitions the computation; reductions over the batch become
  all-reduces). Random numbers drawn for a sharded array are the same as unsharded
  (``jax_threefry_partitionable``, on by default).

Across hosts, call ``jax.distributed.initialize`` first; a mesh over ``jax.devices()``
then spans every process.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

__all__ = ["resolve_mesh", "batch_axes", "pad_batch", "unpad_batch", "batch_map", "constrain_batch"]


def resolve_mesh(mesh) -> Mesh | None:
    """None -> None (no sharding); an int n -> a one-axis ("batch") mesh over the first n
    devices of the default platform; a Mesh -> itself."""
    if mesh is None or isinstance(mesh, Mesh):
        return mesh
    if isinstance(mesh, bool) or not isinstance(mesh, int):
        raise TypeError(f"mesh must be a jax.sharding.Mesh, a device count or None, got {mesh!r}")
    devices = jax.devices()
    if not 1 <= mesh <= len(devices):
        raise ValueError(f"mesh = {mesh} devices is outside the valid range [1, {len(devices)}] "
                         f"({len(devices)} {devices[0].platform} device(s) visible to JAX)")
    return Mesh(np.array(devices[:mesh]), ("batch",))


def batch_axes(mesh: Mesh):
    """The PartitionSpec entry that splits one axis over every device of the mesh."""
    return tuple(mesh.axis_names) if len(mesh.axis_names) > 1 else mesh.axis_names[0]


def pad_batch(tree, mesh: Mesh):
    """Pad the leading axis of every leaf to a multiple of the device count by repeating the
    last element; returns (padded tree, original length)."""
    leaves = jax.tree_util.tree_leaves(tree)
    n = leaves[0].shape[0]
    extra = -n % mesh.size

    def pad(x):
        x = jnp.asarray(x)
        return x if extra == 0 else jnp.concatenate([x, jnp.repeat(x[-1:], extra, axis=0)])

    return jax.tree_util.tree_map(pad, tree), n


def unpad_batch(tree, n: int, axis: int = 0):
    """Keep the first n entries along ``axis`` of every leaf."""
    return jax.tree_util.tree_map(lambda x: jax.lax.slice_in_dim(x, 0, n, axis=axis), tree)


def batch_map(fn, mesh: Mesh | None):
    """``fn`` (a function of batched pytrees with a leading batch axis, returning the same)
    run per device on its slice of the batch; ``fn`` itself when ``mesh`` is None. Call it
    inside ``jit`` with a batch that is a multiple of the device count (:func:`pad_batch`)."""
    if mesh is None:
        return fn
    spec = PartitionSpec(batch_axes(mesh))
    return jax.shard_map(fn, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False)


def constrain_batch(x, mesh: Mesh | None):
    """``x`` with its leading axis sharded over ``mesh`` (inside jit); ``x`` when mesh is None."""
    if mesh is None:
        return x
    spec = PartitionSpec(batch_axes(mesh), *([None] * (x.ndim - 1)))
    return jax.lax.with_sharding_constraint(x, NamedSharding(mesh, spec))
