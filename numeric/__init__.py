"""Direct simulation of training in JAX: GD, momentum, SGD, finite networks.

Independent of ``analytic`` by design (it never imports it or sympy), so that a
verification compares two computations that share no code. Loops are
``jax.lax.scan``, ensembles and sweeps ``jax.vmap``, randomness explicit keys, and
results NamedTuples; divergence is a result, not an exception.
"""
