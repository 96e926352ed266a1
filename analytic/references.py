"""The one table of references that ``analytic/`` and ``verify/`` cite from.

A source is written once, here: authors, year, title, and the arXiv identifier
with its version pinned (equation numbers move between versions). A Formula's
``source`` and a check's ``cites`` are made by :func:`cite`, which adds the place
(section, equation, theorem) to the table entry.

Example:
    >>> cite("hmrt2019", "Theorem 1")
    'Hastie, Montanari, Rosset, Tibshirani 2019, arXiv:1903.08560v5, Theorem 1'
    >>> arxiv_url("hmrt2019")
    'https://arxiv.org/abs/1903.08560v5'
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Reference", "REFERENCES", "cite", "arxiv_url", "reference"]


class Reference(NamedTuple):
    """One publication: who, when, what, and where (arXiv id with version, or venue)."""

    authors: str
    year: int
    title: str
    arxiv: str = ""  # "1903.08560v5"; empty for papers not on arXiv
    venue: str = ""  # where a paper without an arXiv id appeared

    def short(self) -> str:
        """``"Authors Year, arXiv:id"`` (or the venue when there is no arXiv id)."""
        where = f"arXiv:{self.arxiv}" if self.arxiv else self.venue
        return f"{self.authors} {self.year}" + (f", {where}" if where else "")


REFERENCES: dict[str, Reference] = {
    # --- optimisation textbooks and classics -------------------------------------------
    "nesterov2004": Reference("Nesterov", 2004, "Introductory Lectures on Convex Optimization",
                              venue="Introductory Lectures on Convex Optimization"),
    "polyak1964": Reference("Polyak", 1964, "Some methods of speeding up the convergence of "
                            "iteration methods", venue="USSR Comp. Math. Math. Phys. 4(5)"),
    "goh2017": Reference("Goh", 2017, "Why Momentum Really Works", venue="Distill"),
    "lessard2016": Reference("Lessard, Recht, Packard", 2016, "Analysis and design of optimization "
                             "algorithms via integral quadratic constraints", arxiv="1408.3595v3"),
    "lecun1998": Reference("LeCun et al.", 1998, "Efficient BackProp",
                           venue="Neural Networks: Tricks of the Trade"),
    # --- linear regression ---------------------------------------------------------------
    "hmrt2019": Reference("Hastie, Montanari, Rosset, Tibshirani", 2019, "Surprises in "
                          "High-Dimensional Ridgeless Least Squares Interpolation", arxiv="1903.08560v5"),
    # --- noisy quadratic model -------------------------------------------------------------
    "zhang2019": Reference("Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse", 2019,
                           "Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a "
                           "Noisy Quadratic Model", arxiv="1907.04164v2"),
    "mccandlish2018": Reference("McCandlish, Kaplan, Amodei, OpenAI Dota Team", 2018,
                                "An Empirical Model of Large-Batch Training", arxiv="1812.06162v1"),
    # --- deep linear networks ----------------------------------------------------------------
    "saxe2013": Reference("Saxe, McClelland, Ganguli", 2013, "Exact solutions to the nonlinear "
                          "dynamics of learning in deep linear neural networks", arxiv="1312.6120v3"),
    "du2018": Reference("Du, Hu, Lee", 2018, "Algorithmic Regularization in Learning Deep Homogeneous "
                        "Models: Layers are Automatically Balanced", arxiv="1806.00900v2"),
    "arora2018": Reference("Arora, Cohen, Hazan", 2018, "On the Optimization of Deep Networks: "
                           "Implicit Acceleration by Overparameterization", arxiv="1802.06509v2"),
    # --- kernels of wide networks --------------------------------------------------------------
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
    # --- catapult and edge of stability (add below) ---------------------------------------------

    # --- optimizers and normalization (add below) ---------------------------------------------

    # --- signal propagation (add below) -------------------------------------------------------
    "poole2016": Reference("Poole, Lahiri, Raghu, Sohl-Dickstein, Ganguli", 2016, "Exponential "
                           "expressivity in deep neural networks through transient chaos", arxiv="1606.05340v2"),
    "he2015": Reference("He, Zhang, Ren, Sun", 2015, "Delving Deep into Rectifiers: Surpassing "
                        "Human-Level Performance on ImageNet Classification", arxiv="1502.01852v1"),
    "glorot2010": Reference("Glorot and Bengio", 2010, "Understanding the difficulty of training deep "
                            "feedforward neural networks", venue="AISTATS"),
    "pennington2017": Reference("Pennington, Schoenholz, Ganguli", 2017, "Resurrecting the sigmoid in "
                                "deep learning through dynamical isometry: theory and practice",
                                arxiv="1711.04735v1"),

    # --- scaling laws (add below) ---------------------------------------------------------------

    # --- games, implicit regularisation, bilevel (add below) ----------------------------------

    # --- user-defined methods (add below) -----------------------------------------------------

}


def reference(key: str) -> Reference:
    """The table entry ``key`` (a ``ValueError`` lists the keys when it is unknown)."""
    try:
        return REFERENCES[key]
    except KeyError:
        raise ValueError(f"unknown reference {key!r}; known: {sorted(REFERENCES)}") from None


def cite(key: str, where: str = "") -> str:
    """The citation string of ``key``, with the place in the paper (``"eq. (16)"``) if given."""
    text = reference(key).short()
    return f"{text}, {where}" if where else text


def arxiv_url(key: str) -> str:
    """The versioned arXiv abstract page of ``key`` ("" when it has no arXiv id)."""
    ref = reference(key)
    return f"https://arxiv.org/abs/{ref.arxiv}" if ref.arxiv else ""
