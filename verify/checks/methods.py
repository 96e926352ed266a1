"""Methods derived by ``analytic.linear_method``: measured contraction vs derived radius.

The QHM check is written with :func:`verify.claims.linear_method_claim`, the same call a
user makes for their own method: the prediction is the catalogue's derived radius and
worst case, the measurement runs QHM's update written once as a JAX function
(``analytic.methods.qhm_update``, plain arithmetic, fed here JAX arrays) on random
quadratics. The derived iteration matrix is never used on the measurement side.
"""

from __future__ import annotations

import jax

from verify.core import symbolic_only
from verify.claims import linear_method_claim

_MU, _L = 0.5, 4.0  # eigenvalue interval of the random quadratics (kappa = 8)


def qhm_step(state, grad, alpha, beta, nu):
    """One QHM step (Ma and Yarats 2019, arXiv:1810.06801v4), written for JAX arrays."""
    theta, g = state
    g = beta * g + (1 - beta) * grad(theta)
    return theta - alpha * ((1 - nu) * grad(theta) + nu * g), g


def _qhm_parameters(key, runs):
    """alpha L in (0.1, 4), beta in (0, 0.95), nu in (0, 1): every root regime, some divergent."""
    ka, kb, kn = jax.random.split(key, 3)
    return {"alpha": jax.random.uniform(ka, (runs,), minval=0.1, maxval=4.0) / _L,
            "beta": jax.random.uniform(kb, (runs,), minval=0.0, maxval=0.95),
            "nu": jax.random.uniform(kn, (runs,), minval=0.0, maxval=1.0)}


qhm_random_quadratics = linear_method_claim(
    "methods.qhm_random_quadratics", radius="methods.qhm_spectral_radius",
    worst_case="methods.qhm_worst_case_rate", step=qhm_step, parameters=_qhm_parameters,
    state_size=2, interval=(_MU, _L), dim=6, runs=48, steps=600, tolerance=0.01)


symbolic_only({
    "methods.qhm_discriminant": "sign of the QHM characteristic polynomial's discriminant (which root "
    "regime): tests/test_methods.py checks it against numpy eigenvalues at 4000 random points",
    "methods.qhm_stability": "the Jury margins of QHM: tests/test_methods.py checks them against the "
    "radius crossing 1; methods.qhm_random_quadratics checks divergence iff radius > 1 by direct runs",
    "methods.qhm_critical_alpha": "the step where a QHM root reaches -1: tests/test_methods.py checks "
    "the radius is 1 there; the same edge is what methods.qhm_random_quadratics' divergence row sees",
})

# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
# Each is a plausible hand-derivation slip that the checks above must catch with a failing
# numeric row: ``python -m verify --mutate methods --quick`` runs them (docs/mutations.md).
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("methods.qhm_spectral_radius", "the other convention of nu (nu <-> 1 - nu)", nu="1 - nu"),
    mistake("methods.qhm_worst_case_rate", "the Hessian of x^T A x for 1/2 x^T A x (mu, L doubled)",
            mu="2*mu", L="2*L"),
)
