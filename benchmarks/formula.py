"""Cost of a lambdified Formula vs the same expression hand-written in jnp.

Times, in one run and on one device: ``f.jax`` (jit of the lambdified expression),
a hand-written ``jax.jit`` of the same math, and the checked keyword call ``f(...)``
(which adds range validation on the host). Compile time is measured apart from run
time; each timing is the median of repeated ``block_until_ready`` calls.

    python benchmarks/formula.py [--size N] [--repeat R]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp


def _median_seconds(fn, repeat: int) -> float:
    fn().block_until_ready()  # warm-up (compiles)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn().block_until_ready()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    jax.config.update("jax_enable_x64", True)

    from analytic import linreg

    formula = linreg.gd_mode_error
    hand = jax.jit(lambda eta, lam, t, e0: e0 * (1 - eta * lam) ** t)
    key = jax.random.key(0)
    lam = jax.random.uniform(key, (args.size,), minval=0.0, maxval=2.0)
    e0 = jnp.ones(args.size)
    eta, t = jnp.asarray(0.4), jnp.asarray(7.0)

    start = time.perf_counter()
    formula.jax(eta, lam, t, e0).block_until_ready()
    compile_formula = time.perf_counter() - start
    start = time.perf_counter()
    hand(eta, lam, t, e0).block_until_ready()
    compile_hand = time.perf_counter() - start

    run_formula = _median_seconds(lambda: formula.jax(eta, lam, t, e0), args.repeat)
    run_hand = _median_seconds(lambda: hand(eta, lam, t, e0), args.repeat)
    run_checked = _median_seconds(lambda: formula(eta=eta, lam=lam, t=t, e0=e0), args.repeat)
    assert jnp.allclose(formula.jax(eta, lam, t, e0), hand(eta, lam, t, e0), rtol=1e-14)

    device = jax.devices()[0]
    print(f"device: {device.platform} {getattr(device, 'device_kind', '')}, jax {jax.__version__}, "
          f"float64, N = {args.size}, expression linreg.gd_mode_error = {formula.expr}")
    print(f"first call (trace+compile): formula.jax {compile_formula * 1e3:.1f} ms, "
          f"hand-written {compile_hand * 1e3:.1f} ms (the formula's includes lambdify)")
    print(f"run, median of {args.repeat}: formula.jax {run_formula * 1e3:.3f} ms, "
          f"hand-written {run_hand * 1e3:.3f} ms, ratio {run_formula / run_hand:.3f}")
    print(f"checked keyword call f(...): {run_checked * 1e3:.3f} ms, "
          f"ratio to hand-written {run_checked / run_hand:.3f} (host-side range validation)")


if __name__ == "__main__":
    main()
