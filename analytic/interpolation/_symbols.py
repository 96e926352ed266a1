"""Symbols of the interpolation family alone (shared ones, ``eta``, ``lam``, ``mu``, ``L``, are in
``analytic.symbols``: ``mu`` and ``L`` are the smallest non-zero and the largest eigenvalue of
``H = X^T X / n``).

``max_norm_sq`` is the paper's beta, the largest squared norm of a data point; ``norm_sq`` the
squared norm of the data points along one eigen-direction of the axis-aligned design;
``norm_sq_soft`` / ``norm_sq_stiff`` the same for the two directions of the two-direction design.
"""

from sympy import Symbol

batch_size = Symbol("batch_size", positive=True)  # examples per SGD step, drawn uniformly with replacement (>= 1)
max_norm_sq = Symbol("max_norm_sq", positive=True)  # beta = max_i |x_i|^2
norm_sq = Symbol("norm_sq", positive=True)  # |x|^2 of the data points along one direction (axis-aligned design)
norm_sq_soft = Symbol("norm_sq_soft", positive=True)  # |x|^2 along the low-curvature direction (curvature mu)
norm_sq_stiff = Symbol("norm_sq_stiff", positive=True)  # |x|^2 along the high-curvature direction (curvature L)
