"""The references the curvature family declares (merged into :mod:`analytic.references` on first use).

``martens2014`` (arXiv:1412.1193v11) is declared by the optimizers family and cited from here.
"""

from analytic.references import Reference

REFERENCES = {
    # ICML 2017. v1 (March 2017) and later revisions exist; the version whose eq. (2) is cited
    # here could not be confirmed from this machine: the equation is the influence of
    # up-weighting z on the test loss, I_up,loss(z, z_test) = -grad L(z_test)^T H^-1 grad L(z).
    "koh2017": Reference("Koh and Liang", 2017, "Understanding Black-box Predictions via Influence "
                         "Functions", arxiv="1703.04730v2"),
    # NeurIPS 2019; version unconfirmed.
    "kunstner2019": Reference("Kunstner, Balles, Hennig", 2019, "Limitations of the Empirical Fisher "
                              "Approximation for Natural Gradient Descent", arxiv="1905.12558v3"),
}
