"""Architectures in the blocked, streamed and matrix-free paths (issue 27, "Cost that scales").

``sharded_fc_kernels``, ``stream_fc_kernels``, ``kernel_matvec`` and ``matrix_free_mean`` take
``architecture=kernels.serial(...)`` instead of the fully-connected arguments. The kernel of a
pair depends only on its two inputs, so a block of rows (and columns) is the architecture's
``.kernels`` of those rows; for K(X, X) each point's own kernel comes from the symmetric engine
(coincident cosines exactly 1, as the full ``.kernels(x)`` has them). Tolerance: 1e-13
relative (round-off, float64: the blocks run the same per-layer maps, only the input Gram's
dot products and, in mat-vecs, the sums are ordered differently; ~4e-16 seen). Over four
simulated devices: ``tests/test_scale_out.py``'s worker.
"""

from __future__ import annotations

import numpy as np
import pytest
from jax import monitoring

from analytic import kernels as K

ROUND_OFF = 1e-13  # relative, float64 (module docstring)


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def _networks():
    pooled = K.serial(K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.GlobalAvgPool(), K.Dense(1.2, 0.1))
    flattened = K.serial(K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.Flatten(), K.Dense(1.4, 0.1))
    return {"pooled": pooled, "flattened": flattened}


def _signals(n, seed):
    return np.random.default_rng(seed).standard_normal((n, 8, 2))  # 8 positions, 2 channels


def _lowered(f):
    """(f(), the number of programs lowered to XLA while it ran: each distinct compiled program of
    the call; one already in the in-memory cache is not counted, a persistent-cache hit is)."""
    lowered = []

    def listen(event, duration, **_):
        if event == "/jax/core/compile/jaxpr_to_mlir_module_duration":
            lowered.append(event)

    monitoring.register_event_duration_secs_listener(listen)
    try:
        return f(), len(lowered)
    finally:
        monitoring.unregister_event_duration_listener(listen)


@pytest.mark.parametrize("name", ["pooled", "flattened"])
def test_every_scalable_path_of_an_architecture_equals_its_kernels(name):
    net = _networks()[name]
    x, x_test = _signals(10, 0), _signals(4, 1)
    full, cross = net.kernels(x), net.kernels(x, x_test)
    blocked = K.sharded_fc_kernels(x, None, architecture=net, mesh=1, block_rows=3)  # 4 blocks, one padded
    out = (np.zeros((10, 4)), np.zeros((10, 4)))
    K.stream_fc_kernels(x, x_test, architecture=net, sink=out, mesh=1, block_rows=3)
    for a, b, c, d in zip(blocked, full, out, cross):
        assert _rel(a, b) <= ROUND_OFF and _rel(c, d) <= ROUND_OFF
    # control: the comparison sees a block of the wrong rows (one row off: 1e-2 and more)
    assert _rel(np.roll(np.asarray(blocked.ntk), 1, axis=0), full.ntk) > 1e3 * ROUND_OFF
    ntk, ntk_test = np.asarray(full.ntk), np.asarray(cross.ntk).T  # references in numpy: no compiles
    v = np.arange(10.0) - 4  # a vector, as matrix_free_mean multiplies: the same compiled product
    assert _rel(K.kernel_matvec(x, None, v, architecture=net, mesh=1, block=4), ntk @ v) <= ROUND_OFF
    y = np.sin(x[:, 0, 0])
    free, lowered = _lowered(lambda: K.matrix_free_mean(
        x, y, x_test, [0.5, np.inf], architecture=net, iterations=30, tol=1e-14, mesh=1,
        block=4))  # Lanczos stops at the Krylov space's end (k = N); CG to 1e-14 in <= 3N steps
    lam, q = np.linalg.eigh(ntk)  # gradient flow from f_0 = 0: f_t(x) = Theta(x, X) (1 - e^{-Theta t}) Theta^-1 Y
    flow = ntk_test @ (q @ (-np.expm1(-lam * 0.5) / lam * (q.T @ y)))
    # Lanczos at k = N and CG to 1e-14: conditioning of T_k and of the NTK, 1e-8 as in tests/test_scale_out.py
    assert _rel(free.test[0], flow) <= 1e-8
    assert _rel(free.test[1], ntk_test @ np.linalg.solve(ntk, y)) <= 1e-8
    # Compiled programs per call: the cross product and its input layout (the product over x_train
    # is kernel_matvec's, above), Lanczos 2, CG 4, outputs 2, the mode error 1, inputs <= 2: <= 14.
    # The eager glue of before lowered 38 per call (FC network, 2026-12-08).
    assert lowered <= 14, lowered


def test_architecture_and_fc_arguments_are_exclusive():
    net = _networks()["flattened"]
    x = _signals(4, 5)
    with pytest.raises(ValueError, match="together with the fully-connected arguments .*'depth': 2"):
        K.sharded_fc_kernels(x, None, 2, architecture=net, mesh=1)
    with pytest.raises(ValueError, match="'parameterization': 'ntk'"):
        K.kernel_matvec(x, None, np.ones(4), parameterization="ntk", architecture=net, mesh=1)
    with pytest.raises(TypeError, match="missing: activation, sigma_w, sigma_b"):
        K.stream_fc_kernels(x.reshape(4, -1), None, 2, sink=lambda *a: None, mesh=1)
    with pytest.raises(TypeError, match="missing: depth, activation, sigma_w, sigma_b"):
        K.matrix_free_mean(x, np.ones(4), None, [1.0], mesh=1)
    with pytest.raises(TypeError, match="architecture must be a kernels.serial"):
        K.kernel_matvec(x, None, np.ones(4), architecture=[K.Dense(1, 0)], mesh=1)
    with pytest.raises(ValueError, match="x2 has shape"):  # validated by the architecture, once
        K.sharded_fc_kernels(x, _signals(4, 6)[:, :5], architecture=net, mesh=1)


def test_an_fc_architecture_runs_the_fc_path_and_inputs_are_prepared_once():
    from analytic.kernels._blocked import ArchitectureSpec, prepare_network
    fc = K.serial(K.Dense(1.4, 0.1), K.Activation("relu"), K.Dense(1.4, 0.1), K.Activation("relu"), K.Dense(1.4, 0.1))
    x = np.ones((3, 2))
    *_, symmetric, spec = prepare_network(x, None, fc)
    assert symmetric and spec == (2, "relu", "ntk", None)  # the tuple of sharded_fc_kernels(x, None, 2, "relu", ...)
    *_, spec = prepare_network(np.ones((3, 8, 2)), None, _networks()["pooled"])
    assert isinstance(spec, ArchitectureSpec) and spec.table == ()  # closed-form duals only
