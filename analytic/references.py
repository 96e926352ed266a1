"""The one table of references that ``analytic/`` and ``verify/`` cite from.

A source is written once: authors, year, title, and the arXiv identifier with its
version pinned (equation numbers move between versions). Each family declares the
papers it brings in ``analytic/<family>/_references.py`` (``REFERENCES = {key:
Reference(...)}``), beside the Formulas that cite them; this module merges the
families' tables on first use (discovered, not listed; a key declared twice is a
``ValueError`` naming both families). A Formula's ``source`` and a check's ``cites``
are made by :func:`cite`, which adds the place (section, equation, theorem) to the
table entry; any family may cite any key.

Example:
    >>> cite("hmrt2019", "Theorem 1")
    'Hastie, Montanari, Rosset, Tibshirani 2019, arXiv:1903.08560v5, Theorem 1'
    >>> arxiv_url("hmrt2019")
    'https://arxiv.org/abs/1903.08560v5'
"""

from __future__ import annotations

import importlib.util
import pkgutil
from pathlib import Path
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


def _family_tables() -> dict[str, dict[str, Reference]]:
    """Each family's ``analytic/<family>/_references.py`` table, by family.

    The files are read by path, not imported as submodules: importing
    ``analytic.<family>._references`` would first run the family's ``__init__``, whose
    modules call :func:`cite` while they load (an import cycle through every family).
    A table file imports nothing but :class:`Reference`.
    """
    root = Path(__file__).parent
    tables = {}
    for info in sorted(pkgutil.iter_modules([str(root)]), key=lambda i: i.name):
        path = root / info.name / "_references.py"
        if not info.ispkg or info.name.startswith("_") or not path.is_file():
            continue
        spec = importlib.util.spec_from_file_location(f"analytic.{info.name}._references_table", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        table = getattr(module, "REFERENCES", None)
        if not isinstance(table, dict) or not all(getattr(r, "_fields", None) == Reference._fields
                                                  for r in table.values()):
            raise TypeError(f"{path}: REFERENCES must be a dict of analytic.references.Reference")
        tables[info.name] = {key: Reference(*ref) for key, ref in table.items()}
    return tables


def _merged() -> dict[str, Reference]:
    """The families' tables merged once (a key declared by two families is an error)."""
    global _TABLE
    if _TABLE is None:
        merged: dict[str, Reference] = {}
        declared_by: dict[str, str] = {}
        for family, table in _family_tables().items():
            for key, ref in table.items():
                if key in merged:
                    raise ValueError(f"reference {key!r} is declared by both {declared_by[key]} and "
                                     f"{family} (analytic/<family>/_references.py): declare it once")
                merged[key], declared_by[key] = ref, family
        _TABLE = merged
    return _TABLE


_TABLE: dict[str, Reference] | None = None  # the merged table: static data, read from files once


def __getattr__(name: str):
    # ``REFERENCES`` (the merged table) is made on first use, not when this module loads.
    if name == "REFERENCES":
        return _merged()
    raise AttributeError(f"module 'analytic.references' has no attribute {name!r}")


def reference(key: str) -> Reference:
    """The table entry ``key`` (a ``ValueError`` lists the keys when it is unknown)."""
    table = _merged()
    try:
        return table[key]
    except KeyError:
        raise ValueError(f"unknown reference {key!r}; known: {sorted(table)}") from None


def cite(key: str, where: str = "") -> str:
    """The citation string of ``key``, with the place in the paper (``"eq. (16)"``) if given."""
    text = reference(key).short()
    return f"{text}, {where}" if where else text


def arxiv_url(key: str) -> str:
    """The versioned arXiv abstract page of ``key`` ("" when it has no arXiv id)."""
    ref = reference(key)
    return f"https://arxiv.org/abs/{ref.arxiv}" if ref.arxiv else ""
