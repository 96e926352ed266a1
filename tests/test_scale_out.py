"""Scale-out: sharded kernels, the matrix-free prediction and ensembles over a device mesh.

Each test starts fresh Python processes (the device count is fixed when JAX starts):
``XLA_FLAGS=--xla_force_host_platform_device_count=4`` simulates four CPU devices, and two
processes joined by ``jax.distributed.initialize`` on localhost (CPU collectives: gloo)
form one two-device mesh. Every comparison is against the single-device path computed
in the same process. Tolerances: the kernel rows run the same per-layer maps as
``fc_kernels``, but K_ij and K_ji come from two dot products (equal to within an ulp)
and mat-vec sums are ordered differently, so agreement is to round-off (1e-12
relative in float64); ensembles split over devices compute every member from its
own key, so they agree to round-off too (XLA may vectorise a batch of 2 differently
from a batch of 8); NQM means over chains become all-reduces (summation order).
This file is also the worker script: ``python tests/test_scale_out.py <mode> ...``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUND_OFF = 1e-12  # relative, float64: see the module docstring


def _env(devices: int, compilation_cache: bool = True) -> dict:
    """The workers' environment; ``compilation_cache=False`` drops JAX's persistent cache that
    tests/conftest.py sets (the two jax.distributed processes share it too: tried, 2026-12-07).

    The device count is appended to the parent's ``XLA_FLAGS``, so the workers keep the XLA
    optimisation level the suite runs at (tests/conftest.py: level 0 on a CPU; the 4-device
    worker: 61 -> 44 s of CPU cold), and an earlier device-count flag is replaced.
    """
    flags = [flag for flag in os.environ.get("XLA_FLAGS", "").split()
             if not flag.startswith("--xla_force_host_platform_device_count=")]
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
               XLA_FLAGS=" ".join([*flags, f"--xla_force_host_platform_device_count={devices}"]),
               JAX_PLATFORMS="cpu")
    if not compilation_cache:
        env.pop("JAX_COMPILATION_CACHE_DIR", None)
        env.pop("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", None)
    return env


def _close(a, b, tol=ROUND_OFF, scale=None):
    """max|a - b| <= tol * scale; ``scale`` defaults to max|b| (a relative comparison).

    Pass ``scale`` for a quantity that is round-off by construction (a conserved
    difference of two large terms): its size is set by the terms it is made of, not by
    itself, so it is compared on their scale (a relative comparison of two values of
    1e-16 depends on how XLA orders the sums on a given machine).
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    scale = max(float(np.max(np.abs(b))) if scale is None else float(scale), 1e-300)
    error = float(np.max(np.abs(a - b))) / scale if a.size else 0.0
    assert error <= tol, f"error {error:.3g} > {tol} (on the scale {scale:.3g})"


# Trajectory fields that are differences of W_j-squared terms (zero for a balanced start)
_CANCELLING_FIELDS = ("imbalance", "imbalance_drift")


def _close_runs(sharded, unsharded, weight_scale):
    """Field-by-field agreement of two simulation results (NamedTuples)."""
    for name, a, b in zip(type(unsharded)._fields, sharded, unsharded):
        _close(a, b, scale=weight_scale if name in _CANCELLING_FIELDS else None)


# --- workers (run in subprocesses) --------------------------------------------------------
def _inputs():
    import jax
    x = jax.random.normal(jax.random.key(0), (24, 3))
    return x, jax.random.normal(jax.random.key(1), (6, 3)), np.sin(np.asarray(x[:, 0])) + 0.3 * np.asarray(x[:, 1])


def _ensembles(mesh, which=("mlp", "nqm", "deeplinear")):
    """(mlp ensemble, NQM curves, deep-linear run) with the given mesh (None: unsharded)."""
    import jax
    import jax.numpy as jnp

    from numeric import deeplinear, mlp, nqm
    x, x_test, y = _inputs()
    net = mlp.MLP(1, 8, "relu", 1.4, 0.1)
    ens = mlp.train_ensemble(jax.random.key(3), net, x[:6], jnp.asarray(y[:6]), x_test[:2], 0.1, 4, 6,
                             record_every=2, mesh=mesh)
    if which == ("mlp",):
        return (ens,)
    h = nqm.power_law_spectrum(8)
    curves = nqm.simulate_sweep(jax.random.key(4), h, h, 1.0, [1, 4], 0.5, [0.0, 0.5], steps=5, chains=4,
                                mesh=mesh)
    task = deeplinear.whitened_task(jax.random.key(5), [2.0, 1.0], 3, 3)
    nets = deeplinear.stack_networks([deeplinear.balanced_init(jax.random.key(i), task, 2, 0.1)
                                      for i in range(3)])
    run = deeplinear.train_deep_linear(task, nets, 0.05, 2, 3, mesh=mesh)
    return ens, curves, run


def _squared_weight_scale() -> float:
    """max_j ||W_j||_F^2 of the deep-linear start: the scale of D_j = W_{j+1}^T W_{j+1} - W_j W_j^T."""
    import jax

    from numeric import deeplinear
    task = deeplinear.whitened_task(jax.random.key(5), [2.0, 1.0], 3, 3)
    return max(float(np.max(np.sum(np.asarray(deeplinear.balanced_init(jax.random.key(i), task, 2, 0.1).weights)
                                   ** 2, axis=(-2, -1)))) for i in range(3))


def worker_devices(memmap_dir: str) -> None:
    """Four simulated devices: sharded/streamed/matrix-free/ensembles vs one device."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from analytic import kernels
    assert jax.device_count() == 4
    x, x_test, y = _inputs()
    dense = kernels.fc_kernels(x, None, 2, "relu", 1.4, 0.1)
    k = kernels.sharded_fc_kernels(x, None, 2, "relu", 1.4, 0.1, mesh=4, block_rows=4)
    assert len(k.ntk.sharding.device_set) == 4 and k.ntk.sharding.spec[0] == "batch"
    assert [s.data.shape for s in k.ntk.addressable_shards] == [(6, 24)] * 4
    for a, b in zip(k, dense):
        _close(a, b)
    cross = kernels.sharded_fc_kernels(x, x_test, 2, "tanh", 1.2, 0.0, mesh=4)  # quadrature path
    for a, b in zip(cross, kernels.fc_kernels(x, x_test, 2, "tanh", 1.2, 0.0)):
        _close(a, b)
    # an architecture's rows over the 4 devices (a pooled CNN: all pairs of positions)
    cnn = kernels.serial(kernels.Conv(3, 1.4, 0.1), kernels.Activation("relu"), kernels.GlobalAvgPool(),
                         kernels.Dense(1.2, 0.1))
    signals = x.reshape(12, 3, 2)  # 12 signals, 3 positions, 2 channels
    k = kernels.sharded_fc_kernels(signals, None, architecture=cnn, mesh=4, block_rows=2)
    assert [s.data.shape for s in k.ntk.addressable_shards] == [(3, 12)] * 4
    for a, b in zip(k, cnn.kernels(signals)):
        _close(a, b, 1e-13)  # the same maps per block: round-off (tests/test_architectures_scale.py)
    out = tuple(np.lib.format.open_memmap(os.path.join(memmap_dir, f"{name}.npy"), mode="w+",
                                          shape=(22, 22)) for name in ("nngp", "ntk"))
    kernels.stream_fc_kernels(x[:22], None, 2, "erf", 1.4, 0.1, sink=out, mesh=4, block_rows=2)
    for a, b in zip(out, kernels.fc_kernels(x[:22], None, 2, "erf", 1.4, 0.1)):
        _close(a, b)
    v = jnp.stack([jnp.asarray(y), jnp.ones(24)], axis=1)
    _close(kernels.kernel_matvec(x, None, v, 2, "relu", 1.4, 0.1, mesh=4, block=5), dense.ntk @ v)
    # matrix-free vs dense prediction, full Krylov space (k = N): round-off agreement
    ntk_test = kernels.fc_kernels(x_test, x, 2, "relu", 1.4, 0.1).ntk
    times = jnp.array([0.01, 0.1, 1.0])
    reference = kernels.infinite_width_mean(dense.ntk, ntk_test, jnp.asarray(y), times)
    free = kernels.matrix_free_mean(x, y, x_test, jnp.array([0.01, 0.1, 1.0, jnp.inf]), depth=2,
                                    activation="relu", sigma_w=1.4, sigma_b=0.1, iterations=80, tol=1e-13,
                                    mesh=4, block=5)  # Lanczos stops at the Krylov space's end, k = N
    _close(free.test[:3], reference.test, 1e-8)  # Lanczos at k = N: conditioning of T_k, ~1e-10 seen
    _close(free.train[:3], reference.train, 1e-8)
    _close(free.test[3], ntk_test @ jnp.linalg.solve(dense.ntk, jnp.asarray(y)), 1e-8)  # CG to 1e-13
    # preconditioned CG over the mesh: the rank-8 factor replicated on the 4 devices
    pre = kernels.matrix_free_mean(x, y, x_test, jnp.array([jnp.inf]), depth=2, activation="relu", sigma_w=1.4,
                                   sigma_b=0.1, iterations=80, tol=1e-13, mesh=4, block=5, preconditioner_rank=8)
    _close(pre.test[0], free.test[3], 1e-8)
    # ensembles: 4 devices (seeds 6 and networks 3 padded) vs unsharded
    weight_scale = _squared_weight_scale()
    for sharded, unsharded in zip(_ensembles(4), _ensembles(None)):
        _close_runs(sharded, unsharded, weight_scale)
    print("OK")


def worker_process(port: str, process_id: str) -> None:
    """One of two processes (one CPU device each) forming one two-device mesh."""
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.distributed.initialize(f"localhost:{port}", num_processes=2, process_id=int(process_id))
    from jax.experimental import multihost_utils

    from analytic import kernels
    assert jax.device_count() == 2 and jax.local_device_count() == 1
    x, x_test, y = _inputs()
    k = kernels.sharded_fc_kernels(x, None, 2, "relu", 1.4, 0.1, mesh=2, block_rows=4)
    local = kernels.fc_kernels(x, None, 2, "relu", 1.4, 0.1)  # this process alone (its own device)
    shard, = k.ntk.addressable_shards
    _close(shard.data, local.ntk[shard.index])
    _close(multihost_utils.process_allgather(k.nngp, tiled=True), local.nngp)
    sharded = _ensembles(2, ("mlp",))
    with jax.default_device(jax.local_devices()[0]):
        alone = _ensembles(None, ("mlp",))
    for a_run, b_run in zip(sharded, alone):
        for a, b in zip(a_run, b_run):
            whole = a if a.is_fully_replicated else multihost_utils.process_allgather(a, tiled=True)
            _close(whole, b)
    print("OK")


# --- tests ---------------------------------------------------------------------------------
def _python(*args, devices: int, compilation_cache: bool = True):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), *args],
                            env=_env(devices, compilation_cache), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_four_simulated_devices_agree_with_one(tmp_path):
    proc = _python("devices", str(tmp_path), devices=4)
    output, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0 and output.strip().endswith("OK"), output[-3000:]


def test_two_processes_agree_with_one():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = str(s.getsockname()[1])
    procs = [_python("process", port, str(i), devices=1) for i in range(2)]  # cache: 68 -> 47 s of CPU
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p, output in zip(procs, outputs):
        assert p.returncode == 0 and output.strip().endswith("OK"), output[-3000:]


def test_bad_mesh_and_uneven_rows_are_rejected():
    import jax

    from analytic import kernels
    from numeric import nqm, sharding
    x = jax.random.normal(jax.random.key(0), (6, 2))
    with pytest.raises(ValueError, match="mesh = 99 devices"):
        kernels.sharded_fc_kernels(x, None, 1, "relu", 1.0, 0.0, mesh=99)
    with pytest.raises(TypeError, match="mesh must be"):
        sharding.resolve_mesh("two")
    with pytest.raises(ValueError, match="block_rows = 0"):
        kernels.sharded_fc_kernels(x, None, 1, "relu", 1.0, 0.0, mesh=1, block_rows=0)
    with pytest.raises(ValueError, match="iterations = 0"):
        kernels.matrix_free_mean(x, x[:, 0], None, [1.0], depth=1, activation="relu", sigma_w=1.0,
                                 sigma_b=0.0, iterations=0, mesh=1)
    with pytest.raises(ValueError, match="y_train must have shape"):
        kernels.matrix_free_mean(x, x[:3, 0], None, [1.0], depth=1, activation="relu", sigma_w=1.0,
                                 sigma_b=0.0, mesh=1)
    h = nqm.power_law_spectrum(3)
    if jax.device_count() >= 2:
        with pytest.raises(ValueError, match="chains = 3"):
            nqm.steady_state_loss(jax.random.key(0), h, h, 1.0, 0.5, burn_in=1, steps=1, chains=3, mesh=2)


if __name__ == "__main__":
    {"devices": worker_devices, "process": worker_process}[sys.argv[1]](*sys.argv[2:])
