"""Time fc_kernels(N=256, depth 3, tanh): the default quadrature rule vs 64-node Gauss-Hermite.

    PYTHONPATH=$PWD python benchmarks/quadrature_default_cost.py [N]

Prints the seconds of a second (compiled) call for each and their ratio (run both in the same
process: on a shared machine only the ratio is meaningful).
"""

import sys
import time

import jax
import jax.numpy as jnp

from analytic import kernels


def seconds(x, order):
    kernels.fc_kernels(x, None, 3, "tanh", 1.5, 0.1, order=order).ntk.block_until_ready()  # compile
    start = time.perf_counter()
    kernels.fc_kernels(x, None, 3, "tanh", 1.5, 0.1, order=order).ntk.block_until_ready()
    return time.perf_counter() - start


def main():
    jax.config.update("jax_enable_x64", True)
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 256
    x = jax.random.normal(jax.random.key(0), (n, 8), jnp.float64)
    old, new = seconds(x, 64), seconds(x, None)
    print(f"N={n} depth 3 tanh: Gauss-Hermite 64 nodes {old:.2f} s, default rule {new:.2f} s, ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
