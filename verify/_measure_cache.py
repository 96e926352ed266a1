"""An opt-in disk cache of :meth:`verify.core.Context.measure`'s simulations, across processes.

A measurement depends only on its arguments: the simulation, and the values of its arguments
(every PRNG key is drawn from the seed and a name, ``Context.key``). The main job and the tests
run many of the same simulations: every negative control (``tests/test_negative_controls.py``)
reruns its check's simulations with a wrong Formula, which the main job has just run with the
right one. Where the environment variable ``TDTK_MEASURE_CACHE_DIR`` names a folder, each
measurement is pickled there and a later process with the same code loads it instead of
simulating again, as JAX's persistent compilation cache does for compiled programs. Unset or
empty (the default for a library user), nothing is read or written.

What keys an entry: a digest of the simulation's module and qualified name and of its arguments'
values (``Context.measure``'s key, pickled), under a folder named by a digest of every ``.py`` file
of ``analytic``, ``numeric`` and ``verify`` (path, size and modification time: an edit changes the
time, and a clone gives every file a new one), of the Python, JAX, jaxlib, NumPy and
SciPy versions, of ``XLA_FLAGS`` (the optimisation level moves results at round-off), of the JAX
settings that change values (64-bit mode, default matmul precision, the PRNG implementation) and of
the platform and its device count. Any edit to the code or any upgrade starts a new folder, so an
entry is never older than the code that would compute it; old folders are left to whoever owns the
directory (``.ci/run`` and ``tests/conftest.py`` use ``.measure_cache`` in the checkout, which git
ignores).

What is stored: a measurement that pickles, up to :data:`LARGEST_ENTRY` bytes, whose arrays live on
one device (a measurement sharded over a mesh is computed every time), made by a module-level
function (``Context.measure`` keeps a closure's or a lambda's results in memory only: what they
capture is not in their key). A key that does not pickle
(an argument such as a mesh) is computed every time. Writes go to a temporary file renamed into
place, so concurrent processes (the main job's workers, the test workers) never read half a file;
an entry that cannot be read is computed again. Pickles run code when loaded: point the variable
only at a folder that you alone write to.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

ENV = "TDTK_MEASURE_CACHE_DIR"
LARGEST_ENTRY = 32 * 2**20  # bytes: a measurement larger than this is computed every time

__all__ = ["ENV", "LARGEST_ENTRY", "folder", "measured"]

_PACKAGES = ("analytic", "numeric", "verify")


def _code_and_settings_digest() -> str:
    import jaxlib
    import numpy
    import scipy

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    settings = (sys.version, jax.__version__, jaxlib.__version__,
                numpy.__version__, scipy.__version__, os.environ.get("XLA_FLAGS", ""),
                jax.config.jax_enable_x64, str(jax.config.jax_default_matmul_precision),
                str(jax.config.jax_default_prng_impl), jax.default_backend(), jax.device_count())
    digest.update(repr(settings).encode())
    for package in _PACKAGES:  # each source file by path, size and modification time (stat only:
        for path in sorted((root / package).rglob("*.py")):  # one Context per check, ~5 ms each)
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


def folder() -> Path | None:
    """This process's entry folder (the code and settings digest under ``$TDTK_MEASURE_CACHE_DIR``),
    or None where the variable is unset or empty. Call it once per Context: it reads the sources."""
    base = os.environ.get(ENV, "")
    return Path(base) / _code_and_settings_digest() if base else None


def _entry_name(key: Any) -> str | None:
    try:
        return hashlib.sha256(pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL)).hexdigest()[:40]
    except Exception:  # noqa: BLE001 - an argument that does not pickle (a mesh): not cached
        return None


def _single_device(value: Any) -> bool:
    return all(len(leaf.sharding.device_set) == 1 for leaf in jax.tree_util.tree_leaves(value)
               if isinstance(leaf, jax.Array))


def measured(where: Path | None, key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, loaded from ``where`` if an entry for ``key`` is there, else stored there."""
    name = None if where is None else _entry_name(key)
    if name is None:
        return compute()
    path = where / f"{name}.pickle"
    try:
        with open(path, "rb") as file:
            return pickle.load(file)
    except Exception:  # noqa: BLE001 - a missing or unreadable entry is computed again
        pass
    value = compute()
    if not _single_device(value):
        return value
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - not picklable: computed every time
        return value
    if len(data) > LARGEST_ENTRY:
        return value
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, suffix=".tmp", delete=False) as file:
            file.write(data)
        os.replace(file.name, path)
    except OSError:
        pass
    return value
