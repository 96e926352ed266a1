"""numeric.sharpness: Lanczos on Hessian-vector products against dense eigenvalues."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from numeric.sharpness import hessian_vector_product, sharpness


def _quadratic(w, H):
    return 0.5 * w @ H @ w


def _mlp_loss(p, x, y):
    return 0.5 * jnp.mean((jnp.tanh(x @ p["w1"]) @ p["w2"] - y) ** 2)


def test_top_eigenvalue_of_a_quadratic_and_its_preconditioned_form():
    A = np.random.default_rng(0).normal(size=(30, 30))
    H = A @ A.T
    result = sharpness(_quadratic, jnp.zeros(30), (jnp.asarray(H),), iterations=30)
    # 30 Lanczos steps on a 30-dim problem are exact up to float64 round-off
    assert float(result.eigenvalue) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-12)
    P = np.linspace(1.0, 3.0, 30)
    pre = sharpness(_quadratic, jnp.zeros(30), (jnp.asarray(H),), iterations=30, preconditioner=jnp.asarray(P))
    assert float(pre.eigenvalue) == pytest.approx(np.max(np.linalg.eigvals(H / P[:, None]).real), rel=1e-12)


def test_mlp_sharpness_matches_the_dense_hessian():
    key = jax.random.key(1)
    params = {"w1": jax.random.normal(key, (5, 16)), "w2": jax.random.normal(jax.random.key(2), (16,))}
    x, y = jax.random.normal(key, (20, 5)), jnp.ones(20)
    flat, unravel = ravel_pytree(params)
    dense = jax.jit(jax.hessian(lambda f: _mlp_loss(unravel(f), x, y)))(flat)  # jit: one compile
    hvp = hessian_vector_product(_mlp_loss, params, x, y)
    v = jax.random.normal(jax.random.key(3), flat.shape)
    np.testing.assert_allclose(jax.jit(hvp)(v), dense @ v, rtol=1e-10, atol=1e-12)  # float64 round-off
    result = sharpness(_mlp_loss, params, (x, y), iterations=96)  # 96 = parameter count: exact
    assert float(result.eigenvalue) == pytest.approx(np.linalg.eigvalsh(np.asarray(dense))[-1], rel=1e-9)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        sharpness(_quadratic, jnp.zeros(3), (jnp.eye(3),), iterations=0)
    with pytest.raises(ValueError, match="preconditioner must be positive"):
        sharpness(_quadratic, jnp.zeros(3), (jnp.eye(3),), preconditioner=jnp.array([1.0, 0.0, 1.0]))
