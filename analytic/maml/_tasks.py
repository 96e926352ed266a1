r"""The MAML meta-gradient of a quadratic task in several dimensions (a composite, numpy float64).

Support loss $\tfrac12(\theta - a)^\top H^s(\theta - a)$, query loss
$\tfrac12(\theta - b)^\top H^q(\theta - b)$ (symmetric $H^s, H^q$ that need not commute). $k$
inner steps give $\theta_k = a + M(\theta - a)$ with $M = (I - \eta H^s)^k$, and the chain rule
gives the meta-gradient $M^\top H^q(\theta_k - b) = \prod_{j=1}^k (I - \eta H^s)\,H^q(\theta_k - b)$;
first-order MAML keeps $H^q(\theta_k - b)$. In the eigenbasis of commuting $H^s, H^q$ these are
the per-direction Formulas ``maml.adapted``, ``maml.meta_gradient`` and
``maml.first_order_meta_gradient``, which the tests compare on diagonal tasks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["task_meta_gradient"]


def _square(name, value, dim):
    array = np.asarray(value, dtype=float)
    if array.shape != (dim, dim) or not np.all(np.isfinite(array)) or not np.allclose(array, array.T):
        raise ValueError(f"{name} must be a finite symmetric {dim} x {dim} matrix, got shape {array.shape}")
    return array


def task_meta_gradient(theta, support_curvature, support_optimum, query_curvature, query_optimum,
                       learning_rate, inner_steps: int, first_order: bool = False) -> np.ndarray:
    r"""The (first-order, if ``first_order``) MAML meta-gradient of one quadratic task at ``theta``.

    Example:
        >>> import numpy as np
        >>> from analytic import maml
        >>> # one step, H^s = I, eta = 1/2: theta_1 = (theta + a)/2, gradient (1/2) H^q (theta_1 - b)
        >>> maml.task_meta_gradient([2.0, 0.0], np.eye(2), [0.0, 0.0], 2 * np.eye(2), [0.0, 1.0], 0.5, 1).tolist()
        [1.0, -1.0]
    """
    theta = np.asarray(theta, dtype=float)
    if theta.ndim != 1 or not np.all(np.isfinite(theta)):
        raise ValueError(f"theta must be a finite 1-D array, got {theta!r}")
    dim = theta.size
    hs, hq = _square("support_curvature", support_curvature, dim), _square("query_curvature", query_curvature, dim)
    a, b = (np.broadcast_to(np.asarray(v, dtype=float), (dim,)) for v in (support_optimum, query_optimum))
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate!r}")
    if int(inner_steps) != inner_steps or inner_steps < 0:
        raise ValueError(f"inner_steps must be an integer >= 0, got {inner_steps!r}")
    contraction = np.linalg.matrix_power(np.eye(dim) - learning_rate * hs, int(inner_steps))
    adapted = a + contraction @ (theta - a)
    query_gradient = hq @ (adapted - b)
    return query_gradient if first_order else contraction.T @ query_gradient
