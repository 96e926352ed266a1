"""The references the kernels family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "cho2009": Reference("Cho and Saul", 2009, "Kernel Methods for Deep Learning", venue="NIPS"),
    "williams1997": Reference("Williams", 1997, "Computing with Infinite Networks", venue="NIPS"),
    "price1958": Reference("Price", 1958, "A useful theorem for nonlinear devices having Gaussian "
                           "inputs", venue="IRE Trans. Inf. Theory 4(2)"),
    "schoenholz2017": Reference("Schoenholz, Gilmer, Ganguli, Sohl-Dickstein", 2017,
                                "Deep Information Propagation", arxiv="1611.01232v2"),
    "lee2018": Reference("Lee et al.", 2018, "Deep Neural Networks as Gaussian Processes",
                         arxiv="1711.00165v3"),
    "jacot2018": Reference("Jacot, Gabriel, Hongler", 2018, "Neural Tangent Kernel: Convergence and "
                           "Generalization in Neural Networks", arxiv="1806.07572v4"),
    "lee2019": Reference("Lee et al.", 2019, "Wide Neural Networks of Any Depth Evolve as Linear "
                         "Models Under Gradient Descent", arxiv="1902.06720v4"),
    "sohl2020": Reference("Sohl-Dickstein et al.", 2020, "On the infinite width limit of neural "
                          "networks with a standard parameterization", arxiv="2001.07301v1"),
}
