"""Standard-normal draws cut into arrays of given shapes, and drawn once per size class.

XLA's CPU backend compiles each random-number generator in a program for ~0.25 s (level 0) to
~0.4 s (level 3), whatever its size (benchmarks/wide_networks.py): a network's weights drawn one
``jax.random.normal`` per layer pay that per layer. :func:`normal_arrays` shares one generator.
Its length is rounded up to even: an odd length ran ~2x slower (0.96 vs 0.42 s of CPU for 8.4M
normals).

:func:`padded_normal` goes further for the programs that draw many normals and then do a little
work with them (the wide random networks of a quick run): it draws in a program of its own, at
XLA's optimisation level 3 (:data:`numeric.run_bound.RUN_BOUND`: the threefry bits run ~4x faster
there), for a length rounded up to a size class. JAX's threefry generator is counter-based
(``jax_threefry_partitionable``, the default since JAX 0.5): entry i of a draw depends on the key
and i alone, so the first ``n`` entries are exactly the draw of length ``n``, or of any shape with
``n`` entries, flattened (tests/test_draws.py checks this). Every network whose length falls in one
size class shares one compiled generator, and the program that cuts the draw into weights and
uses them compiles at the caller's level.
"""

from __future__ import annotations

import functools
import math

import jax

from numeric.run_bound import RUN_BOUND

__all__ = ["cut", "normal_arrays", "padded_normal", "size_class"]

# Below this many entries a draw costs microseconds: one class for every small network.
SMALLEST_CLASS = 2**16


def cut(flat, shapes) -> list[jax.Array]:
    """``flat``'s leading entries cut in order into arrays of each shape in ``shapes``."""
    return list(_cut(flat, tuple(tuple(int(n) for n in shape) for shape in shapes)))


@functools.partial(jax.jit, static_argnames="shapes")
def _cut(flat, shapes):
    """:func:`cut` as one program per shapes (eagerly, each slice and reshape compiles its own)."""
    arrays, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        arrays.append(flat[start:start + size].reshape(shape))
        start += size
    return arrays


def normal_arrays(key, shapes, dtype) -> list[jax.Array]:
    """Standard normals of each shape in ``shapes``, cut in order from one draw of ``key``."""
    total = sum(math.prod(shape) for shape in shapes)
    return cut(jax.random.normal(key, (-(-total // 2) * 2,), dtype), shapes)


def size_class(n: int) -> int:
    """The smallest of 2^k and 3 * 2^(k-1) (k >= 16) at least ``n``: at most 1.5x the entries
    needed (a third more on average), for one compiled generator per class."""
    size = SMALLEST_CLASS
    while size < n:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


@functools.partial(jax.jit, static_argnames=("size", "dtype"), compiler_options=RUN_BOUND)
def _normal(key, size, dtype):
    return jax.random.normal(key, (size,), dtype)


def padded_normal(key, n: int, dtype) -> jax.Array:
    """``size_class(n)`` standard normals whose first ``n`` are ``jax.random.normal(key, (n,), dtype)``."""
    return _normal(key, size_class(int(n)), jax.numpy.dtype(dtype))
