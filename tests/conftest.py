"""Test entry point: float64 on, as the CLI does (library modules never touch jax.config).

``--family-times`` prints, after the run, where the time went by family: each test file
``tests/test_<family>.py`` is its family, and each universal negative control
(``tests/test_negative_controls.py::...[<family>.<check>-<arg>]``) is charged to the family
of its check, in a separate column. Wall seconds depend on the machine's load; CPU seconds
(this process, all its threads, plus the subprocesses a test waits for) much less so, which
makes them the figure to compare between runs on a shared machine.
``--family-times-json PATH`` also appends one JSON line per test to PATH as each test ends.
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections import defaultdict

import jax
import pytest

jax.config.update("jax_enable_x64", True)

# JAX's persistent compilation cache, in the checkout (ignored by git), for this process and
# the subprocesses tests start (they inherit the environment): a second run loads compiled
# programs instead of compiling them (measured on CPU: the 4-device scale-out worker took
# 62 s of CPU cold and 17 s warm). JAX keys each entry by the program, the compile options,
# the backend and the jax/jaxlib versions, so a stale entry is never used. A cache directory
# already set in the environment wins; JAX_COMPILATION_CACHE_DIR= (empty) switches it off.
_CACHE = os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".jax_cache"))
if _CACHE:
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # small programs too
    jax.config.update("jax_compilation_cache_dir", _CACHE)
    jax.config.update("jax_persistent_cache_min_compile_time_secs",
                      float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"]))

# The opt-in disk cache of derived Formulas (analytic/_derivation_cache.py), in the checkout
# (ignored by git): each worker process and each subprocess a test starts loads the Formulas
# another process derived instead of deriving the catalogue again (about a minute of CPU each).
# Its entries are keyed by a digest of analytic/'s sources, so an edit is never served stale.
# A folder already set in the environment wins; TDTK_DERIVATION_CACHE_DIR= (empty) switches it off.
os.environ.setdefault("TDTK_DERIVATION_CACHE_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".derivation_cache"))

# The opt-in disk cache of Context.measure's simulations (verify/_measure_cache.py), in the checkout
# (ignored by git): the negative controls and the other tests that run checks load the measurements
# the main job (or an earlier test run) made instead of simulating again; the comparisons, and so
# what every negative control asserts, are computed anew. Keyed by a digest of analytic/, numeric/
# and verify/'s sources, the library versions, XLA_FLAGS and the JAX settings that move values.
# A folder already set in the environment wins; TDTK_MEASURE_CACHE_DIR= (empty) switches it off.
os.environ.setdefault("TDTK_MEASURE_CACHE_DIR", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".measure_cache"))

# The tests are compile-bound like a quick run: XLA's backend optimisation level 0 on a CPU
# (verify/compile_speed.py: why, and what it costs), unless XLA_FLAGS sets a level already.
from verify import compile_speed  # noqa: E402

if not compile_speed.accelerator_visible():
    compile_speed.prefer_fast_compilation()

_NEGATIVE = "test_negative_controls.py"


def _accelerator_visible() -> bool:
    """An NVIDIA GPU or a TPU on this machine (without starting JAX's backends)."""
    return compile_speed.accelerator_visible()


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown where xdist is absent
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core this process may use, at most 8 (each worker holds a JAX
    runtime); 1 where an accelerator is visible (the workers would compete for its memory)."""
    if _accelerator_visible():
        return 1
    return min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 8)


_PARALLEL_OFF = ("-n", "--numprocesses", "--dist", "--pdb", "--trace", "-x", "--exitfirst",
                 "--lf", "--last-failed", "--sw", "--stepwise")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The whole suite runs in parallel where pytest-xdist is installed (the test extra has it).

    ``python -m pytest -q`` with no test paths is ``-n auto --dist loadgroup``: the tests are
    bound by compiling many small XLA programs, each on one core, so one process leaves the
    other cores idle. Runs of chosen files or tests, runs that name ``-n``/``--dist`` or a
    debugging or ordering option (``--pdb``, ``-x``, ``--lf``, ``--sw``), and ``-p no:xdist``
    stay in one process. ``--dist loadgroup`` keeps tests marked ``xdist_group(name)`` (the
    negative controls of one check, which share its simulations) on one worker.
    """
    if not config.pluginmanager.hasplugin("xdist") or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    args = [str(a) for a in config.invocation_params.args]
    if _names_a_path(args):
        return
    if any(a == flag or a.startswith(flag + "=") for a in args for flag in _PARALLEL_OFF):
        return
    if any(a.startswith("-n") and a[2:].isdigit() for a in args):
        return
    config.option.numprocesses = "auto"
    config.option.dist = "loadgroup"


def _names_a_path(args: list[str]) -> bool:
    """Whether the command line names a test file, folder or node id (an argument that is
    not an option and not the value of an option that takes one)."""
    takes_value = {"-m", "-k", "-p", "-c", "-o", "--family-times-json", "--durations", "--maxfail",
                   "--rootdir", "--confcutdir", "--basetemp", "-W", "--junitxml", "--log-level",
                   "--tb", "-r", "--deselect", "--ignore", "--override-ini"}
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a in takes_value:
            skip = True
            continue
        if not a.startswith("-"):
            return True
    return False


def pytest_addoption(parser):
    parser.addoption("--family-times", action="store_true", default=False,
                     help="print test time (wall and CPU seconds) by family at the end")
    parser.addoption("--family-times-json", action="store", default=None, metavar="PATH",
                     help="with --family-times: append one JSON line per test (wall, CPU seconds) to PATH")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def family_of(nodeid: str) -> tuple[str, str]:
    """(family, kind) of a test: kind is "tests" or "negative controls"."""
    path, _, rest = nodeid.partition("::")
    base = os.path.basename(path)
    if base == _NEGATIVE and "[" in rest:
        param = rest[rest.index("[") + 1:]
        return param.split(".", 1)[0].split("-", 1)[0], "negative controls"
    name = base[len("test_"):-len(".py")] if base.startswith("test_") else base
    return name, "tests"


_START = pytest.StashKey[tuple]()
_TIMES = pytest.StashKey[list]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if item.config.getoption("--family-times"):
        item.stash[_START] = (time.perf_counter(), time.process_time(), _children_cpu())
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """The test's wall and CPU seconds (setup, call, teardown) ride on its teardown report, so
    that they reach the controller when the tests run in worker processes (pytest-xdist)."""
    outcome = yield
    if call.when == "teardown" and _START in item.stash:
        wall, cpu, children = item.stash[_START]
        outcome.get_result().user_properties.append(("family_time", (
            time.perf_counter() - wall, time.process_time() - cpu + _children_cpu() - children)))


class _FamilyTimes:
    """Collects the per-test seconds from the reports (in the controller under pytest-xdist)."""

    def __init__(self, config):
        self.config = config

    def pytest_runtest_logreport(self, report):
        if report.when != "teardown":
            return
        for key, value in report.user_properties:
            if key != "family_time":
                continue
            wall, cpu = value
            self.config.stash.setdefault(_TIMES, []).append((report.nodeid, wall, cpu))
            where = self.config.getoption("--family-times-json")
            if where:  # one JSON line per test as it ends: a run cut short still leaves its figures
                family, kind = family_of(report.nodeid)
                with open(where, "a") as f:
                    f.write(json.dumps({"test": report.nodeid, "family": family, "kind": kind,
                                        "wall": round(wall, 3), "cpu": round(cpu, 3)}) + "\n")


def pytest_configure(config):
    if config.getoption("--family-times"):
        config.pluginmanager.register(_FamilyTimes(config), "family-times")


def pytest_terminal_summary(terminalreporter, config):
    times = config.stash.get(_TIMES, [])
    if not config.getoption("--family-times") or not times:
        return
    table = defaultdict(lambda: [0, 0.0, 0.0, 0, 0.0, 0.0])  # n, wall, cpu (tests; negatives)
    for nodeid, wall, cpu in times:
        family, kind = family_of(nodeid)
        row = table[family]
        offset = 0 if kind == "tests" else 3
        row[offset] += 1
        row[offset + 1] += wall
        row[offset + 2] += cpu
    write = terminalreporter.write_line
    terminalreporter.section("test time by family (seconds; CPU = this process + waited subprocesses)")
    write(f"{'family':<24}{'tests':>6}{'wall':>9}{'CPU':>9}  {'neg.':>5}{'wall':>9}{'CPU':>9}"
          f"  {'total wall':>10}{'share':>7}")
    total_wall = sum(t[1] for t in times) or 1.0
    for family, r in sorted(table.items(), key=lambda kv: -(kv[1][1] + kv[1][4])):
        write(f"{family:<24}{r[0]:>6}{r[1]:>9.1f}{r[2]:>9.1f}  {r[3]:>5}{r[4]:>9.1f}{r[5]:>9.1f}"
              f"  {r[1] + r[4]:>10.1f}{100 * (r[1] + r[4]) / total_wall:>6.1f}%")
    write(f"{'all':<24}{sum(r[0] for r in table.values()):>6}"
          f"{sum(r[1] for r in table.values()):>9.1f}{sum(r[2] for r in table.values()):>9.1f}  "
          f"{sum(r[3] for r in table.values()):>5}{sum(r[4] for r in table.values()):>9.1f}"
          f"{sum(r[5] for r in table.values()):>9.1f}  {total_wall:>10.1f}")
