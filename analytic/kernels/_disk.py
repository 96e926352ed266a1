r"""A kernel matrix cached in a file, read back slab by slab for each product:
:func:`cache_kernel`, :class:`DiskKernel`.

The alternative to recomputing every block on every product (:func:`kernel_matvec`):
compute $K(X, X)$ once with :func:`stream_fc_kernels`, write its rows to a ``.npy`` file
(n^2 entries: 10 GB in float32 at n = 50,000), and evaluate $Kv$ by reading ``rows`` rows at
a time into one buffer (plain reads, not a memory map, so the process holds one slab:
O(rows n) memory). Each product then costs reading the file: fast while the operating
system's page cache holds it (a machine with more free memory than the file), disk speed
otherwise. Which is faster is measured in ``benchmarks/scaling.py --part cached``.
Single-process (like :func:`stream_fc_kernels`).
"""

from __future__ import annotations

import os

import numpy as np

from analytic.kernels._blocked import kernel_index, stream_fc_kernels

__all__ = ["DiskKernel", "cache_kernel"]


class DiskKernel:
    """v -> K v for the (n, n) kernel in the ``.npy`` file ``path``, ``rows`` rows per read.

    Accepts (n,) or (n, m) vectors (numpy or jax); returns numpy float64 when ``v`` is
    float64, else the file's dtype.
    """

    def __init__(self, path, rows: int = 1024):
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
            raise ValueError(f"rows = {rows!r} is outside its valid range (integers >= 1)")
        self.path = os.fspath(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
                np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(f)
            self.offset = f.tell()
        if len(shape) != 2 or shape[0] != shape[1] or fortran:
            raise ValueError(f"{self.path} holds a {shape} array (fortran={fortran}); need a square C-order"
                             " one")
        self.n, self.dtype, self.rows = shape[0], np.dtype(dtype), min(rows, shape[0])

    def __call__(self, v):
        v = np.asarray(v)
        if v.shape[:1] != (self.n,) or v.ndim not in (1, 2):
            raise ValueError(f"v must be ({self.n},) or ({self.n}, k), got shape {v.shape}")
        out = np.empty(v.shape, np.result_type(self.dtype, v.dtype))
        buffer = np.empty((self.rows, self.n), self.dtype)
        with open(self.path, "rb", buffering=0) as f:
            f.seek(self.offset)
            for start in range(0, self.n, self.rows):
                slab = buffer[: min(self.rows, self.n - start)]
                view = memoryview(slab.reshape(-1).view(np.uint8))
                done = 0
                while done < view.nbytes:  # readinto may return fewer bytes than asked
                    got = f.readinto(view[done:])
                    if not got:
                        raise ValueError(f"{self.path} ended after {start} rows of {self.n}")
                    done += got
                out[start:start + slab.shape[0]] = slab @ v
        return out


def cache_kernel(path, x, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
                 kernel: str = "ntk", mesh=None, block_rows: int = 256, dtype=None,
                 rows: int = 1024) -> DiskKernel:
    r"""Write $K(X, X)$ (``kernel`` "ntk" or "nngp") to the ``.npy`` file ``path`` row slab by
    row slab (:func:`stream_fc_kernels`; the matrix is never held) and return its
    :class:`DiskKernel`. ``dtype``: the file's (default: that of ``x``).

    Example:
        >>> import os, tempfile, jax
        >>> from analytic.kernels import fc_kernels
        >>> x = jax.random.normal(jax.random.key(0), (30, 3))
        >>> path = os.path.join(tempfile.mkdtemp(), "ntk.npy")
        >>> k = cache_kernel(path, x, 2, "relu", 1.4, 0.1, mesh=1, rows=8)
        >>> v = np.arange(30.0)
        >>> bool(np.allclose(k(v), fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk @ v, rtol=1e-12))
        True
    """
    which = kernel_index(kernel)
    n = np.shape(x)[0]
    dtype = np.dtype(dtype or np.asarray(x).dtype)
    header = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n, n))
    offset = header.offset
    del header  # only the header and the file's size were needed
    with open(path, "r+b") as f:
        def write(start, kernels):
            f.seek(offset + start * n * dtype.itemsize)
            f.write(np.ascontiguousarray(kernels[which], dtype).tobytes())

        stream_fc_kernels(x, None, depth, activation, sigma_w, sigma_b, parameterization, sink=write,
                          mesh=mesh, block_rows=block_rows)
    return DiskKernel(path, rows)
