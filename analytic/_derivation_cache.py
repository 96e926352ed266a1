"""An opt-in disk cache of derived Formulas, for processes that derive the same catalogue again.

Deriving the whole catalogue with sympy takes about a minute of CPU; a test run with two
worker processes, the example notebooks (one process each) and the documentation build each
derive it again. Where the environment variable ``TDTK_DERIVATION_CACHE_DIR`` names a folder,
each Formula a registry derives is pickled there after its derivation, and a later process
loads it instead of deriving it (about 4 ms instead of 0.25 s on average). Unset or empty (the
default for a library user), nothing is read or written.

What keys an entry: the Formula's name under a folder named by a digest of every ``.py`` file
of the ``analytic`` package (paths and bytes) and of the Python and sympy versions. Any edit to
``analytic/`` or an upgrade therefore starts a new folder, so an entry can never be older than
the code that would derive it; old folders are left to whoever owns the directory (``.ci/run``
and ``tests/conftest.py`` use ``.derivation_cache`` in the checkout, which git ignores).

What is stored: the Formula's dataclass fields only (a compiled evaluator is never stored). A
Formula that does not pickle (one whose expression holds a function class made at run time)
is derived every time, as without the cache. Writes go to a temporary file that is renamed into
place, so concurrent processes (the test workers) never read half a file. An entry that cannot
be read is derived again. Pickles run code when loaded: point the variable only at a folder
that you alone write to.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path

ENV = "TDTK_DERIVATION_CACHE_DIR"

__all__ = ["ENV", "load", "source_digest", "store"]


def source_digest() -> str:
    """A digest of the ``analytic`` package's sources and of the Python and sympy versions."""
    import sympy

    root = Path(__file__).resolve().parent
    digest = hashlib.sha256(f"{sys.version}|{sympy.__version__}".encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:24]


def _folder(digest: str) -> Path | None:
    base = os.environ.get(ENV, "")
    return Path(base) / digest if base else None


def load(name: str, digest: str):
    """The Formula ``name`` stored under ``digest``, or None (no cache, no entry, unreadable)."""
    folder = _folder(digest)
    if folder is None:
        return None
    try:
        with open(folder / f"{name}.pickle", "rb") as file:
            return pickle.load(file)
    except Exception:  # noqa: BLE001 - a missing or unreadable entry is derived again
        return None


def store(name: str, digest: str, formula) -> bool:
    """Pickle ``formula`` (its dataclass fields only) as ``name`` under ``digest``; True if stored."""
    folder = _folder(digest)
    if folder is None:
        return False
    try:
        data = pickle.dumps(dataclasses.replace(formula), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - not picklable (a function class made at run time): not cached
        return False
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as file:
            file.write(data)
        os.replace(file.name, folder / f"{name}.pickle")
    except OSError:
        return False
    return True
