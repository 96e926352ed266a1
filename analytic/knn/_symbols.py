"""Symbols of the nearest-neighbour family alone (shared ones are in ``analytic.symbols``).

Data: ``n_samples`` points uniform on a flat torus of intrinsic dimension ``manifold_dim``
and volume ``volume``; a differentiable target ``f`` with mean squared gradient
``grad_sq`` = E|grad f|^2 and mean squared Laplacian ``laplacian_sq`` = E (Laplacian f)^2;
labels carry independent noise of variance ``label_noise``.
"""

from sympy import Symbol

n_samples = Symbol("n_samples", positive=True)  # number of training points (the Poisson limit treats it as real)
manifold_dim = Symbol("manifold_dim", integer=True, positive=True)  # intrinsic dimension d of the data torus
volume = Symbol("volume", positive=True)  # volume V of the flat torus the data fill uniformly
power = Symbol("power", positive=True)  # the moment p of the nearest-neighbour distance, E r^p
order = Symbol("order", integer=True, positive=True)  # m in E u_1^(2m), u uniform on the unit sphere
grad_sq = Symbol("grad_sq", positive=True)  # E |grad f|^2 over the data distribution
laplacian_sq = Symbol("laplacian_sq", positive=True)  # E (Laplacian f)^2 over the data distribution
hessian_diag_sq = Symbol("hessian_diag_sq", positive=True)  # E sum_i (d^2 f / dx_i^2)^2
label_noise = Symbol("label_noise", positive=True)  # variance of the label noise
neighbours = Symbol("neighbours", integer=True, positive=True)  # k of k-NN
n_cells = Symbol("n_cells", positive=True)  # number of grid cells (the model size) of an interpolant
