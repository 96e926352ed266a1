"""``python -m verify --quick`` at XLA's default CPU optimisation level vs level 0, in one run.

Usage: ``python benchmarks/compile_speed.py [FAMILY ...]`` (default: four families that together
compile many programs and also run the longest loops). Each setting runs
``python -m verify --quick FAMILIES --jobs 1`` in a fresh process with JAX's persistent
compilation cache switched off, alternating A, B, A, B, so drift in the machine's load shows as
the gap between a setting's two runs. Prints CPU seconds (the process and its children: less
sensitive to other load than wall seconds) and wall seconds per run, the ratio default / level 0,
and whether the two settings printed the same rows with the same verdicts (their values agree
to round-off, not bit for bit: the optimised code evaluates some functions differently).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import time

DEFAULT = ("linreg", "kernels", "momentum", "nqm")
SETTINGS = {"default (level 3)": "--xla_backend_optimization_level=3", "level 0": "--xla_backend_optimization_level=0"}


def _run(families, flag: str) -> tuple[float, float, list[str]]:
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR="", XLA_FLAGS=flag)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "verify", "--quick", *families, "--jobs", "1"],
                         capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if out.returncode != 0:
        raise SystemExit(f"verify with XLA_FLAGS={flag} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    # each row's name and verdict (values agree to round-off, so they are not compared here)
    verdicts = sorted(re.sub(r"\s.*(PASS|FAIL|NOT)", r" \1", line).split()[0] + " " + line.split()[-2]
                      for line in out.stdout.splitlines()
                      if re.search(r"\s(PASS|FAIL|NOT~?)\s+[0-9.]+\s*$", line))
    return cpu, wall, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=list(DEFAULT))
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"families: {' '.join(args.families)}; {cores} cores; load {os.getloadavg()[0]:.1f}; "
          f"python {sys.version.split()[0]}")
    results = {name: [] for name in SETTINGS}
    for _ in range(2):
        for name, flag in SETTINGS.items():
            results[name].append(_run(args.families, flag))
            cpu, wall, _ = results[name][-1]
            print(f"  {name:18s} {cpu:7.1f} s CPU {wall:7.1f} s wall", flush=True)
    cpu = {name: min(r[0] for r in runs) for name, runs in results.items()}
    default, fast = cpu.values()
    print(f"best CPU seconds: default {default:.1f}, level 0 {fast:.1f}; ratio {default / fast:.2f}")
    same = results["default (level 3)"][0][2] == results["level 0"][0][2]
    print(f"same rows and verdicts: {same} ({len(results['level 0'][0][2])} rows)")


if __name__ == "__main__":
    main()
