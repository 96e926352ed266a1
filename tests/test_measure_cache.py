"""verify/_measure_cache.py: Context.measure's disk cache serves a later Context the same value,
only for the same simulation and argument values, and stays off where the variable is unset."""

import pickle

import jax
import jax.numpy as jnp
import numpy as np

from verify import _measure_cache, core

CALLS = []


def simulate(key, n, scale=1.0):
    CALLS.append((n, scale))
    return {"draw": jax.random.normal(key, (n,)) * scale, "n": n}


def test_a_later_context_loads_the_measurement_and_recomputes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(_measure_cache.ENV, str(tmp_path))
    CALLS.clear()
    first = core.Context().measure(simulate, core.Context().key("a"), 5, scale=2.0)
    second = core.Context().measure(simulate, core.Context().key("a"), 5, scale=2.0)
    assert CALLS == [(5, 2.0)]  # the second Context loaded it
    np.testing.assert_array_equal(first["draw"], second["draw"])
    assert isinstance(second["draw"], jax.Array) and second["n"] == 5
    # another key, another argument value: simulated anew
    core.Context().measure(simulate, core.Context().key("b"), 5, scale=2.0)
    core.Context().measure(simulate, core.Context().key("a"), 5, scale=3.0)
    assert CALLS == [(5, 2.0), (5, 2.0), (5, 3.0)]
    entries = list(tmp_path.glob("*/*.pickle"))
    assert len(entries) == 3 and not list(tmp_path.glob("*/*.tmp"))
    for scale in (1.0, 2.0):  # closures with the same name and arguments capture different values:
        def closure(n):  # kept in each Context's memory, never on disk
            return np.full(n, scale)
        assert core.Context().measure(closure, 2)[0] == scale
    assert len(list(tmp_path.glob("*/*.pickle"))) == 3


def test_off_by_default_and_for_what_does_not_pickle(tmp_path, monkeypatch):
    monkeypatch.delenv(_measure_cache.ENV, raising=False)
    assert _measure_cache.folder() is None
    CALLS.clear()
    for _ in range(2):
        core.Context().measure(simulate, core.Context().key("a"), 3)
    assert len(CALLS) == 2
    monkeypatch.setenv(_measure_cache.ENV, str(tmp_path))
    where = _measure_cache.folder()
    values = iter([1.0, 2.0])
    unpicklable_key = ("measure", lambda: None)  # a key that does not pickle: computed every time
    assert [_measure_cache.measured(where, unpicklable_key, lambda: next(values)) for _ in range(2)] == [1.0, 2.0]
    big = _measure_cache.LARGEST_ENTRY // 8 + 1  # float64 entries: just over the size limit
    _measure_cache.measured(where, ("big",), lambda: np.zeros(big))
    assert not list(tmp_path.glob("*/*.pickle"))


def test_an_unreadable_entry_is_computed_again(tmp_path, monkeypatch):
    monkeypatch.setenv(_measure_cache.ENV, str(tmp_path))
    where = _measure_cache.folder()
    assert _measure_cache.measured(where, ("k",), lambda: jnp.arange(3)).tolist() == [0, 1, 2]
    entry, = tmp_path.glob("*/*.pickle")
    entry.write_bytes(b"not a pickle")
    assert _measure_cache.measured(where, ("k",), lambda: "again") == "again"
    assert pickle.loads(entry.read_bytes()) == "again"
