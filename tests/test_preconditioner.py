"""The pivoted Cholesky factor, preconditioned CG and the disk-cached kernel
(``analytic/kernels/_preconditioner.py``, ``_disk.py``).

Every comparison is against the dense kernel of ``fc_kernels`` in float64. Tolerances: the
factor at full rank reproduces K to round-off (1e-9 of its largest entry: n = 60 steps of
O(n) updates, each rounding at 1e-16 relative, with the residual floored at 0); the
residual diagonal is an O(k)-term difference of positive numbers (1e-10 absolute). Few
distinct (n, rank) pairs are used: each compiles its own factorisation loop.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analytic import kernels


def _problem(n, d):
    x = jax.random.normal(jax.random.key(0), (n, d))
    y = jnp.sin(x[:, 0]) + 0.5 * x[:, 1]
    return x, y, kernels.fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk


@pytest.fixture(scope="module")
def small():
    """60 points: the full-rank factor."""
    x, y, k = _problem(60, 3)
    return x, y, k, kernels.pivoted_cholesky(x, 60, 2, "relu", 1.4, 0.1)


@pytest.fixture(scope="module")
def larger():
    """300 points and their rank-64 factor (the greedy factor's first r columns are its rank-r one)."""
    x, y, k = _problem(300, 5)
    return x, y, k, kernels.pivoted_cholesky(x, 64, 2, "relu", 1.4, 0.1)


def test_full_rank_factor_is_the_kernel_and_pivots_are_distinct(small):
    x, _, k, low = small
    assert float(jnp.max(jnp.abs(low.factor @ low.factor.T - k))) <= 1e-9 * float(jnp.max(k))
    assert len(set(np.asarray(low.pivots).tolist())) == 60
    nngp = kernels.pivoted_cholesky(x, 200, 2, "erf", 1.4, 0.1, kernel="nngp")  # rank capped at n
    dense = kernels.fc_kernels(x, None, 2, "erf", 1.4, 0.1).nngp
    assert nngp.factor.shape == (60, 60)
    assert float(jnp.max(jnp.abs(nngp.factor @ nngp.factor.T - dense))) <= 1e-9 * float(jnp.max(dense))


def test_low_rank_factor_residual_diagonal_and_greedy_pivots(larger):
    x, _, k, low = larger
    remainder = k - low.factor @ low.factor.T
    np.testing.assert_allclose(low.residual_diagonal, jnp.diag(remainder), rtol=0, atol=1e-10)
    assert float(jnp.min(jnp.linalg.eigvalsh(remainder))) > -1e-9 * float(jnp.max(k))  # K - LL^T is PSD
    assert int(low.pivots[0]) == int(jnp.argmax(jnp.diag(k)))  # the first pivot: the largest diagonal
    # the factor's first column is the kernel column at the first pivot, scaled
    np.testing.assert_allclose(low.factor[:, 0], k[:, low.pivots[0]] / jnp.sqrt(k[low.pivots[0], low.pivots[0]]),
                               rtol=1e-12)
    # each pivot is the largest residual diagonal left by the columns before it
    for r in (1, 5, 20):
        left = jnp.diag(k) - jnp.sum(low.factor[:, :r] ** 2, axis=1)
        assert int(low.pivots[r]) == int(jnp.argmax(left))
    traces = [float(jnp.sum(jnp.diag(k) - jnp.sum(low.factor[:, :r] ** 2, axis=1))) for r in (5, 20, 64)]
    assert traces[0] > traces[1] > traces[2]


def test_preconditioned_cg_converges_faster_and_to_the_solution(larger):
    x, y, k, low = larger
    exact = jnp.linalg.solve(k, y)
    _, _, plain = kernels.kernel_cg(lambda v: k @ v, y, 15)
    pre = kernels.low_rank_preconditioner(low)
    solution, residual, history = kernels.kernel_cg(lambda v: k @ v, y, 15, preconditioner=pre)
    # measured at n = 300: plain 1.5e-2, rank 64 3.6e-5 after 15 steps; require 10x at least
    assert history[-1] < plain[-1] / 10
    np.testing.assert_allclose(residual, y - k @ solution, rtol=0, atol=1e-8)  # recursive = true residual
    solution, _, history = kernels.kernel_cg(lambda v: k @ v, y, 300, tol=1e-12, preconditioner=pre)
    assert history[-1] <= 1e-12
    np.testing.assert_allclose(solution, exact, rtol=1e-6 * float(jnp.max(jnp.abs(exact))))
    scalar = kernels.low_rank_preconditioner(low, shift=float(jnp.mean(low.residual_diagonal)))
    v = jnp.stack([y, jnp.ones(300)], axis=1)  # P^-1 of the scalar form, against the dense inverse
    dense = low.factor @ low.factor.T + float(jnp.mean(low.residual_diagonal)) * jnp.eye(300)
    np.testing.assert_allclose(scalar(v), jnp.linalg.solve(dense, v), rtol=1e-8)


def test_matrix_free_mean_with_the_preconditioner_matches_the_dense_solve(small):
    x, y, k, _ = small
    free = kernels.matrix_free_mean(x, y, x[:7], jnp.array([jnp.inf]), depth=2, activation="relu", sigma_w=1.4,
                                    sigma_b=0.1, iterations=5, mesh=1, block=32, preconditioner_rank=60)
    # rank n: P = K + D with D at round-off, so CG is done in ~1 step
    assert free.cg_residual[-1] < 1e-8
    np.testing.assert_allclose(free.test[0], k[:7] @ jnp.linalg.solve(k, y), rtol=0, atol=1e-7)


def test_bad_ranks_and_shifts_are_rejected():
    x, _, _ = _problem(10, 2)
    with pytest.raises(ValueError, match="rank = 0"):
        kernels.pivoted_cholesky(x, 0, 2, "relu", 1.4, 0.1)
    with pytest.raises(ValueError, match="kernel = 'cov'"):
        kernels.pivoted_cholesky(x, 3, 2, "relu", 1.4, 0.1, kernel="cov")
    with pytest.raises(ValueError, match="preconditioner_rank = -1"):
        kernels.matrix_free_mean(x, x[:, 0], None, [jnp.inf], depth=1, activation="relu", sigma_w=1.0,
                                 sigma_b=0.0, mesh=1, preconditioner_rank=-1)
    low = kernels.LowRankFactor(jnp.ones((10, 1)), jnp.zeros(1, jnp.int32), jnp.zeros(10))
    with pytest.raises(ValueError, match="shift = 0"):
        kernels.low_rank_preconditioner(low, shift=0.0)


def test_quadrature_kernels_are_symmetric_so_their_factor_is_exact():
    """The Gauss-Hermite pair rule integrates one variable outside: without a fixed order of
    (k11, k22), K(x_i, x_j) and K(x_j, x_i) differed by the quadrature error (3.5e-3 absolute
    here, found by this factor), and a full-rank factor could not reproduce K."""
    x = jax.random.normal(jax.random.key(0), (30, 3))
    k = kernels.fc_kernels(x, None, 2, "tanh", 1.4, 0.1).ntk
    np.testing.assert_allclose(k, k.T, rtol=1e-14)  # the input Gram's two dot products differ in an ulp
    low = kernels.pivoted_cholesky(x, 30, 2, "tanh", 1.4, 0.1)
    assert float(jnp.max(jnp.abs(low.factor @ low.factor.T - k))) <= 1e-9 * float(jnp.max(k))


def test_a_kernel_cached_on_disk_gives_the_products_and_a_cg_solve(small, tmp_path):
    x, y, k, low = small
    disk = kernels.cache_kernel(tmp_path / "ntk.npy", x, 2, "relu", 1.4, 0.1, mesh=1, block_rows=16, rows=32)
    # the same per-layer maps row by row (K_ij and K_ji from two dot products: round-off)
    np.testing.assert_allclose(np.load(tmp_path / "ntk.npy"), k, rtol=1e-12)
    v = np.stack([np.asarray(y), np.ones(60)], axis=1)
    np.testing.assert_allclose(disk(v), np.asarray(k) @ v, rtol=1e-13)  # summation order only
    solution, _, history = kernels.kernel_cg(disk, y, 5, tol=1e-10, preconditioner=kernels.low_rank_preconditioner(low))
    assert history[-1] <= 1e-10
    nngp = kernels.cache_kernel(tmp_path / "nngp.npy", x, 2, "relu", 1.4, 0.1, kernel="nngp", mesh=1)
    np.testing.assert_allclose(np.load(tmp_path / "nngp.npy"), kernels.fc_kernels(x, None, 2, "relu", 1.4, 0.1).nngp,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="v must be"):
        nngp(np.ones(3))
    with pytest.raises(ValueError, match="rows = 0"):
        kernels.DiskKernel(tmp_path / "ntk.npy", rows=0)
    np.save(tmp_path / "flat.npy", np.ones(4))
    with pytest.raises(ValueError, match="need a square"):
        kernels.DiskKernel(tmp_path / "flat.npy")
