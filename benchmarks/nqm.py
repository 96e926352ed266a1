"""Benchmark: NQM Monte Carlo throughput (chains x dims x steps per second) vs memory bandwidth.

Runs ``numeric.nqm.simulate_sweep`` (a vmapped ``lax.scan`` of heavy-ball SGD with
Gaussian gradient noise) and, in the same process, a device copy ``y = x + 1`` of a
large array to measure the attainable memory bandwidth. The state traffic of one
element-step is at least 4 words (read theta, theta_prev; write both), so the
simulation's effective bandwidth is ``element-steps/s * 4 * itemsize``; the report
gives it as a fraction of the measured copy bandwidth. Compile time is measured apart.

    python3 benchmarks/nqm.py [--configs 8 --chains 256 --dims 1000 --steps 500]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from numeric import nqm  # noqa: E402


def copy_bandwidth(n_bytes: int, dtype, repeats: int = 10) -> float:
    """Bytes per second of ``y = x + 1`` (one read, one write) on the default device."""
    x = jnp.ones(n_bytes // jnp.dtype(dtype).itemsize, dtype)
    f = jax.jit(lambda a: a + 1)
    f(x).block_until_ready()
    start = time.perf_counter()
    for _ in range(repeats):
        y = f(x)
    y.block_until_ready()
    return 2 * x.nbytes * repeats / (time.perf_counter() - start)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=8)
    ap.add_argument("--chains", type=int, default=256)
    ap.add_argument("--dims", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    dtype = jnp.result_type(float)  # float32 unless JAX_ENABLE_X64 is set
    h = nqm.power_law_spectrum(args.dims).astype(dtype)
    batch = 2.0 ** np.arange(args.configs)
    lrs = np.full(args.configs, 0.5)
    momenta = np.full(args.configs, 0.9)

    def once(seed):
        run = nqm.simulate_sweep(jax.random.key(seed), h, h, 1.0, batch, lrs, momenta,
                                 steps=args.steps, chains=args.chains)
        return run.loss_mean.block_until_ready()

    start = time.perf_counter()
    once(0)
    compile_s = time.perf_counter() - start
    times = []
    for r in range(args.repeats):
        start = time.perf_counter()
        once(r + 1)
        times.append(time.perf_counter() - start)
    run_s = min(times)
    element_steps = args.configs * args.chains * args.dims * args.steps
    rate = element_steps / run_s
    itemsize = jnp.dtype(dtype).itemsize
    bandwidth = copy_bandwidth(256 * 2**20, dtype)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} {getattr(dev, 'device_kind', '')}; jax {jax.__version__}; "
          f"numpy {np.__version__}; dtype {jnp.dtype(dtype).name}; cpus {os.cpu_count()}")
    print(f"shape: configs {args.configs} x chains {args.chains} x dims {args.dims} x steps {args.steps}")
    print(f"compile+first run: {compile_s:.2f} s; best of {args.repeats} runs: {run_s:.3f} s")
    print(f"throughput: {rate / 1e6:.1f} M element-steps/s "
          f"(chains x dims x steps x configs per second)")
    print(f"copy bandwidth (y = x + 1, 256 MiB): {bandwidth / 1e9:.2f} GB/s")
    eff = rate * 4 * itemsize
    print(f"state traffic at 4 words/element-step: {eff / 1e9:.2f} GB/s = "
          f"{eff / bandwidth:.1%} of the measured copy bandwidth")


if __name__ == "__main__":
    main()
