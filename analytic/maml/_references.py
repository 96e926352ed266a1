"""The references the maml family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # v3 (2017-07-18): sec. 2.2 (eq. 1: the inner update; the meta-objective and its gradient step),
    # sec. 5.2 (the first-order approximation)
    "finn2017": Reference("Finn, Abbeel, Levine", 2017, "Model-Agnostic Meta-Learning for Fast Adaptation of "
                          "Deep Networks", arxiv="1703.03400v3"),
}
