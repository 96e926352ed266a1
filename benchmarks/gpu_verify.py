"""Run ``python -m verify`` family by family, lightest first, inside one time budget.

For a GPU visit (issue 35): each family is its own ``python -m verify FAMILY --json ...``
process (a family that hangs or runs long is cut by the budget alone and the families before
it keep their JSON), started only while at least ``--min-start`` seconds of ``--budget`` are
left, and killed (its process group) when the budget is spent. At the end it writes
``verify-summary.json`` and ``verify-summary.csv`` beside the per-family files: per family the
status (passed, failed, cut at the budget, not run), seconds, rows passed / failed, and the
CPU time that ordered it, and prints the families that did not run with those estimates.

Order: ``FAMILY_COST`` below, measured on this project's 2-core CPU (seconds of
``python -m verify --quick FAMILY``; full size where it has run on the CPU, which puts
``kernels`` and ``nqm`` last). A family not in the table (a new one) runs after the measured
light ones and before the heavy ones.

    python benchmarks/gpu_verify.py --out DIR [--budget 420] [--device gpu] [--quick] [FAMILY ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import time

# family: (quick seconds on the 2-core CPU, full-size seconds on that CPU or None if never timed)
# quick: one `python -m verify --quick FAMILY` each (this driver with --quick), 2026-12-06
# 23:29-00:16 UTC, the 2 cores shared with 8 other sessions (load average 15-22), so inflated
# several times over and noisy; linreg and signal were cut at the driver's budget, so theirs are
# lower bounds. full: benchmarks/RESULTS.md (kernels 74/74 rows in 4064 s; the NQM
# steps-vs-batch sweep alone 3550 s).
FAMILY_COST: dict[str, tuple[float, float | None]] = {
    "bilevel": (68.6, None), "games": (78.2, None), "methods": (84.1, None), "eos": (92.5, None),
    "implicit": (100.7, None), "catapult": (114.8, None), "deeplinear": (131.6, None),
    "optimizers": (139.3, None), "scaling": (144.9, None), "momentum": (215.9, None),
    "normalization": (217.8, None), "signal": (265.8, None), "linreg": (290.6, None),
    "nqm": (193.4, 3550.0), "kernels": (523.4, 4064.0),
}
HEAVY_FULL_SECONDS = 600.0  # a family whose full size took longer than this on the CPU goes last


def families() -> list[str]:
    """The families of the registered checks (the part of each check name before the first dot)."""
    from verify import core

    seen: list[str] = []
    for name in core.registry():
        family = name.split(".")[0]
        if family not in seen:
            seen.append(family)
    return seen


def ordered(names: list[str]) -> list[str]:
    """Lightest first: measured light families by quick seconds, then unmeasured ones, then the
    families whose full size is known to be heavy, by that full-size time."""
    def key(name):
        quick, full = FAMILY_COST.get(name, (None, None))
        if full is not None and full > HEAVY_FULL_SECONDS:
            return (2, full)
        if quick is None:
            return (1, 0.0)
        return (0, quick)
    return sorted(names, key=key)


class _Terminated(Exception):
    """SIGTERM (the shell's `timeout`): stop the running family, still write the summary."""


_TERMINATED = []  # set by SIGTERM: an exception raised inside a gc callback is swallowed, this is not


def _on_sigterm(signum, frame):
    _TERMINATED.append(signum)
    raise _Terminated


def run_family(family: str, args, left: float) -> dict:
    """One ``python -m verify FAMILY`` process under ``left`` seconds; its outcome as a dict."""
    json_path = os.path.join(args.out, f"verify-{family}.json")
    log_path = os.path.join(args.out, f"verify-{family}.log")
    command = [sys.executable, "-m", "verify", family, "--json", json_path,
               "--time-limit", f"{max(1.0, left):.0f}"]
    if args.device:
        command += ["--device", args.device]
    if args.quick:
        command.append("--quick")
    start = time.perf_counter()
    with open(log_path, "w") as log:
        log.write(" ".join(command) + "\n")
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = process.wait(timeout=left)
            status = "passed" if rc == 0 else "failed"
        except subprocess.TimeoutExpired:
            rc, status = None, "cut at the budget"
        finally:  # also when the driver itself is terminated (_Terminated): no orphan on the GPU
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    seconds = time.perf_counter() - start
    outcome = {"family": family, "status": status, "returncode": rc, "seconds": round(seconds, 1),
               "json": os.path.basename(json_path) if os.path.exists(json_path) else None}
    if outcome["json"]:
        with open(json_path) as handle:
            record = json.load(handle)
        outcome["rows_passed"] = sum(1 for r in record["rows"] if r.get("passed"))
        outcome["rows_failed"] = sum(1 for r in record["rows"] if not r.get("passed"))
        outcome["failed"] = [f"{r['check']}[{r.get('label', '')}]" for r in record["rows"]
                             if not r.get("passed")][:20]
    elif status == "failed":  # no JSON: the process itself broke; the log's tail says why
        with open(log_path) as handle:
            outcome["log_tail"] = handle.read()[-1500:]
    return outcome


def main(argv=None) -> int:
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    except _Terminated:  # before any family started (importing the registry): say so, no traceback
        print("gpu_verify: terminated before the first family started; none ran", flush=True)
        return 1


def _main(argv=None) -> int:
    start = time.perf_counter()  # the budget counts from here: importing the registry is part of it
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("families", nargs="*", help="families to run (default: all, lightest first)")
    parser.add_argument("--out", help="folder for verify-FAMILY.json/.log and the summary (required to run)")
    parser.add_argument("--list-order", action="store_true", help="print the families in run order and exit")
    parser.add_argument("--budget", type=float, default=420.0, metavar="SECONDS",
                        help="wall-clock seconds for all families together (default 420)")
    parser.add_argument("--min-start", type=float, default=20.0, metavar="SECONDS",
                        help="start no family with fewer seconds left than this (default 20)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None, help="passed to verify")
    parser.add_argument("--quick", action="store_true", help="passed to verify (the CPU rehearsal)")
    parser.add_argument("--skip", nargs="*", default=[], help="families to leave out")
    args = parser.parse_args(argv)
    if args.budget <= 0:
        parser.error(f"--budget must be > 0 seconds, got {args.budget}")
    if args.min_start < 0:
        parser.error(f"--min-start must be >= 0 seconds, got {args.min_start}")
    known = families()
    unknown = sorted(set(args.families + args.skip) - set(known))
    if unknown:
        parser.error(f"unknown families {unknown}; known: {known}")
    order = ordered([f for f in (args.families or known) if f not in args.skip])
    if args.list_order:
        print(" ".join(order))
        return 0
    if not args.out:
        parser.error("--out DIR is required to run the families")
    os.makedirs(args.out, exist_ok=True)
    print(f"gpu_verify: {len(order)} families, budget {args.budget:.0f} s, "
          f"{'quick' if args.quick else 'full'} size, order: {' '.join(order)}", flush=True)
    outcomes = []
    for family in order:
        left = args.budget - (time.perf_counter() - start)
        if _TERMINATED and not (outcomes and outcomes[-1]["status"] == "terminated"):
            outcomes.append({"family": family, "status": "terminated", "seconds": 0.0, "json": None})
            continue
        if left < args.min_start or _TERMINATED:
            outcomes.append({"family": family, "status": "not run", "seconds": None})
            continue
        print(f"  {family} ... ({left:.0f} s left)", flush=True)
        family_start = time.perf_counter()
        try:
            outcome = run_family(family, args, left)
        except _Terminated:
            outcome = {"family": family, "status": "terminated",
                       "seconds": round(time.perf_counter() - family_start, 1), "json": None}
        outcomes.append(outcome)
        rows = (f", rows {outcome['rows_passed']} passed / {outcome['rows_failed']} failed"
                if outcome.get("json") else "")
        print(f"  {family}: {outcome['status']} in {outcome['seconds']:.1f} s{rows}", flush=True)
    for outcome in outcomes:
        quick, full = FAMILY_COST.get(outcome["family"], (None, None))
        outcome["cpu_quick_seconds"], outcome["cpu_full_seconds"] = quick, full
    total = time.perf_counter() - start
    left_out = [o for o in outcomes if o["status"] in ("not run", "cut at the budget", "terminated")]
    summary = {"budget_s": args.budget, "seconds": round(total, 1), "size": "quick" if args.quick else "full",
               "device": args.device, "families": outcomes,
               "did_not_run": [o["family"] for o in left_out]}
    with open(os.path.join(args.out, "verify-summary.json"), "w") as handle:
        json.dump(summary, handle, indent=1)
    keys = ["family", "status", "seconds", "rows_passed", "rows_failed", "cpu_quick_seconds",
            "cpu_full_seconds", "returncode", "json"]
    with open(os.path.join(args.out, "verify-summary.csv"), "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(outcomes)
    print(f"gpu_verify: {total:.0f} s; " + ", ".join(
        f"{s}: {sum(o['status'] == s for o in outcomes)}"
        for s in ("passed", "failed", "cut at the budget", "terminated", "not run")))
    for o in left_out:
        full = f", full {o['cpu_full_seconds']:.0f} s" if o["cpu_full_seconds"] else ""
        quick = f"quick {o['cpu_quick_seconds']:.0f} s" if o["cpu_quick_seconds"] is not None else "unmeasured"
        print(f"  did not {'finish' if o['status'] != 'not run' else 'run'}: {o['family']} "
              f"(CPU: {quick}{full})")
    return 0 if all(o["status"] == "passed" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
