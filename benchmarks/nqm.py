"""Benchmark: NQM Monte Carlo throughput (chains x dims x steps per second) vs memory bandwidth.

Runs ``numeric.nqm.simulate_sweep`` (a vmapped ``lax.scan`` of heavy-ball SGD with
Gaussian gradient noise) and, in the same process, a device copy ``y = x + 1`` of a
large array to measure the attainable memory bandwidth. The state traffic of one
element-step is at least 4 words (read theta, theta_prev; write both), so the
simulation's effective bandwidth is ``element-steps/s * 4 * itemsize``; the report
gives it as a fraction of the measured copy bandwidth. Compile time is measured apart.

``--sweep quick|full`` instead times the steps-vs-batch-size sweep end to end, as
``python -m verify nqm.steps_vs_batch`` runs it (float64, compilation included): the
exact-moment tuning over the (learning rate x momentum) grid for SGD, momentum and
preconditioning at every batch size, then the Monte Carlo at the tuned points. The
full size is the paper-sized sweep (d = 1000, B = 2^0..2^16).

    python3 benchmarks/nqm.py [--configs 8 --chains 256 --dims 1000 --steps 500]
    python3 benchmarks/nqm.py --sweep full
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


def time_sweep(size: str) -> None:
    """Wall time of the tuned steps-vs-batch sweep (tuning alone, then the whole check)."""
    jax.config.update("jax_enable_x64", True)  # as the verify CLI runs it (a script, not the library)
    from analytic.nqm import tuned_steps_to_target
    from verify.checks import nqm as sweep
    from verify.core import Context

    quick = size == "quick"
    s = sweep.sweep_settings(quick)
    h = nqm.power_law_spectrum(s["dim"])
    target = s["target_fraction"] * 0.5 * h.sum()
    grid = len(s["fractions"]) * sum(len(b) for _, b, _ in sweep.OPTIMISERS)
    dev = jax.devices()[0]
    print(f"device: {dev.platform} {getattr(dev, 'device_kind', '')}; jax {jax.__version__}; "
          f"numpy {np.__version__}; float64; cpus {os.cpu_count()}")
    print(f"sweep {size}: d = {s['dim']}, {len(s['batch'])} batch sizes, {grid} (lr, momentum) grid points "
          f"over 3 optimisers, max_steps {s['max_steps']}, {s['chains']} chains", flush=True)
    # The whole check first (compilation included): the goal's figure, printed as soon as it is
    # known, so that a run cut at a time limit still has it; then the tuning alone, already compiled.
    start = time.perf_counter()
    rows = list(sweep.steps_vs_batch(Context(quick=quick)))
    total_s = time.perf_counter() - start
    print(f"whole check (tuning + Monte Carlo + rows, compilation included): {total_s:.1f} s; "
          f"{sum(r.passed for r in rows)}/{len(rows)} rows pass", flush=True)
    for r in rows:
        print(f"  {'PASS' if r.passed else 'FAIL'}  {r.label}: predicted {r.prediction}, measured "
              f"{r.measurement}, error {r.error:.3g} (tolerance {r.tolerance:.3g})")
    start = time.perf_counter()
    for _, betas, power in sweep.OPTIMISERS:
        tuned_steps_to_target(s["batch"], s["fractions"], betas, power, h, h, 1.0, target,
                                        s["max_steps"])
    print(f"exact-moment tuning alone, run again (compiled): {time.perf_counter() - start:.1f} s", flush=True)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", type=int, default=8)
    ap.add_argument("--chains", type=int, default=256)
    ap.add_argument("--dims", type=int, default=1000)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sweep", choices=("quick", "full"), help="time the tuned steps-vs-batch sweep instead")
    args = ap.parse_args(argv)
    if args.sweep:
        return time_sweep(args.sweep)
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
