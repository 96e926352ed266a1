"""Closed forms of training dynamics, derived with sympy and evaluated with JAX.

``catalog()`` maps dotted names (``"linreg.optimal_lr"``) to :class:`Formula`
objects and ``get(name)`` fetches one. Importing this package does no sympy work:
each Formula is derived on first use and cached.
"""

from __future__ import annotations

import importlib

from analytic.formula import Formula

__all__ = ["Formula", "FAMILIES", "catalog", "get", "names"]

# One family module per line; each defines FORMULAS: dict[short name, builder].
FAMILIES: tuple[str, ...] = (
    "linreg",
    "nqm",
    "momentum",
    "deeplinear",
    "kernels",
)


def _family(name: str):
    return importlib.import_module(f"analytic.{name}")


def names() -> list[str]:
    """Every dotted formula name, without deriving any of them."""
    return [f"{fam}.{short}" for fam in FAMILIES for short in _family(fam).FORMULAS]


def get(name: str) -> Formula:
    """The Formula called ``name`` (``"family.short_name"``), derived on first use."""
    if not isinstance(name, str) or name.count(".") != 1:
        raise ValueError(f"formula name must look like 'family.name', got {name!r}")
    fam, short = name.split(".")
    if fam not in FAMILIES:
        raise ValueError(f"unknown family {fam!r} in {name!r}; families are {FAMILIES}")
    registry = _family(fam).FORMULAS
    if short not in registry:
        raise ValueError(f"unknown formula {name!r}; {fam} has {sorted(registry)}")
    return registry[short]()


def catalog() -> dict[str, Formula]:
    """All Formulas of all families by dotted name (derives any not yet derived)."""
    return {n: get(n) for n in names()}
