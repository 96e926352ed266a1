"""Compile fast where compiling is most of the work: quick runs on a CPU.

A quick run is compile-bound: most of its programs run for milliseconds, once or a few times,
and XLA spends far longer optimising them than running them. XLA's CPU backend optimises its
generated code at LLVM level 3 by default; ``--xla_backend_optimization_level=0`` skips those
passes. Matrix products, factorisations and convolutions call precompiled library kernels either
way, so they run as fast; only the loops XLA writes itself run slower. Measured by
``benchmarks/compile_speed.py`` (both settings in one run, fresh compilation caches; numbers in
benchmarks/RESULTS.md).

Values agree with the default level to round-off, not bit for bit (the optimised code evaluates
some elementwise functions and fused expressions differently): on float64 kernels of depth 10 and
a 500-step scan the largest difference was 4e-15 relative to the largest entry, and fast-math stays
off at both levels. No tolerance depends on the level; the test suite runs at level 0.

Only the entry points call :func:`prefer_fast_compilation` (``python -m verify --quick`` on a
CPU, the tests): library modules never change XLA's or JAX's settings. A level already given in
``XLA_FLAGS`` wins, so ``XLA_FLAGS=--xla_backend_optimization_level=3`` restores XLA's default.
The exception: the few programs whose running, not their compilation, is the cost (drawing the
weights of wide random networks, the NQM's noisy chains, the depth sweep's training;
:data:`numeric.run_bound.RUN_BOUND` lists why) ask for level 3 themselves through
``jax.jit(..., compiler_options=...)``, whatever ``XLA_FLAGS`` says.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

FLAG = "--xla_backend_optimization_level"
FAST_COMPILATION = f"{FLAG}=0"


def accelerator_visible(environ: MutableMapping[str, str] | None = None) -> bool:
    """An NVIDIA GPU or a TPU on this machine, or ``JAX_PLATFORMS`` naming one first (without
    starting JAX's backends, which would read ``XLA_FLAGS`` too early)."""
    environ = os.environ if environ is None else environ
    platforms = environ.get("JAX_PLATFORMS", "")
    if platforms:
        return platforms.split(",")[0].strip() not in ("", "cpu")
    return os.path.exists("/dev/nvidia0") or os.path.exists("/dev/accel0")


def prefer_fast_compilation(environ: MutableMapping[str, str] | None = None) -> bool:
    """Add ``--xla_backend_optimization_level=0`` to ``XLA_FLAGS`` unless a level is set there.

    Call it before JAX starts a backend (before the first ``jax.devices()`` or computation):
    XLA reads ``XLA_FLAGS`` once, when the first backend starts. Returns whether the flag is in
    effect afterwards (False where the caller's own level was kept).
    """
    environ = os.environ if environ is None else environ
    flags = environ.get("XLA_FLAGS", "")
    if FLAG in flags:
        return FAST_COMPILATION in flags.split()
    environ["XLA_FLAGS"] = f"{flags} {FAST_COMPILATION}".strip()
    return True
