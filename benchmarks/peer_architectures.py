"""Benchmark: kernels.serial CNN kernels side by side with neural-tangents 0.6.5, in one run.

neural-tangents is a peer, never a dependency: it is imported from ``--peers`` (default
``.gpu_peers``: the wheels installed with ``pip install --no-deps --target .gpu_peers`` and
``nt_shim.py`` copied there). Both compute the same kernels in NTK parameterisation (width-1
``stax.Conv``/``Dense`` with W_std = sigma_w, b_std = sigma_b; AvgPool strides explicit).

Networks (``conv depth`` D, 3x3 filters, SAME padding, ReLU, sigma_w 1.4, sigma_b 0.1):
- pooled: D x (Conv, Relu), GlobalAvgPool, Dense: all N^2 P^2 pairs of positions;
- flattened: D x (Conv, Relu), Flatten, Dense: ours tracks only the N^2 P diagonal.
For each size: K(X, X) NNGP and NTK in float64, wall time (median of ``--repeats`` after a
warm-up, ``block_until_ready``), XLA's compiled memory estimate (arguments + outputs +
temporaries, ``compiled.memory_analysis()``: the same measure for both), the max relative
difference off the diagonal, and the ratios. A size that fails (out of memory) is recorded as such.

Sizes: ``--size quick`` (a rehearsal, < 1 min), ``cpu`` (the issue's CPU sizes: pooled 8x8x3 up
to N = 128 and 16x16x3 up to N = 32, flattened up to N = 512, conv depth 4 and 8), ``gpu``
(larger pooled sizes). ``--only pooled|flattened``, ``--n 16,32``, ``--depth 4`` and ``--image 8``
keep only the matching rows of that size. ``--json PATH`` writes the rows.

Usage: python benchmarks/peer_architectures.py [--size quick|cpu|gpu] [--only KIND] [--n N,...]
       [--depth D,...] [--image SIDE,...] [--peers DIR] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # entry point: float64 available

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from analytic import kernels  # noqa: E402

SW, SB = 1.4, 0.1
SIZES = {
    # (kind, image side, channels, conv depth, N)
    "quick": [("pooled", 4, 3, 2, 8), ("flattened", 8, 3, 2, 16)],
    "cpu": ([("pooled", 8, 3, d, n) for d in (4, 8) for n in (16, 32, 64, 128)]
            + [("pooled", 16, 3, 4, n) for n in (8, 16, 32)]
            + [("flattened", 8, 3, d, n) for d in (4, 8) for n in (64, 128, 256, 512)]),
    "gpu": ([("pooled", 8, 3, 4, n) for n in (128, 256, 512)] + [("pooled", 16, 3, 4, n) for n in (32, 64, 128)]
            + [("pooled", 32, 3, 4, n) for n in (8, 16, 32)] + [("flattened", 32, 3, 8, n) for n in (256, 1024)]),
}


def load_peer(directory: str):
    path = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(path, "nt_shim.py")):
        sys.exit(f"peers not found: {path} has no nt_shim.py; pass --peers DIR (the folder with nt_shim.py "
                 "and neural_tangents installed)")
    sys.path.insert(0, path)
    import nt_shim  # noqa: F401
    from neural_tangents import stax
    return stax


def networks(stax, kind: str, depth: int):
    ours = [kernels.Conv((3, 3), SW, SB), kernels.Activation("relu")] * depth
    theirs = [stax.Conv(1, (3, 3), padding="SAME", W_std=SW, b_std=SB), stax.Relu()] * depth
    if kind == "pooled":
        ours, theirs = ours + [kernels.GlobalAvgPool()], theirs + [stax.GlobalAvgPool()]
    else:
        ours, theirs = ours + [kernels.Flatten()], theirs + [stax.Flatten()]
    net = kernels.serial(*ours, kernels.Dense(SW, SB))
    nt_fn = stax.serial(*theirs, stax.Dense(1, W_std=SW, b_std=SB))[2]
    return (jax.jit(lambda x: tuple(net.kernels(x))),
            jax.jit(lambda x: tuple(nt_fn(x, None, ("nngp", "ntk")))))


def _memory(fn, x) -> float:
    """XLA's estimate of the compiled program's memory, bytes (arguments + outputs + temporaries)."""
    stats = fn.lower(x).compile().memory_analysis()
    if stats is None:
        return float("nan")
    return float(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes
                 - getattr(stats, "alias_size_in_bytes", 0))


def _time(fn, x, repeats: int) -> tuple[float, tuple]:
    out = jax.block_until_ready(fn(x))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(x))
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def run_size(stax, kind, side, channels, depth, n, repeats):
    x = jax.random.normal(jax.random.key(0), (n, side, side, channels), jnp.float64)
    ours, theirs = networks(stax, kind, depth)
    row = {"kind": kind, "image": f"{side}x{side}x{channels}", "depth": depth, "N": n}
    results = {}
    for name, fn in (("ours", ours), ("nt", theirs)):
        try:
            row[f"{name}_bytes"] = _memory(fn, x)
            row[f"{name}_s"], results[name] = _time(fn, x, repeats)
        except Exception as error:  # noqa: BLE001 - out of memory is a measurement here
            row[f"{name}_s"] = float("nan")
            row[f"{name}_error"] = f"{type(error).__name__}: {str(error)[:120]}"
    if len(results) == 2:
        off = ~np.eye(n, dtype=bool)
        row["max_rel_diff"] = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))[off] / np.abs(np.asarray(b))[off]))
                                  for a, b in zip(results["ours"], results["nt"]))
        row["speedup"] = row["nt_s"] / row["ours_s"]
        row["memory_ratio"] = row["nt_bytes"] / row["ours_bytes"]
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", choices=tuple(SIZES), default="quick")
    parser.add_argument("--peers", default=".gpu_peers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    parser.add_argument("--only", choices=("pooled", "flattened"), default=None, help="keep only this kind")
    parser.add_argument("--n", default=None, help="keep only these N, comma-separated (e.g. 16,32)")
    parser.add_argument("--depth", default=None, help="keep only these conv depths, comma-separated")
    parser.add_argument("--image", default=None, help="keep only these image sides, comma-separated")
    args = parser.parse_args(argv)

    def keep(values):
        return None if values is None else {int(v) for v in values.split(",")}

    ns, depths, sides = keep(args.n), keep(args.depth), keep(args.image)
    sizes = [(kind, side, c, depth, n) for kind, side, c, depth, n in SIZES[args.size]
             if (args.only in (None, kind) and (ns is None or n in ns) and (depths is None or depth in depths)
                 and (sides is None or side in sides))]
    if not sizes:
        parser.error(f"no row of --size {args.size} matches --only/--n/--depth/--image")
    stax = load_peer(args.peers)
    print(f"# {platform.node()} {jax.devices()[0].device_kind} jax {jax.__version__}; float64, K(X, X), NTK param")
    print("| net | image | conv depth | N | ours s | NT s | NT/ours time | ours MB | NT MB | NT/ours memory | max rel diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for size in sizes:
        row = run_size(stax, *size, args.repeats)
        rows.append(row)
        print(f"| {row['kind']} | {row['image']} | {row['depth']} | {row['N']} | {row.get('ours_s', float('nan')):.3g} | "
              f"{row.get('nt_s', float('nan')):.3g} | {row.get('speedup', float('nan')):.2f} | "
              f"{row.get('ours_bytes', float('nan')) / 1e6:.1f} | {row.get('nt_bytes', float('nan')) / 1e6:.1f} | "
              f"{row.get('memory_ratio', float('nan')):.2f} | {row.get('max_rel_diff', float('nan')):.1e} |"
              + (f" {row.get('ours_error', '')} {row.get('nt_error', '')}" if "ours_error" in row or "nt_error" in row else ""),
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": jax.devices()[0].device_kind, "jax": jax.__version__, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
