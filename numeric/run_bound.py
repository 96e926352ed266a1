"""Compiler options for the few programs whose running, not their compilation, is the cost.

Quick runs and the tests ask XLA's CPU backend for optimisation level 0 (verify/compile_speed.py):
most of their programs run for milliseconds and compile for seconds. A program that draws tens of
millions of random normals (the weights of wide random networks) is the other kind: at level 0
its threefry bits run ~4.5x slower (measured on this CPU: 4M float32 normals in 0.77 s of CPU at
level 0, 0.17 s at level 3, for 0.3 s more compilation). :data:`RUN_BOUND` asks for XLA's default
level 3 for one program (``jax.jit(..., compiler_options=RUN_BOUND)``); it changes no global
setting, and values agree with level 0 to round-off, as compile_speed.py says of the two levels.

Which programs: the random-number generators of wide random networks (``numeric._draws``,
``numeric.mlp``'s Monte Carlo NNGP, ``numeric.architectures.kernel_draws``), the NQM's noisy chains,
the depth sweep's training, and the training loops that run thousands of small steps: ``numeric.eos``'s
edge-of-stability runs, ``numeric.parameterisation``'s width sweeps, ``numeric.width``'s
fluctuation chunks and ``numeric.normalization``'s minibatch and sphere runs. Measured per check, CPU seconds with a cold compilation cache, the program at
level 0 -> level 3 (2026-12-07, this 2-core CPU): eos.gd_edge 18.9 -> 14.4,
parameterisation.max_learning_rate 12.7 -> 9.6, width.init_fluctuations 10.9 -> 8.2,
kernels.architectures 23.5 -> 18.0, the normalization family 19.0 -> 17.7 (two pairs, alternated); numeric.mlp's ensemble training was tried and kept at level 0
(kernels.infinite_width_training 10.9 -> 11.9).
"""

from __future__ import annotations

RUN_BOUND = {"xla_backend_optimization_level": 3}

__all__ = ["RUN_BOUND"]
