"""Random wide networks' kernels: per-array draws + autodiff NTK vs one draw + layerwise NTK.

Usage: ``python benchmarks/wide_networks.py``. In one process, at XLA's CPU level 3 for these
programs (what ``numeric.run_bound.RUN_BOUND`` asks for), for the 12 architectures that
``kernels.convergence_with_width`` measures at quick size (relu and erf, depth 1 and 3, widths 128,
512 and 2048; 8 inputs of dimension 8): CPU seconds of the first call of each compiled program
(tracing + compilation + one run) and of a second call (the run alone), for

* baseline: every weight and bias drawn by its own ``jax.random.normal`` and the NTK by
  ``numeric.mlp.empirical_ntk`` (one VJP and one JVP per input), what the library did before;
* now: ``numeric.mlp.init_params`` (one draw cut into the layers) and
  ``numeric.mlp.layerwise_ntk`` (two forward and two backward passes).

It also checks that the two NTKs of one network agree to round-off.
"""

from __future__ import annotations

import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from numeric import mlp as sim
from numeric.run_bound import RUN_BOUND


def _per_array_params(key, mlp, in_dim, dtype):
    dims = [in_dim] + [mlp.width] * mlp.depth + [1]
    keys = jax.random.split(key, 2 * (len(dims) - 1))
    return [(jax.random.normal(keys[2 * i], (n_out, n_in), dtype), jax.random.normal(keys[2 * i + 1], (n_out,), dtype))
            for i, (n_in, n_out) in enumerate(zip(dims[:-1], dims[1:]))]


def _programs():
    def baseline(key, mlp, x):
        params = _per_array_params(key, mlp, x.shape[1], jnp.float32)
        return sim.empirical_nngp(mlp, params, x, x), sim.empirical_ntk(mlp, params, x, x)

    def now(key, mlp, x):
        params = sim.init_params(key, mlp, x.shape[1], jnp.float32)
        return sim.empirical_nngp(mlp, params, x, x), sim.layerwise_ntk(mlp, params, x, x)

    return {name: jax.jit(f, static_argnums=1, compiler_options=RUN_BOUND)
            for name, f in (("baseline", baseline), ("now", now))}


def _cpu(f, *args) -> float:
    start = time.process_time()
    jax.block_until_ready(f(*args))
    return time.process_time() - start


def main() -> None:
    jax.config.update("jax_enable_x64", True)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(8, 8)), jnp.float32)
    jax.block_until_ready(jnp.ones(2) + 1)  # start the backend outside the timings
    totals = {name: [0.0, 0.0] for name in ("baseline", "now")}
    for name, program in _programs().items():
        for activation in ("relu", "erf"):
            for depth in (1, 3):
                for width in (128, 512, 2048):
                    mlp = sim.MLP(depth, width, activation, 1.5, 0.1)
                    totals[name][0] += _cpu(program, jax.random.key(0), mlp, x)
                    totals[name][1] += _cpu(program, jax.random.key(1), mlp, x)
    mlp = sim.MLP(3, 256, "erf", 1.5, 0.1)
    params = sim.init_params(jax.random.key(2), mlp, 8, jnp.float64)
    x64 = x.astype(jnp.float64)
    auto, layer = sim.empirical_ntk(mlp, params, x64, x64), sim.layerwise_ntk(mlp, params, x64, x64)
    gap = float(jnp.max(jnp.abs(auto - layer)) / jnp.max(jnp.abs(auto)))
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}; 12 architectures, CPU seconds")
    print(f"{'':10s} {'first calls':>12s} {'second calls':>13s}")
    for name, (first, second) in totals.items():
        print(f"{name:10s} {first:12.1f} {second:13.2f}")
    print(f"first calls baseline / now = {totals['baseline'][0] / totals['now'][0]:.1f}x; "
          f"layerwise vs autodiff NTK (float64, depth 3, width 256): {gap:.1e} relative")
    assert gap < 1e-12 and math.isfinite(gap)


if __name__ == "__main__":
    main()
