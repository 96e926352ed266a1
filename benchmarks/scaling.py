"""Scale-out benchmarks: blocked kernels and the matrix-free prediction over device meshes.

    PYTHONPATH=. python3 benchmarks/scaling.py                 # devices + memory parts
    PYTHONPATH=. python3 benchmarks/scaling.py --part devices  # throughput vs device count
    PYTHONPATH=. python3 benchmarks/scaling.py --part memory   # peak memory vs N
    PYTHONPATH=. python3 benchmarks/scaling.py --part large --rank 2048  # N = 50,000 matrix-free, CG
    PYTHONPATH=. python3 benchmarks/scaling.py --part cached --n 50000   # file-cached vs recomputed products

Every measurement runs in a fresh subprocess (``XLA_FLAGS=--xla_force_host_platform_device_count=D``
must be set before JAX starts; peak memory is the subprocess's ``ru_maxrss``). Ratios are
to the one-device run (throughput) or to the dense path (memory) in the same run.
On CPU the D "devices" share the machine's cores: throughput can only grow up to the
core count. On a GPU machine the device parts run over the real devices instead.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _child(args) -> None:
    """One measurement in this (fresh) process; prints one JSON line."""
    import resource

    import jax
    import jax.numpy as jnp
    import numpy as np

    from analytic import kernels
    from analytic.kernels import _matrix_free

    def rss_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    dtype = jnp.float32
    n, d, depth = args.n, 10, 2
    x = jax.random.normal(jax.random.key(0), (n, d), dtype)
    y = jnp.sin(x[:, 0]) + 0.5 * x[:, 1]
    base = rss_mb()
    out = {"what": args.what, "n": n, "devices": jax.device_count(), "platform": jax.devices()[0].platform}
    mesh = jax.device_count()
    if args.what == "kernel":  # sharded K(X, X): entries per second
        def run():
            k = kernels.sharded_fc_kernels(x, None, depth, "relu", 1.4, 0.1, mesh=mesh, block_rows=args.block)
            return k.ntk.block_until_ready()
        run()
        t = min(_time(run) for _ in range(args.repeats))
        out.update(seconds=t, entries_per_s=n * n / t)
    elif args.what == "matvec":  # one blockwise Theta v
        def run():
            return kernels.kernel_matvec(x, None, y, depth, "relu", 1.4, 0.1, mesh=mesh,
                                         block=args.block).block_until_ready()
        run()
        t = min(_time(run) for _ in range(args.repeats))
        out.update(seconds=t, entries_per_s=n * n / t)
    elif args.what == "dense":  # fc_kernels + eigh path (memory reference)
        k = kernels.fc_kernels(x, None, depth, "relu", 1.4, 0.1).ntk
        kernels.infinite_width_mean(k, k[:100], y, jnp.array([1.0])).test.block_until_ready()
    elif args.what == "stream":  # streamed rows, discarded (the matrix is never held)
        kernels.stream_fc_kernels(x, None, depth, "relu", 1.4, 0.1, mesh=mesh, block_rows=args.block,
                                  sink=lambda start, k: None)
    elif args.what == "free":  # matrix-free prediction, 5 CG steps
        kernels.matrix_free_mean(x, y, x[:100], jnp.array([jnp.inf]), depth=depth, activation="relu",
                                 sigma_w=1.4, sigma_b=0.1, iterations=5, mesh=mesh,
                                 block=args.block).test.block_until_ready()
    elif args.what == "large":  # the N = 50,000 prediction, logged per mat-vec
        log = open(args.log, "a") if args.log else sys.stdout
        op = _matrix_free._operator(x, None, depth, "relu", 1.4, 0.1, "ntk", "ntk", mesh, args.block)
        times = []
        begin = time.perf_counter()
        product, cache_seconds = op, 0.0
        if args.cached:  # write the kernel to a file once; every product reads it back
            path = os.path.join(args.cache_dir, f"ntk_{n}.npy")
            disk = kernels.cache_kernel(path, x, depth, "relu", 1.4, 0.1, mesh=mesh)
            cache_seconds = time.perf_counter() - begin
            print(json.dumps({"cache_seconds": cache_seconds, "peak_rss_mb": rss_mb()}), file=log, flush=True)

            def product(v):
                return op.replicate(disk(np.asarray(v)))

        def matvec(v):
            start = time.perf_counter()
            r = product(v).block_until_ready()
            times.append(time.perf_counter() - start)
            print(json.dumps({"matvec": len(times), "seconds": times[-1], "peak_rss_mb": rss_mb()}),
                  file=log, flush=True)
            return r

        start = begin
        matvec(y)  # compile + one timed product: sizes the run to the time budget
        iterations = args.iterations
        if args.budget:
            iterations = max(1, min(iterations, int((args.budget - (time.perf_counter() - start)) / times[0]) - 1))
        print(json.dumps({"iterations": iterations}), file=log, flush=True)
        preconditioner, setup = None, 0.0
        if args.rank:  # pivoted Cholesky from args.rank kernel columns (n x rank entries)
            setup = time.perf_counter()
            low = kernels.pivoted_cholesky(x, args.rank, depth, "relu", 1.4, 0.1)
            preconditioner = kernels.low_rank_preconditioner(low._replace(factor=op.replicate(low.factor)))
            preconditioner(y).block_until_ready()
            setup = time.perf_counter() - setup
            print(json.dumps({"preconditioner_rank": args.rank, "seconds": setup, "peak_rss_mb": rss_mb()}),
                  file=log, flush=True)
        alpha, r, history = _matrix_free.kernel_cg(matvec, y, iterations, preconditioner=preconditioner)
        x_test = jax.random.normal(jax.random.key(1), (100, d), dtype)
        cross = _matrix_free._operator(x_test, x, depth, "relu", 1.4, 0.1, "ntk", "ntk", op.mesh, op.block)
        test = cross(alpha).block_until_ready()
        seconds = time.perf_counter() - start
        if args.reference:  # a longer solve from scratch: how far the 20-step test outputs are off
            reference_alpha, _, reference_history = _matrix_free.kernel_cg(
                matvec, y, args.reference, preconditioner=preconditioner)
            reference = cross(reference_alpha)
            out.update(reference_iterations=args.reference,
                       reference_relative_residual=float(reference_history[-1]),
                       test_relative_error=float(jnp.linalg.norm(test - reference) / jnp.linalg.norm(reference)),
                       test_max_error_over_max=float(jnp.max(jnp.abs(test - reference)) / jnp.max(jnp.abs(reference))))
        if args.cached:
            os.remove(path)
        out.update(seconds=seconds, matvec_seconds=times, rank=args.rank,
                   cached=args.cached, cache_seconds=cache_seconds,
                   preconditioner_seconds=setup,
                   cg_relative_residual=history.tolist(), test_mean_abs=float(jnp.mean(jnp.abs(test))))
    elif args.what == "cached":  # the kernel written to a file once, each product reads it back
        path = os.path.join(args.cache_dir, f"ntk_{n}.npy")
        start = time.perf_counter()
        disk = kernels.cache_kernel(path, x, depth, "relu", 1.4, 0.1, mesh=mesh, rows=1024)
        write_seconds = time.perf_counter() - start
        y64 = np.asarray(y)
        product = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            disk(y64)
            product.append(time.perf_counter() - start)
        recomputed = []
        op = _matrix_free._operator(x, None, depth, "relu", 1.4, 0.1, "ntk", "ntk", mesh, args.block)
        op(y).block_until_ready()  # compile
        for _ in range(args.repeats):
            start = time.perf_counter()
            op(y).block_until_ready()
            recomputed.append(time.perf_counter() - start)
        agree = float(np.max(np.abs(disk(y64) - np.asarray(op(y)))) / np.max(np.abs(np.asarray(op(y)))))
        os.remove(path)
        out.update(write_seconds=write_seconds, file_gb=n * n * 4 / 1e9, cached_product_seconds=product,
                   recomputed_product_seconds=recomputed, relative_difference=agree)
    out.update(base_rss_mb=base, peak_rss_mb=rss_mb())
    print("RESULT " + json.dumps(out), flush=True)


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _run(what: str, n: int, devices: int, block: int, repeats: int = 3, extra=()) -> dict:
    env = dict(os.environ, PYTHONPATH=ROOT)
    if _platform() == "cpu":
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    cmd = [sys.executable, os.path.abspath(__file__), "--child", what, "--n", str(n), "--block", str(block),
           "--repeats", str(repeats), *extra]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{what} n={n} devices={devices} failed:\n{done.stderr[-2000:]}")


def _platform() -> str:
    import jax
    return jax.default_backend()


def devices_part(n: int, block: int) -> None:
    print(f"\nThroughput vs device count (N = {n}, depth 2, ReLU, float32, block {block})")
    print("| what | devices | seconds | M entries/s | ratio to 1 device |")
    print("|---|---|---|---|---|")
    for what in ("kernel", "matvec"):
        first = None
        for devices in (1, 2, 4):
            r = _run(what, n, devices, block)
            first = first or r["entries_per_s"]
            print(f"| {what} | {devices} | {r['seconds']:.3f} | {r['entries_per_s'] / 1e6:.1f} | "
                  f"{r['entries_per_s'] / first:.2f} |", flush=True)


def memory_part(sizes, block: int) -> None:
    print(f"\nPeak memory vs N (depth 2, ReLU, float32, 1 device, block {block}); MB of RSS above "
          "the process after start-up")
    print("| N | dense fc_kernels + eigh | streamed kernel | matrix-free (5 CG) | N^2 float32 | "
          "free / dense |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        row = {}
        for what in ("dense", "stream", "free"):
            if what == "dense" and n > 4096:
                row[what] = None
                continue
            r = _run(what, n, 1, block, repeats=1)
            row[what] = r["peak_rss_mb"] - r["base_rss_mb"]
        dense = row["dense"]
        dense_text = "-" if dense is None else f"{dense:.0f}"
        ratio = "-" if dense is None else f"{row['free'] / dense:.3f}"
        print(f"| {n} | {dense_text} | {row['stream']:.0f} | {row['free']:.0f} | "
              f"{n * n * 4 / 2**20:.0f} | {ratio} |", flush=True)


def large_part(n: int, devices: int, block: int, iterations: int, log: str | None, budget: float,
               rank: int, cached: bool, cache_dir: str, reference: int = 0) -> None:
    print(f"\nMatrix-free prediction, N = {n}, depth 2, ReLU, float32, CG {iterations} iterations, "
          f"preconditioner rank {rank}, {devices} device(s), block {block}, "
          f"{'kernel cached in ' + cache_dir if cached else 'blocks recomputed'}")
    r = _run("large", n, devices, block, extra=("--iterations", str(iterations), "--budget", str(budget),
                                                "--rank", str(rank), "--reference", str(reference))
             + (("--log", log) if log else ())
             + (("--cached", "--cache-dir", cache_dir) if cached else ()))
    steady = r["matvec_seconds"][2:] or r["matvec_seconds"]  # [0]: compile, [1]: first CG product
    per = sum(steady) / len(steady)
    print(json.dumps(r))
    print(f"total {r['seconds']:.1f} s; first mat-vec (with compile) {r['matvec_seconds'][0]:.1f} s; "
          f"mat-vec {per:.1f} s = {n * n / per / 1e6:.0f} M kernel entries/s "
          f"({n * n / 2 / per / 1e6:.0f} M computed entries/s, each used twice); peak RSS "
          f"{r['peak_rss_mb']:.0f} MB (N x N float32 would be {n * n * 4 / 2**20:.0f} MB); "
          f"preconditioner {r['preconditioner_seconds']:.1f} s; writing the cache {r['cache_seconds']:.1f} s; "
          f"CG relative residual {r['cg_relative_residual'][-1]:.3g}")
    if reference:
        print(f"against {reference} iterations (relative residual {r['reference_relative_residual']:.2g}): "
              f"test outputs off by {r['test_relative_error']:.2g} (2-norm, relative), "
              f"{r['test_max_error_over_max']:.2g} (max error / max output)")


def cached_part(n: int, devices: int, block: int, repeats: int, cache_dir: str) -> None:
    print(f"\nCached on disk vs recomputed kernel mat-vecs, N = {n}, depth 2, ReLU, float32, {devices} "
          f"device(s), block {block}; file in {cache_dir}")
    r = _run("cached", n, devices, block, repeats=repeats, extra=("--cache-dir", cache_dir))
    print(json.dumps(r))
    cached, recomputed = min(r["cached_product_seconds"]), min(r["recomputed_product_seconds"])
    print(f"write once {r['write_seconds']:.1f} s ({r['file_gb']:.1f} GB); product: read back {cached:.2f} s "
          f"(best of {repeats}) vs recomputed {recomputed:.2f} s: ratio {recomputed / cached:.2f}; "
          f"relative difference {r['relative_difference']:.1e}; peak RSS {r['peak_rss_mb']:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("devices", "memory", "large", "cached", "all"), default="all")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, default=2048)
    parser.add_argument("--block", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--devices", type=int, default=2, help="devices for --part large")
    parser.add_argument("--cache-dir", default="/tmp", help="--part cached, --cached: where the kernel file goes")
    parser.add_argument("--reference", type=int, default=0,
                        help="--part large: also solve with this many iterations and report how far the "
                             "test outputs of the --iterations solve are from it (0: no)")
    parser.add_argument("--cached", action="store_true",
                        help="--part large: products read the kernel back from a file written once")
    parser.add_argument("--rank", type=int, default=0,
                        help="--part large: pivoted-Cholesky preconditioner rank (0: plain CG)")
    parser.add_argument("--budget", type=float, default=0.0,
                        help="--part large: seconds; CG iterations are capped to finish within it (0: none)")
    parser.add_argument("--log", default=None, help="--part large: append a line per mat-vec here")
    args = parser.parse_args()
    if args.child:
        args.what = args.child
        _child(args)
        return
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    if args.part in ("devices", "all"):
        devices_part(args.n, args.block)
    if args.part in ("memory", "all"):
        memory_part((1024, 2048, 4096, 16384), args.block)
    if args.part == "cached":
        cached_part(args.n, args.devices, args.block, args.repeats, args.cache_dir)
    if args.part == "large":
        large_part(args.n if args.n != 2048 else 50_000, args.devices, args.block, args.iterations, args.log,
                   args.budget, args.rank, args.cached, args.cache_dir, args.reference)


if __name__ == "__main__":
    main()
