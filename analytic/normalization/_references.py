"""The references the normalization family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "arora2019": Reference("Arora, Li, Lyu", 2019, "Theoretical Analysis of Auto Rate-Tuning by "
                           "Batch Normalization", arxiv="1812.03981v2"),  # version not confirmed
    "wan2021": Reference("Wan, Zhu, Zhang, Sun", 2021, "Spherical Motion Dynamics: Learning Dynamics "
                         "of Normalized Neural Network using SGD and Weight Decay", arxiv="2006.08419v4"),
    "kosson2024": Reference("Kosson, Messmer, Jaggi", 2024, "Rotational Equilibrium: How Weight Decay "
                            "Balances Learning Across Neural Networks", arxiv="2305.17212v4"),
    "srivastava2014": Reference("Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov", 2014,
                                "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
                                venue="JMLR 15(56)"),
    "wager2013": Reference("Wager, Wang, Liang", 2013, "Dropout Training as Adaptive Regularization",
                           arxiv="1307.1493v2"),  # v2: cited as such by other work (search tool)
    "ioffe2015": Reference("Ioffe and Szegedy", 2015, "Batch Normalization: Accelerating Deep Network "
                           "Training by Reducing Internal Covariate Shift", arxiv="1502.03167v3"),
}
