"""The references the second_order family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "hestenes1952": Reference("Hestenes, Stiefel", 1952, "Methods of Conjugate Gradients for Solving "
                              "Linear Systems", venue="J. Res. Nat. Bur. Standards 49(6)"),
    # 2nd edition; the equation number of the CG bound is from memory (unconfirmed)
    "nocedal2006": Reference("Nocedal, Wright", 2006, "Numerical Optimization (2nd ed.)", venue="Springer"),
    "boyd2004": Reference("Boyd, Vandenberghe", 2004, "Convex Optimization", venue="Cambridge University Press"),
    "martens2010": Reference("Martens", 2010, "Deep learning via Hessian-free optimization", venue="ICML 2010"),
}
