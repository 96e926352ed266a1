"""Benchmark: analytic.kernels.fc_kernels side by side with neural-tangents 0.6.5, in one run.

neural-tangents is a peer, never a dependency of the toolkit: it is imported from the
directory ``--peers`` (default ``../shared/peers``, relative to the current directory;
``nt_shim.py`` there stubs its TensorFlow-only modules) after
``python -m pip install --no-deps DIR/*.whl``. Both libraries compute the same kernels
(fully-connected network, NTK parameterisation, a width-1 ``stax.Dense`` per layer).

1. Time: K(X, X) with depth 10, sigma_w 1.4, sigma_b 0.1, d 100, N points, ReLU and erf,
   float32 and float64; median of ``--repeats`` runs after a warm-up (``block_until_ready``).
   float32 runs with float64 switched off (``jax.enable_x64(False)``): with it on,
   neural-tangents promotes float32 inputs to float64.
2. Accuracy: elementwise relative error |k / k_ref - 1| (max over the chosen entries) against
   the textbook recursion on (k11, k22, k12) (ReLU: arccos form; erf: arcsin form) in mpmath at
   40 digits, from the exact float64 inputs, at depth 10:
   - coincident rows: x2 given, holding rows of x1 (entries x1_i = x2_i), sigma_b 0.1;
   - near-zero erf entries (~1e-7 of the largest; sigma_b 0, inputs at an angle pi/2 - 1e-7):
     "exact dot" inputs (one non-zero product per pair, so the float64 dot product is exact)
     and random inputs (the dot product's own round-off, ~5e-17, bounds every method there);
   - random entries: random x1, x2, sigma_b 0.1.
   The inputs are rounded to float32 first, so both dtypes and the reference see the same points.
3. Input gradients: jax.grad of sum(ntk(x1, x2)) with respect to x1, x2 holding two rows of
   x1 and two other points, sigma_b 0.6, depths 1, 3, 10, float64, against the central
   difference of the same sum evaluated in mpmath (40 digits, step 1e-15: the angle has a
   kink at coincident points, so the central difference is the symmetric derivative with an
   O(h) error, ~1e-15); max |g - g_ref| / max |g_ref|.

Usage: python benchmarks/peer_kernels.py [--peers DIR] [--sizes 1024 2048] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # entry point: float64 available

import jax.numpy as jnp  # noqa: E402
import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

from analytic.kernels import fc_kernels  # noqa: E402

DEPTH, SW, SB, D, DIGITS = 10, 1.4, 0.1, 100, 40


def load_peer(directory: str):
    """neural_tangents.stax from ``directory`` (nt_shim first), or exit with what to do."""
    path = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(path, "nt_shim.py")):
        sys.exit(f"peers not found: {path} has no nt_shim.py; pass --peers DIR (the folder with "
                 "nt_shim.py and the neural-tangents wheel)")
    sys.path.insert(0, path)
    import nt_shim  # noqa: F401
    try:
        from neural_tangents import stax
        import neural_tangents
    except ImportError as error:
        sys.exit(f"neural-tangents is not installed ({error}); run: "
                 f"python -m pip install --no-deps {path}/*.whl")
    return stax, neural_tangents.__version__


def peer_kernel_fn(stax, depth, activation, sw, sb):
    layer = {"relu": stax.Relu, "erf": stax.Erf}[activation]
    _, _, kernel_fn = stax.serial(*[stax.Dense(1, W_std=sw, b_std=sb), layer()] * depth,
                                  stax.Dense(1, W_std=sw, b_std=sb))
    return jax.jit(lambda x1, x2: tuple(kernel_fn(x1, x2, ("nngp", "ntk"))))


def ours_fn(depth, activation, sw, sb):
    return lambda x1, x2: tuple(fc_kernels(x1, x2, depth, activation, sw, sb))


def x64(dtype):
    """float64 on or off while computing in ``dtype``: with it on, neural-tangents promotes
    float32 inputs to float64 (its constants are Python floats), so its float32 would be float64."""
    return jax.enable_x64(np.dtype(dtype) == np.float64)


# --- the 40-digit reference ------------------------------------------------------------
def reference_pair(a, b, depth, activation, sw, sb):
    """(nngp, ntk) of the pair (a, b): the textbook recursion in mpmath (current precision)."""
    sw, sb = mp.mpf(sw), mp.mpf(sb)
    a, b = [mp.mpf(v) for v in a], [mp.mpf(v) for v in b]
    dot = lambda u, v: mp.fsum(p * q for p, q in zip(u, v)) / len(u)  # noqa: E731
    q1, q2, k = sw**2 * dot(a, a) + sb**2, sw**2 * dot(b, b) + sb**2, sw**2 * dot(a, b) + sb**2
    ntk = k
    for _ in range(depth):
        if activation == "relu":
            s = mp.sqrt(q1 * q2)
            c = max(-1, min(1, k / s))
            angle = mp.acos(c)
            expectation = s * (mp.sin(angle) + (mp.pi - angle) * c) / (2 * mp.pi)
            slope = (mp.pi - angle) / (2 * mp.pi)
            q1, q2 = sw**2 * q1 / 2 + sb**2, sw**2 * q2 / 2 + sb**2
        else:
            big = (1 + 2 * q1) * (1 + 2 * q2)
            expectation = 2 / mp.pi * mp.asin(2 * k / mp.sqrt(big))
            slope = 4 / mp.pi / mp.sqrt(big - 4 * k**2)
            q1, q2 = (sw**2 * 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) + sb**2 for q in (q1, q2))
        k = sw**2 * expectation + sb**2
        ntk = k + sw**2 * slope * ntk
    return k, ntk


def reference(x1, x2, pairs, depth, activation, sw, sb):
    with mp.workdps(DIGITS):
        out = [reference_pair(x1[i].tolist(), x2[j].tolist(), depth, activation, sw, sb) for i, j in pairs]
        return np.array([[float(v) for v in row] for row in out]).T  # (2, pairs)


# --- accuracy cases ----------------------------------------------------------------------
def coincident_case(rng):
    x1 = rng.standard_normal((4, 10))
    x2 = np.concatenate([x1[:2], rng.standard_normal((2, 10))])
    return x1, x2, [(0, 0), (1, 1)], SB


def near_zero_case(rng, exact: bool):
    n = 4
    if exact:  # one non-zero product per pair: the float64 dot product is exact
        x1, x2 = np.zeros((n, 4)), np.zeros((n, 4))
        x1[:, 0], x1[:, 1] = rng.standard_normal(n), 1e-7 * rng.uniform(0.5, 1.5, n)
        x2[:, 1], x2[:, 2] = rng.standard_normal(n), rng.standard_normal(n)
    else:  # random directions, x2_i at an angle pi/2 - 1e-7 to x1_i
        x1, z = rng.standard_normal((n, 10)), rng.standard_normal((n, 10))
        z -= (np.sum(z * x1, 1) / np.sum(x1 * x1, 1))[:, None] * x1
        x2 = z + 1e-7 * x1 * (np.linalg.norm(z, axis=1) / np.linalg.norm(x1, axis=1))[:, None]
    return x1, x2, [(i, i) for i in range(n)], 0.0


def random_case(rng):
    x1, x2 = rng.standard_normal((4, 10)), rng.standard_normal((4, 10))
    return x1, x2, [(i, j) for i in range(4) for j in range(4)], SB


def accuracy_rows(stax):
    rng = np.random.default_rng(0)
    cases = [("coincident rows, x2 given", ("relu", "erf"), coincident_case(rng)),
             ("erf near zero, exact dot", ("erf",), near_zero_case(rng, True)),
             ("erf near zero, random", ("erf",), near_zero_case(rng, False)),
             ("random entries", ("relu", "erf"), random_case(rng))]
    print("\n| entries | act | dtype | ours NNGP | ours NTK | NT NNGP | NT NTK |")
    print("|---|---|---|---|---|---|---|")
    for name, activations, (x1, x2, pairs, sb) in cases:
        x1, x2 = (x.astype(np.float32).astype(np.float64) for x in (x1, x2))  # exact in both dtypes
        rows, cols = np.array(pairs).T
        for act in activations:
            want = reference(x1, x2, pairs, DEPTH, act, SW, sb)
            fns = (ours_fn(DEPTH, act, SW, sb), peer_kernel_fn(stax, DEPTH, act, SW, sb))
            for dtype in (jnp.float64, jnp.float32):
                errs = []
                for fn in fns:
                    with x64(dtype):
                        got = fn(jnp.asarray(x1, dtype), jnp.asarray(x2, dtype))
                    errs += [np.max(np.abs(np.asarray(g, np.float64)[rows, cols] / w - 1)) for g, w in zip(got, want)]
                print(f"| {name} | {act} | {np.dtype(dtype).name} | " + " | ".join(f"{e:.1e}" for e in errs) + " |",
                      flush=True)


# --- input gradients ----------------------------------------------------------------------
def reference_sum_ntk(x1, x2, depth, activation, sw, sb):
    return mp.fsum(reference_pair(a, b, depth, activation, sw, sb)[1] for a in x1 for b in x2)


def reference_gradient(x1, x2, depth, activation, sw, sb, step=mp.mpf("1e-15")):
    """Central difference of sum(ntk) in x1, at DIGITS digits (the symmetric derivative)."""
    with mp.workdps(DIGITS):
        base = [[mp.mpf(float(v)) for v in row] for row in x1]
        grad = np.zeros(x1.shape)
        for i in range(x1.shape[0]):
            for j in range(x1.shape[1]):
                values = []
                for sign in (1, -1):
                    moved = [row[:] for row in base]
                    moved[i][j] += sign * step
                    values.append(reference_sum_ntk(moved, x2.tolist(), depth, activation, sw, sb))
                grad[i, j] = float((values[0] - values[1]) / (2 * step))
        return grad


def gradient_rows(stax):
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal((3, 3))
    x2 = np.concatenate([x1[:2], rng.standard_normal((2, 3))])
    sb = 0.6
    print("\n| act | depth | ours | NT |  (max abs error / max abs gradient, float64)")
    print("|---|---|---|---|")
    for act in ("relu", "erf"):
        for depth in (1, 3, 10):
            want = reference_gradient(x1, x2, depth, act, SW, sb)
            errs = []
            for fn in (ours_fn(depth, act, SW, sb), peer_kernel_fn(stax, depth, act, SW, sb)):
                got = jax.grad(lambda x: jnp.sum(fn(x, jnp.asarray(x2))[1]))(jnp.asarray(x1))  # noqa: B023
                errs.append(np.max(np.abs(np.asarray(got) - want)) / np.max(np.abs(want)))
            print(f"| {act} | {depth} | {errs[0]:.1e} | {errs[1]:.1e} |", flush=True)


# --- time -------------------------------------------------------------------------------------
def _time(fn, repeats):
    jax.block_until_ready(fn())
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def time_rows(stax, sizes, repeats):
    print(f"\n| act | dtype | N | fc_kernels ms | NT ms | NT / ours |  (depth {DEPTH}, sigma_w {SW}, "
          f"sigma_b {SB}, d {D}, K(X, X), median of {repeats})")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        for dtype in (jnp.float32, jnp.float64):
            for act in ("relu", "erf"):
                with x64(dtype):
                    x = jax.random.normal(jax.random.key(0), (n, D), dtype)
                    ours = _time(functools.partial(ours_fn(DEPTH, act, SW, SB), x, None), repeats)
                    peer = _time(functools.partial(peer_kernel_fn(stax, DEPTH, act, SW, SB), x, None), repeats)
                    assert {ours_fn(DEPTH, act, SW, SB)(x, None)[0].dtype,
                            peer_kernel_fn(stax, DEPTH, act, SW, SB)(x, None)[0].dtype} == {np.dtype(dtype)}
                print(f"| {act} | {np.dtype(dtype).name} | {n} | {1e3 * ours:.1f} | {1e3 * peer:.1f} | "
                      f"{peer / ours:.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", default="../shared/peers",
                        help="folder with nt_shim.py and the neural-tangents wheel (default ../shared/peers)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1024, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    stax, nt_version = load_peer(args.peers)
    device = jax.devices()[0]
    print(f"device: {device.platform} {getattr(device, 'device_kind', '')}; cores {os.cpu_count()}; "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}; jax {jax.__version__}; "
          f"neural-tangents {nt_version}; mpmath {mp.__version__}; numpy {np.__version__}; "
          f"python {platform.python_version()}")
    accuracy_rows(stax)
    gradient_rows(stax)
    time_rows(stax, args.sizes, args.repeats)
    print(f"\nload average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
