"""Benchmark: analytic.kernels.fc_kernels vs a hand-written fused jnp recursion, in one run.

Depth-10 fully-connected network, sigma_w 1.4, sigma_b 0.1, d = 100, float32,
K(X, X) with N points. Reports compile and run time (median of repeats, after a
warm-up, ``block_until_ready``), the ratio to the baseline, the fraction of the
device's measured copy bandwidth achieved (the two N x N float32 outputs written
once, divided by run time, over the bandwidth of an N x N copy), and the float32
error against float64 (``fc_kernels`` in float64 as reference) as
max |K32 - K64| / sqrt(K_ii K_jj), plus the elementwise relative error for ReLU
(erf kernels cross zero, so elementwise relative error is unbounded there). The error
is taken over the first ``--error-rows`` rows of K(X, X) (all N columns), against
the float64 rectangular kernel of those rows: an N x N float64 reference at N = 32768
would be 8.6 GB per matrix and adds nothing, since every row is computed alike. The
scale sqrt(K_ii K_jj) uses the float32 diagonal (its 1e-6 relative error moves the
reported error by a factor 1 +- 1e-6).

On GPU the table also gives the time against the issue's neural-tangents 0.6.5 figures
(H100, jax 0.11.2: 8.0 / 8.6 ms ReLU / erf at N = 16384, 31 / 33 ms at N = 32768); the
goal there is a ratio <= 1/1.5 = 0.67. That comparison is only meaningful on an H100.

Usage: python3 benchmarks/kernels.py [--sizes 1024 2048] [--repeats 5] [--error-rows 1024]
Default sizes: 1024 and 2048 on CPU; 1024 ... 32768 on GPU.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import time

import jax

jax.config.update("jax_enable_x64", True)  # entry point: float64 reference available

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from analytic.kernels import fc_kernels  # noqa: E402

DEPTH, SW, SB, D = 10, 1.4, 0.1, 100


def baseline(x, depth, activation, sw, sb):
    """The textbook recursion on (k11, k22, k12): arccos of k12 / sqrt(k11 k22) each layer."""
    d = x.shape[1]
    k = sw**2 * jnp.matmul(x, x.T, precision=jax.lax.Precision.HIGHEST) / d + sb**2
    q = jnp.diagonal(k)
    ntk = k
    for _ in range(depth):
        s = jnp.sqrt(q[:, None] * q[None, :])
        if activation == "relu":
            c = jnp.clip(k / s, -1, 1)
            a = jnp.arccos(c)
            e = s * (jnp.sin(a) + (jnp.pi - a) * c) / (2 * jnp.pi)
            slope = (jnp.pi - a) / (2 * jnp.pi)
            q = sw**2 * q / 2 + sb**2
        else:
            big = (1 + 2 * q)[:, None] * (1 + 2 * q)[None, :]
            e = 2 / jnp.pi * jnp.arcsin(2 * k / jnp.sqrt(big))
            slope = 4 / jnp.pi / jnp.sqrt(big - 4 * k**2)
            q = sw**2 * 2 / jnp.pi * jnp.arcsin(2 * q / (1 + 2 * q)) + sb**2
        k = sw**2 * e + sb**2
        ntk = k + sw**2 * slope * ntk
    return k, ntk


_baseline = jax.jit(baseline, static_argnames=("depth", "activation"))


def _time(fn, repeats):
    start = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    run = statistics.median(runs)
    return run, max(first - run, 0.0)


def copy_bandwidth(n, repeats):
    """Bytes per second of an N x N float32 copy (read + write)."""
    a = jnp.ones((n, n), jnp.float32)
    copy = jax.jit(lambda z: z * 1.0001)
    run, _ = _time(lambda: copy(a), repeats)
    return 2 * a.size * 4 / run


# neural-tangents 0.6.5 stax kernel_fn on an H100 (jax 0.11.2), from the issue: ms at (act, N).
NT_H100_MS = {("relu", 16384): 8.0, ("erf", 16384): 8.6, ("relu", 32768): 31.0, ("erf", 32768): 33.0}


@jax.jit
def _row_errors(lo, hi, diagonal):
    """Max normalised and elementwise relative error of float32 rows ``lo`` against ``hi``."""
    a, b = lo.astype(jnp.float64), hi
    scale = jnp.sqrt(diagonal[: a.shape[0], None] * diagonal[None, :])
    return jnp.max(jnp.abs(a - b) / scale), jnp.max(jnp.abs(a / b - 1))


def errors(full32, x64, rows, activation):
    """[(normalised, elementwise)] for NNGP and NTK over the first ``rows`` rows."""
    ref = fc_kernels(x64[:rows], x64, DEPTH, activation, SW, SB)
    out = []
    for a, b in zip(full32, ref):
        diagonal = jnp.diagonal(a).astype(jnp.float64)
        normalised, elementwise = (float(v) for v in _row_errors(a[:rows], b, diagonal))
        out.append((normalised, elementwise if activation == "relu" else math.nan))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--error-rows", type=int, default=1024)
    args = parser.parse_args(argv)
    device = jax.devices()[0]
    on_gpu = device.platform == "gpu"
    sizes = args.sizes or ([1024, 2048, 4096, 8192, 16384, 32768] if on_gpu else [1024, 2048])
    print(f"device: {device.platform} {getattr(device, 'device_kind', '')}; jax {jax.__version__}; "
          f"numpy {np.__version__}; python {platform.python_version()}; {platform.processor() or platform.machine()}")
    print(f"depth {DEPTH}, sigma_w {SW}, sigma_b {SB}, d {D}, float32, K(X, X)\n")
    print("| act | N | fc_kernels ms | baseline ms | ratio | compile s (ours/base) | copy GB/s | "
          "ours % of copy bw | f32 err ours NNGP/NTK (normalised) | f32 err baseline NNGP/NTK | "
          "ReLU elementwise ours NNGP/NTK | ours / NT H100 ref |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in sizes:
        x32 = jax.random.normal(jax.random.key(0), (n, D), jnp.float32)
        x64 = x32.astype(jnp.float64)
        bandwidth = copy_bandwidth(n, args.repeats)
        for act in ("relu", "erf"):
            ours, ours_compile = _time(lambda: fc_kernels(x32, None, DEPTH, act, SW, SB), args.repeats)
            base, base_compile = _time(lambda: _baseline(x32, DEPTH, act, SW, SB), args.repeats)
            rows = min(args.error_rows, n)
            err_ours = errors(fc_kernels(x32, None, DEPTH, act, SW, SB), x64, rows, act)
            err_base = errors(_baseline(x32, DEPTH, act, SW, SB), x64, rows, act)
            reference = NT_H100_MS.get((act, n)) if on_gpu else None
            versus_nt = f"{1e3 * ours / reference:.2f}" if reference else "-"
            achieved = 2 * n * n * 4 / ours / bandwidth
            elementwise = (f"{err_ours[0][1]:.1e} / {err_ours[1][1]:.1e}" if act == "relu" else "-")
            print(f"| {act} | {n} | {1e3 * ours:.1f} | {1e3 * base:.1f} | {ours / base:.2f} | "
                  f"{ours_compile:.2f} / {base_compile:.2f} | {bandwidth / 1e9:.1f} | {100 * achieved:.1f} | "
                  f"{err_ours[0][0]:.1e} / {err_ours[1][0]:.1e} | {err_base[0][0]:.1e} / {err_base[1][0]:.1e} | "
                  f"{elementwise} | {versus_nt} |", flush=True)


if __name__ == "__main__":
    main()
