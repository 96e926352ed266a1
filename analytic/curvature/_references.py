"""The references the curvature family declares (merged into :mod:`analytic.references` on first use).

``martens2014`` (arXiv:1412.1193v11) is declared by the optimizers family and cited from here.
"""

from analytic.references import Reference

REFERENCES = {
    # ICML 2017. v3 is the latest arXiv version (its comment: the ICML 2017 paper with more
    # historical references and typos fixed; v2 and v3 are both cited by other work, found with
    # the search tool). The cited eq. (2) is the influence of up-weighting z on the test loss,
    # I_up,loss(z, z_test) = -grad L(z_test)^T H^-1 grad L(z), in sec. 2.1 of the ICML text; the
    # equation number is not checked line by line against the v3 text.
    "koh2017": Reference("Koh and Liang", 2017, "Understanding Black-box Predictions via Influence "
                         "Functions", arxiv="1703.04730v3"),
    # NeurIPS 2019. v3 (8 Jun 2020; v1 29 May 2019) confirmed from the v3 PDF text: its sec. 3 is
    # "Generalized Gauss-Newton and natural gradient descent" (sec. 3.3 the GGN).
    "kunstner2019": Reference("Kunstner, Balles, Hennig", 2019, "Limitations of the Empirical Fisher "
                              "Approximation for Natural Gradient Descent", arxiv="1905.12558v3"),
}
