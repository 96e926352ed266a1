"""Run the selected checks in worker processes, one family per task (``--jobs``).

The quick run is bound by compiling and running many small programs, one at a time: XLA
compiles a program on one core, so a serial run leaves the other cores of a CPU machine
idle for most of its time. Here each family's checks run, in catalogue order, in one of
``jobs`` worker processes (started with ``spawn``: a process never forks a running JAX),
each with its own :class:`~verify.core.Context`. What a worker returns is what the serial
run would have printed for that family: the rows, their seconds, and the figure data.

Nothing a check measures depends on the process it runs in: every PRNG key is drawn from
the seed and the check's name (:meth:`Context.key`), and what checks share through
``ctx.memoise`` is shared only inside a family (the families' memo keys carry their own
names), so a family sees the same memo in a worker as in a serial run.

Where the work is one family, one device or an accelerator, ``plan_jobs`` says 1 and the
caller runs the checks in its own process, exactly as before.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import time
from typing import Iterator, NamedTuple

MAX_AUTO_JOBS = 8  # each worker holds its own JAX runtime (~0.5-1 GB at quick size)


class FamilyRun(NamedTuple):
    """One family's rows, figure data (with the check each came from) and wall seconds."""

    family: str
    results: list
    figures: list
    figure_checks: list
    seconds: float
    cites: dict = {}  # check name -> its citations (the worker has derived its Formulas already)


def family_of(check_name: str) -> str:
    return check_name.split(".", 1)[0]


def plan_jobs(jobs: str | int, *, platform: str, size: str, devices: int, families: int) -> int:
    """How many worker processes to use.

    ``jobs`` is a positive integer or ``"auto"``: on a CPU, at quick size, with one device,
    as many as the process may use cores (at most :data:`MAX_AUTO_JOBS`); otherwise 1 (an
    accelerator is one device that the workers would compete for, and full sizes are sized
    to one machine's memory). Never more than the number of families selected.
    """
    if isinstance(jobs, str):
        if jobs != "auto":
            try:
                jobs = int(jobs)
            except ValueError:
                raise ValueError(f"--jobs must be 'auto' or a positive integer, got {jobs!r}") from None
        elif platform == "cpu" and size != "full" and devices == 1:
            jobs = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                       else (os.cpu_count() or 1), MAX_AUTO_JOBS)
        else:
            jobs = 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be 'auto' or a positive integer, got {jobs!r}")
    return max(1, min(jobs, families))


def group_by_family(check_names: list[str]) -> list[tuple[str, list[str]]]:
    """``[(family, [check names in their order])]`` in the order families first appear."""
    groups: dict[str, list[str]] = {}
    for name in check_names:
        groups.setdefault(family_of(name), []).append(name)
    return list(groups.items())


def _run_family(family: str, names: list[str], size: str, seed: int, time_limit: float | None,
                platform: str) -> FamilyRun:
    """Worker: the family's checks in a fresh Context (the entry point of a spawned process)."""
    import jax

    jax.config.update("jax_enable_x64", True)  # a worker is an entry point, as the CLI is
    from verify import core

    registry = core.checks_named(names)  # this family's check module only: a quicker start
    device = jax.devices(platform)[0]
    ctx = core.Context(size=size, seed=seed, devices=(device,), time_limit=time_limit)
    results, figure_checks = [], []
    start = time.perf_counter()
    with jax.default_device(device):
        for name in names:
            results += list(core.run([registry[name]], ctx))
            figure_checks += [name] * (len(ctx.figures) - len(figure_checks))
    seconds = time.perf_counter() - start
    # the citations of a check are its Formulas' sources: cheap here, where they are derived, but a
    # derivation of the whole catalogue in the parent process, which derived none of them
    cites = {name: registry[name].cites for name in names}
    return FamilyRun(family, results, list(ctx.figures), figure_checks, seconds, cites)


def run_families(check_names: list[str], *, jobs: int, size: str, seed: int,
                 time_limit: float | None, platform: str) -> Iterator[FamilyRun]:
    """Yield each family's run as it finishes (``jobs`` workers; longest families first).

    The families are handed out largest first (by number of checks, the cost known before
    running), so the last family to start is a small one and the workers finish together.
    """
    groups = sorted(group_by_family(check_names), key=lambda g: -len(g[1]))
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_run_family, family, names, size, seed, time_limit, platform)
                   for family, names in groups]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
