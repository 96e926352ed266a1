"""The references the adagrad family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "duchi2011": Reference("Duchi, Hazan, Singer", 2011, "Adaptive Subgradient Methods for Online Learning and "
                           "Stochastic Optimization", venue="JMLR 12"),
    "tieleman2012": Reference("Tieleman, Hinton", 2012, "Lecture 6.5 - rmsprop: Divide the gradient by a running "
                              "average of its recent magnitude", venue="COURSERA: Neural Networks for Machine Learning"),
}
