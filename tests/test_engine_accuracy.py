"""float64 to the last digits for the spectral radii of momentum, qhm and games (issue 32).

Truth: the iteration matrix built HERE from each method's update rule, applied in mpmath
(60 digits) to the basis vectors, and the largest root modulus of its characteristic
polynomial (2x2: trace and determinant, the larger root, which has no cancellation; 4x4:
``mpmath.eig``). Nothing on this side calls the sympy derivation under test.

Bound: with $f$ the true radius and
$s = |f| + \\sum_i |x_i\\,\\partial f/\\partial x_i| + \\sum_{jk} |M_{jk}\\,\\partial f/\\partial M_{jk}|$
(derivatives by a relative step of 1e-30 at 60 digits, over the inputs $x_i$, the entries
of the iteration matrix $M$ and, for 2x2, the coefficients $(b, c)$ of its characteristic
polynomial), the float64 result must satisfy $|\\hat f - f| \\le 16\\,\\varepsilon\\,s$: 16 ulps
times the componentwise condition number of the radius with respect to the inputs and to
what it is computed from (a handful of roundings in the inputs' products, the coefficients,
the scaled discriminant and its root; $s$ is infinite at a double root, where the radius is
not differentiable). ``inf`` (or NaN, which the keyword call refuses with a clear error) only
where the truth exceeds half the largest float64 (b = z1 + z2 can be 2 rho). Inputs run from
1e-300 to 1e300. The matrix and coefficient terms are what evaluating through the
characteristic polynomial costs: where the discriminant is tiny but the radius insensitive
to the inputs (heavy ball at lam -> 0, beta -> 1: roots 1 and beta; qhm at beta = 1: roots 1
and 1 - alpha lam) the rounded b moves the discriminant by eps b^2; a bound in the inputs
alone would need each method's discriminant in factored form (not done).

Run: ``PYTHONPATH=$PWD python -m pytest -q tests/test_engine_accuracy.py``.
"""

from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np
import pytest

import analytic

EPS = np.finfo(np.float64).eps
ULPS = 16  # roundings in the inputs' products, the scaled discriminant, its root, the final scaling
BIG = mp.mpf(np.finfo(np.float64).max)
POSITIVE = (1e-300, 1e-100, 1e-8, 0.3, 1.0, 3.7, 1e8, 1e100, 1e300)
MOMENTUM = (0.0, 0.3, 0.9, 1 - 2.0**-40)
GAME_SCALES = (1e-300, 1e-8, 1.0, 3.7, 1e8, 1e300)  # 4x4 eigenvalues at 60 digits cost more: fewer points


def _matrix(step, n):
    """The matrix of the linear map ``step`` (a list of n mpmath numbers -> list), column by column."""
    columns = [step([mp.mpf(int(i == j)) for i in range(n)]) for j in range(n)]
    return mp.matrix([[columns[j][i] for j in range(n)] for i in range(n)])


def _radius_from(t, d):
    """max |root| of z^2 - t z + d (the larger root: no cancellation)."""
    root = mp.sqrt(t * t - 4 * d)  # complex where negative
    return max(abs(t + root), abs(t - root)) / 2


def _radius_of(M):
    if M.rows == 2:
        return _radius_from(M[0, 0] + M[1, 1], M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0])
    return max(abs(e) for e in mp.eig(M, left=False, right=False))


# Update rules on one mode (gradient lam x), written here independently of analytic/.
def heavy_ball(alpha, beta, lam):
    return lambda s: [s[0] - alpha * lam * s[0] + beta * (s[0] - s[1]), s[0]]


def nesterov(alpha, beta, lam):
    def step(s):
        y = s[0] + beta * (s[0] - s[1])
        return [y - alpha * lam * y, s[0]]
    return step


def qhm(alpha, beta, nu, lam):
    def step(s):  # Ma and Yarats 2019, arXiv:1810.06801v4, sec. 3: state (theta, g)
        g = beta * s[1] + (1 - beta) * lam * s[0]
        return [s[0] - alpha * ((1 - nu) * lam * s[0] + nu * g), g]
    return step


def _game(method, eta, sigma, mu=0):
    """One step on mu/2 x^2 + sigma x y - mu/2 y^2 (bilinear at mu = 0): x descends, y ascends."""
    gx = lambda x, y: mu * x + sigma * y  # noqa: E731
    gy = lambda x, y: sigma * x - mu * y  # noqa: E731

    def step(s):
        x, y = s[0], s[1]
        if method == "simultaneous_gda":
            return [x - eta * gx(x, y), y + eta * gy(x, y)]
        if method == "alternating_gda":
            x_new = x - eta * gx(x, y)
            return [x_new, y + eta * gy(x_new, y)]
        if method == "extragradient":
            xh, yh = x - eta * gx(x, y), y + eta * gy(x, y)
            return [x - eta * gx(xh, yh), y + eta * gy(xh, yh)]
        xp, yp = s[2], s[3]  # optimistic GDA, state (x, y, x_prev, y_prev)
        return [x - 2 * eta * gx(x, y) + eta * gx(xp, yp), y + 2 * eta * gy(x, y) - eta * gy(xp, yp), x, y]
    return step


def _truth(rule, n, values):
    """(radius, sensitivity s) at 60 digits for the update ``rule(*values)``."""
    with mp.workdps(60):
        exact = [mp.mpf(v) for v in values]
        f = _radius_of(_matrix(rule(*exact), n))
        h = mp.mpf(10) ** -30
        s = abs(f)
        for i, v in enumerate(exact):
            if v == 0:
                continue
            moved = list(exact)
            moved[i] = v * (1 + h)
            s += abs(_radius_of(_matrix(rule(*moved), n)) - f) / h
        M = _matrix(rule(*exact), n)
        for j, k in itertools.product(range(n), range(n)):
            if M[j, k] == 0:
                continue
            moved = M.copy()
            moved[j, k] = M[j, k] * (1 + h)
            s += abs(_radius_of(moved) - f) / h
        if n == 2:  # the coefficients (b, c) = (trace, det) the radius is evaluated from
            t, d = M[0, 0] + M[1, 1], M[0, 0] * M[1, 1] - M[0, 1] * M[1, 0]
            s += abs(_radius_from(t * (1 + h), d) - f) / h + abs(_radius_from(t, d * (1 + h)) - f) / h
        return f, s


def _check(formula, rule, n, names, grid):
    """Compare ``formula.jax`` (what the keyword call evaluates) at every point of ``grid``. A NaN
    (the keyword call refuses it with a ValueError naming the over/underflow) passes only where
    the truth overflows, like inf: an intermediate 0 * inf there, e.g. nu alpha lam at nu = 0."""
    points = list(grid)
    # One scalar call per point (Python floats, as the keyword call passes them): the program
    # tests/test_catalogue_properties.py and tests/test_accuracy.py compile for each Formula, not
    # one more per grid size; the values are f.jax's float64 results at the same points.
    order = [names.index(p.name) for p in formula.params]
    got = np.array([float(formula.jax(*(float(point[i]) for i in order))) for point in points])
    failures = []
    for value, point in zip(got, points):
        truth, scale = _truth(rule, n, point)
        if truth > BIG / 2:  # b = z1 + z2 reaches 2 rho: above BIG/2 the coefficient itself may overflow
            if truth <= BIG and np.isfinite(value) and abs(mp.mpf(float(value)) - truth) <= ULPS * EPS * scale:
                continue
            if not (np.isinf(value) or np.isnan(value)):
                failures.append((point, value, truth, "true value overflows, expected inf"))
        elif np.isnan(value) and ULPS * EPS * scale >= truth:
            continue  # condition number >= 1/(16 eps): no digit is determined; refused, not silent
        elif not np.isfinite(value) or abs(mp.mpf(float(value)) - truth) > ULPS * EPS * scale:
            failures.append((point, value, mp.nstr(truth, 17), mp.nstr(scale / max(truth, mp.mpf(1e-320)), 3)))
    assert not failures, f"{formula.name}: {len(failures)} of {len(points)} off, e.g. {failures[:4]}"
    return len(points)


@pytest.mark.parametrize("name, rule", [("momentum.heavy_ball_spectral_radius", heavy_ball),
                                        ("momentum.nesterov_spectral_radius", nesterov)])
def test_momentum_radius_to_the_last_digits(name, rule):
    grid = itertools.product(POSITIVE, MOMENTUM, (0.0, *POSITIVE))
    assert _check(analytic.get(name), rule, 2, ("alpha", "beta", "lam"), grid) == 360


def test_qhm_radius_to_the_last_digits():
    grid = itertools.product(POSITIVE, (0.0, 0.9, 1.0), (0.0, 0.4, 1.0), (0.0, 1e-300, 1e-8, 1.0, 1e8, 1e300))
    assert _check(analytic.get("methods.qhm_spectral_radius"), qhm, 2,
                  ("alpha", "beta", "nu", "lam"), grid) == 9 * 3 * 3 * 6


GAMES = ("simultaneous_gda", "alternating_gda", "extragradient", "optimistic_gda")


@pytest.mark.parametrize("method", GAMES)
def test_game_radius_to_the_last_digits(method):
    n = 4 if method == "optimistic_gda" else 2
    rule = lambda eta, sigma: _game(method, eta, sigma)  # noqa: E731
    grid = itertools.product(POSITIVE, (1e-300, 1.0, 1e300))
    _check(analytic.get(f"games.{method}_radius"), rule, n, ("eta", "sigma"), grid)


@pytest.mark.parametrize("method", GAMES)
def test_monotone_game_radius_to_the_last_digits(method):
    n = 4 if method == "optimistic_gda" else 2
    rule = lambda eta, mu, sigma: _game(method, eta, sigma, mu)  # noqa: E731
    grid = itertools.product(GAME_SCALES, (1e-300, 0.5, 1e300), (1e-300, 1.0, 1e300))
    _check(analytic.get(f"games.{method}_monotone_radius"), rule, n, ("eta", "mu", "sigma"), grid)


def test_the_bound_catches_an_overflowing_form():
    """Negative control: the plain radius (the Formula's expr, not its scaled evaluation form)
    overflows at alpha = 1e300 and fails the same comparison."""
    import dataclasses

    formula = analytic.get("momentum.heavy_ball_spectral_radius")
    plain = dataclasses.replace(formula, evaluate_as=None)
    grid = [(1e300, 0.5, 1.0), (1e200, 0.0, 1.0)]
    with pytest.raises((AssertionError, ValueError)):
        _check(plain, heavy_ball, 2, ("alpha", "beta", "lam"), grid)
    assert _check(formula, heavy_ball, 2, ("alpha", "beta", "lam"), grid) == 2
