r"""Scaling from nearest neighbours: 1-NN and k-NN regression on a flat data torus.

Data uniform on a flat $d$-torus of volume $V$ (intrinsic dimension $d$, whatever the
dimension it is embedded in), a smooth target $f$. sympy derives:

* ``_distances``: the unit-ball volume $V_d$; the nearest-neighbour distance law
  $E r^p \to \Gamma(1 + p/d)(V/(n V_d))^{p/d}$ (exact at finite $n$ up to wrap-around:
  :func:`finite_n_factor`); the moments $E u_1^{2m}$ of a uniform direction.
* ``_errors``: the noise-free 1-NN squared error
  $E|\nabla f|^2\,\Gamma(1 + 2/d)\,(V/(n V_d))^{2/d}/d \propto n^{-2/d}$ (the issue's constant,
  confirmed); with label noise of variance $\sigma^2$ the 1-NN error floors at $\sigma^2$
  against clean targets and $2\sigma^2$ against noisy test labels; the k-NN error
  (noise $\sigma^2/k$, first-order scatter, curvature bias squared) whose optimal $k$
  gives the rate $n^{-4/(d+4)}$ for a twice-differentiable target on a torus (no
  boundary): *not* the Lipschitz-class rate $n^{-2/(d+2)}$ the issue quotes, which is
  what a target whose first-order bias does not average out gets; and the $4/d$ of
  Sharma & Kaplan (arXiv:2004.10802v1): a piecewise-linear model with $N$ cells has
  squared error $\propto N^{-4/d}$.

Example:
    >>> from analytic import knn
    >>> knn.unit_ball_volume.expr
    pi**(manifold_dim/2)/gamma(manifold_dim/2 + 1)
    >>> float(knn.one_nn_error(grad_sq=1.0, n_samples=100.0, manifold_dim=1, volume=1.0))  # r ~ Exp(mean 1/200)
    5e-05
"""

from analytic._registry import Formulas
from analytic.knn import _distances, _errors
from analytic.knn._distances import finite_n_factor
from analytic.knn._errors import knn_optimal_error

__all__ = ["FORMULAS", "finite_n_factor", "knn_optimal_error"]

FORMULAS = Formulas.merge(_distances.FORMULAS, _errors.FORMULAS)
FORMULAS.publish(globals())
