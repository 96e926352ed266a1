"""One standard-normal draw cut into arrays of given shapes.

XLA's CPU backend compiles each random-number generator in a program for ~0.25 s (level 0) to
~0.4 s (level 3), whatever its size (benchmarks/wide_networks.py): a network's weights drawn one
``jax.random.normal`` per layer pay that per layer. Here they share one generator. Its length is
rounded up to even: an odd length ran ~2x slower (0.96 vs 0.42 s of CPU for 8.4M normals).
"""

from __future__ import annotations

import math

import jax

__all__ = ["normal_arrays"]


def normal_arrays(key, shapes, dtype) -> list[jax.Array]:
    """Standard normals of each shape in ``shapes``, cut in order from one draw of ``key``."""
    sizes = [math.prod(shape) for shape in shapes]
    flat = jax.random.normal(key, (-(-sum(sizes) // 2) * 2,), dtype)
    arrays, start = [], 0
    for shape, size in zip(shapes, sizes):
        arrays.append(flat[start:start + size].reshape(shape))
        start += size
    return arrays
