"""``python -m verify --quick`` with one process vs worker processes (``--jobs``), in one run.

Usage: ``python benchmarks/verify_jobs.py [FAMILY ...] [--jobs N]`` (default: four mid-sized
families, ``--jobs auto``). Each mode runs in a fresh process with JAX's persistent
compilation cache switched off (so neither mode loads the other's programs), serial first,
then parallel, then serial again (the machine's drift shows as the gap between the two
serial times). Prints the wall seconds of each and the ratio serial / parallel, the device and
the core count, and checks that both modes printed the same rows.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

DEFAULT = ("games", "implicit", "bilevel", "methods")


def _run(families, jobs: str) -> tuple[float, list[str]]:
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR="")
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "verify", "--quick", *families, "--jobs", jobs],
                         capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"verify --jobs {jobs} failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    # the rows without their seconds column (the last field of a value line)
    rows = [re.sub(r"\s+[0-9.]+\s*$", "", line) for line in out.stdout.splitlines()
            if line.strip().endswith(tuple("0123456789")) and ("PASS" in line or "NOT REPRODUCED" in line)]
    return seconds, sorted(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=list(DEFAULT))
    parser.add_argument("--jobs", default="auto")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"families: {' '.join(args.families)}; {cores} cores; python {sys.version.split()[0]}")
    serial, rows_serial = _run(args.families, "1")
    parallel, rows_parallel = _run(args.families, args.jobs)
    again, _ = _run(args.families, "1")
    print(f"--jobs 1:     {serial:7.1f} s (again: {again:.1f} s)")
    print(f"--jobs {args.jobs:<5} {parallel:7.1f} s")
    print(f"ratio serial / parallel: {min(serial, again) / parallel:.2f} (best serial) "
          f"to {max(serial, again) / parallel:.2f}")
    print("same rows in both modes:", rows_serial == rows_parallel, f"({len(rows_serial)} rows)")


if __name__ == "__main__":
    main()
