"""analytic.knn against stated forms and quadrature; numeric.knn's input checks and small cases."""

import math

import jax
import numpy as np
import pytest
import scipy.integrate
import sympy as sp

from analytic import knn
from analytic.knn._symbols import grad_sq, label_noise, laplacian_sq, manifold_dim, n_samples, neighbours, volume
from numeric import knn as sim


def test_unit_ball_volume_known_values():
    assert [knn.unit_ball_volume.expr.subs(manifold_dim, d) for d in (1, 2, 3)] == [2, sp.pi, 4 * sp.pi / 3]
    np.testing.assert_allclose(np.asarray(knn.unit_ball_volume(manifold_dim=[1, 2, 3, 6])),
                               [2, math.pi, 4 * math.pi / 3, math.pi**3 / 6], rtol=1e-14)


@pytest.mark.parametrize("d, n, p", [(1, 5, 2.0), (2, 50, 2.0), (3, 20, 4.0), (6, 200, 2.0)])
def test_finite_n_moment_by_quadrature(d, n, p):
    """E r^p = int p s^(p-1) (1 - V_d s^d / V)^n ds (no wrap-around: V large), against the Formula x factor."""
    big = 1e3  # torus volume: the support of the law (V/V_d)^(1/d) stays below half a period
    ball = math.pi ** (d / 2) / math.gamma(d / 2 + 1)
    top = (big / ball) ** (1 / d)
    value, _ = scipy.integrate.quad(lambda s: p * s ** (p - 1) * (1 - ball * s**d / big) ** n, 0, top,
                                    epsabs=0, epsrel=1e-12, limit=200)
    predicted = float(knn.nn_distance_moment(n_samples=float(n), manifold_dim=d, volume=big, power=p)) \
        * float(knn.finite_n_factor(n, d, p))
    assert predicted == pytest.approx(value, rel=1e-9)  # quadrature error ~1e-12 relative


def test_finite_n_factor_tends_to_one():
    a = 2 / 3
    np.testing.assert_allclose(knn.finite_n_factor([1e6, 1e9], 3, 2.0), 1 - a * (1 + a) / (2 * np.array([1e6, 1e9])),
                               rtol=1e-11)  # Stirling: 1 - a(a+1)/(2n) + O(1/n^2), O(1/n^2) < 1e-12 here
    assert knn.finite_n_factor(1.0, 2, 2.0) == pytest.approx(0.5)  # Gamma(2) / Gamma(3)
    with pytest.raises(ValueError, match="n must be"):
        knn.finite_n_factor(0.5, 1, 2.0)


def test_sphere_coordinate_moments():
    f = knn.sphere_coordinate_moment.expr
    d = manifold_dim
    assert sp.simplify(f.subs("order", 1) - 1 / d) == 0 or sp.simplify(
        sp.gammasimp(f.subs(sp.Symbol("order", integer=True, positive=True), 1)) - 1 / d) == 0
    np.testing.assert_allclose(np.asarray(knn.sphere_coordinate_moment(manifold_dim=[1, 3, 5], order=2)),
                               [3 / (d * (d + 2)) for d in (1, 3, 5)], rtol=1e-13)


def test_one_nn_error_is_the_issue_constant():
    stated = grad_sq * sp.gamma(1 + 2 / manifold_dim) * (volume / (n_samples * knn.unit_ball_volume.expr)) ** (
        2 / manifold_dim) / manifold_dim
    for d in (1, 2, 5):
        assert sp.simplify((knn.one_nn_error.expr - stated).subs(manifold_dim, d)) == 0
    assert sp.expand(knn.one_nn_error_clean_targets.expr - knn.one_nn_error.expr) == label_noise
    assert sp.expand(knn.one_nn_error_noisy_labels.expr - knn.one_nn_error.expr) == 2 * label_noise


def test_knn_error_at_one_neighbour_and_its_rate():
    at_one = knn.knn_error.expr.subs(neighbours, 1)
    first_order = knn.one_nn_error.expr
    curvature = laplacian_sq * knn.nn_distance_moment.expr.subs("power", 2) ** 2 / (4 * manifold_dim**2)
    for d in (1, 2, 3):
        second = sp.gammasimp(knn.nn_distance_moment.expr.subs(sp.Symbol("power", positive=True), 2))
        curvature = laplacian_sq * second**2 / (4 * manifold_dim**2)
        assert sp.simplify((at_one - label_noise - first_order - curvature).subs(manifold_dim, d)) == 0
    assert knn.knn_rate_exponent.expr == 4 / (manifold_dim + 4)
    error, k = knn.knn_optimal_error(grad_sq=2 * math.pi**2, laplacian_sq=8 * math.pi**4, label_noise=0.1,
                                     n_samples=1e3, manifold_dim=1, volume=1.0)
    assert 1 < k < 400 and 0.1 / k < error < 0.2 / k  # an interior optimum: noise / k plus a positive bias


def test_interpolation_error_constant():
    assert knn.interpolation_error.expr.subs(manifold_dim, 1).subs({volume: 1}) == sp.Symbol(
        "hessian_diag_sq", positive=True) / 120 / sp.Symbol("n_cells", positive=True) ** 4


def test_formulas_evaluate_stably_at_large_volumes():
    big = float(knn.nn_distance_moment(n_samples=1e-300, manifold_dim=30, volume=1e300, power=2.0))
    assert np.isfinite(big) and big > 0


def test_numeric_run_shapes_and_errors():
    run = sim.nearest_neighbour_run(jax.random.key(0), [1, 3], (16, 32), n_test=4, seeds=2, max_neighbours=3)
    assert run.nn_sq_distance.shape == (2, 2, 2) and run.knn_error.shape == (2, 2, 2, 3)
    # noise-free labels: the 1-NN mean equals the clean 1-NN error
    np.testing.assert_allclose(np.asarray(run.knn_error[..., 0]), np.asarray(run.one_nn_error), rtol=1e-12)
    for bad, match in ((dict(dims=[0]), "dims"), (dict(max_neighbours=20), "max_neighbours"),
                       (dict(label_noise=-1.0), "label_noise"), (dict(radius=0.7), "radius")):
        kwargs = dict(dims=[1], n_grid=(16,), n_test=2, seeds=2)
        kwargs.update(bad)
        with pytest.raises(ValueError, match=match):
            sim.nearest_neighbour_run(jax.random.key(0), **kwargs)


def test_interpolation_is_exact_on_grid_points_and_small_for_fine_grids():
    errors = np.asarray(sim.interpolation_errors(jax.random.key(1), [1, 2], [64], n_test=64, seeds=2))
    assert errors.shape == (2, 1, 2)
    # d = 1: mean (h^2 s (1 - s) f''/2)^2 = h^4 (2 pi)^4 / 2 / 120 at h = 1/64: 3.9e-7 (+-30% over 64 points)
    assert np.all(errors[0] < 5.5e-7) and np.all(errors[0] > 2.5e-7)
    with pytest.raises(ValueError, match="cells_per_side"):
        sim.interpolation_errors(jax.random.key(1), [1], [1])
