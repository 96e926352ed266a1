"""The numeric side of the ``kernels`` family: kernels measured on finite networks.

``analytic.kernels`` gives the infinite-width NNGP and NTK; what they are compared with
lives with the networks that produce them, in :mod:`numeric.mlp` (random draws, the
empirical NNGP and NTK, GD ensembles, the linearised network), and this module names
those measurements under the family's name:

* :func:`empirical_nngp` - the last hidden layer's inner products of one network;
* :func:`empirical_ntk` - ``J(x1) J(x2)^T`` over all parameters of one network;
* :func:`monte_carlo_nngp` - the output covariance over independently drawn networks;
* :func:`conditional_monte_carlo_nngp` - the same expectation with the readout averaged exactly.

Independent of ``analytic`` (no kernel formula is known here).

Example:
    >>> import jax
    >>> from numeric import kernels
    >>> net = kernels.MLP(depth=2, width=64, activation="relu", sigma_w=1.4, sigma_b=0.1)
    >>> params = kernels.init_params(jax.random.key(0), net, in_dim=3)
    >>> x = jax.random.normal(jax.random.key(1), (5, 3))
    >>> kernels.empirical_ntk(net, params, x, x).shape
    (5, 5)
"""

from numeric.mlp import (MLP, ConditionalNNGP, conditional_monte_carlo_nngp, empirical_nngp, empirical_ntk,
                         init_params, monte_carlo_nngp)

__all__ = ["MLP", "init_params", "empirical_nngp", "empirical_ntk", "monte_carlo_nngp", "ConditionalNNGP",
           "conditional_monte_carlo_nngp"]
