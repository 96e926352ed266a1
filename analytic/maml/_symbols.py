"""Symbols of the maml family (shared ones, ``eta`` the inner learning rate and ``lam`` the support
curvature, are in ``analytic.symbols``).

One task is a pair of quadratics along one eigen-direction: the support (inner) loss
``lam/2 (theta - support_optimum)^2`` and the query (outer) loss
``query_curvature/2 (theta - query_optimum)^2``. A distribution of tasks shares the curvatures
and draws the optima with means ``support_mean`` and ``query_mean``.
"""

from sympy import Symbol

theta = Symbol("theta", real=True)  # the meta-parameter (the initialisation the inner loop adapts)
support_optimum = Symbol("support_optimum", real=True)  # minimiser of the task's support loss
query_optimum = Symbol("query_optimum", real=True)  # minimiser of the task's query loss
query_curvature = Symbol("query_curvature", positive=True)  # curvature of the query loss
inner_steps = Symbol("inner_steps", integer=True, positive=True)  # inner GD steps of the adaptation
support_mean = Symbol("support_mean", real=True)  # mean support optimum over the task distribution
query_mean = Symbol("query_mean", real=True)  # mean query optimum over the task distribution
