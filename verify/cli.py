"""``python -m verify``: run the catalogue of checks and print one row per comparison."""

from __future__ import annotations

import argparse
import sys
import time

import jax


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m verify",
        description="Check every closed form of `analytic` against direct training in `numeric`.")
    parser.add_argument("names", nargs="*",
                        help="checks to run: a family ('linreg'), a check name, or a glob; default all")
    parser.add_argument("--quick", action="store_true", help="CPU-sized run (a few minutes on 2 cores)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default=None,
                        help="run on this platform (default: JAX's default device)")
    parser.add_argument("--num-devices", default="1", metavar="N|all",
                        help="devices of the chosen platform that the checks may shard over "
                             "(a mesh in the Context; default 1)")
    parser.add_argument("--json", metavar="PATH", help="also write the run as JSON to PATH (rows with their citations, environment, seed, figure data: --from reads it back)")
    parser.add_argument("--figures", metavar="DIR", help="write each figure's data as CSV to DIR, and its image (see --format) "
                             "with matplotlib")
    parser.add_argument("--format", choices=("png", "pdf", "svg"), default="png", dest="fmt",
                        help="image format of --figures (pdf and svg are vector; default png)")
    parser.add_argument("--report", metavar="PATH",
                        help="also write one self-contained HTML page of the run (rows, figures) to PATH")
    parser.add_argument("--from", metavar="JSON", dest="from_json",
                        help="do not run checks: read a run saved with --json and print its table "
                             "(with --report, --figures: render them from it)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print the reason for the tolerance under every row (default: under "
                             "FAIL and NOT REPRODUCED rows only)")
    parser.add_argument("--list", action="store_true", help="list the checks and the Formulas each compares, and exit (with -v: their citations too, which derives every Formula: slower)")
    parser.add_argument("--jobs", default="auto", metavar="N|auto",
                        help="worker processes, one family per task (default auto: the CPU's cores, "
                             "at most 8, for a quick run on one CPU device; 1 otherwise)")
    parser.add_argument("--seed", type=int, default=0, help="base seed of every check's PRNG keys")
    parser.add_argument("--time-limit", type=float, default=1800.0, metavar="SECONDS",
                        help="per-check time limit; a check past it is a failed row (0: none; default 1800)")
    parser.add_argument("--ignore-memory", action="store_true",
                        help="run at full size even where a family's measured peak memory exceeds half "
                             "of this machine's (see FULL_SIZE_PEAK_GB in verify/cli.py)")
    parser.add_argument("--mutate", action="store_true",
                        help="plant the declared plausible mistakes (MISTAKES at the end of verify/checks/<family>.py) in the "
                             "Formulas the selected checks use and print which row catches each (exit 1 "
                             "if one is not caught by a failing numeric row)")
    parser.add_argument("--generated", action="store_true",
                        help="with --mutate: the mechanical perturbations of every used Formula instead "
                             "(11/10, 2, dropped terms, powers, signs; exit 1 if one survives undeclared)")
    return parser.parse_args(argv)


def _pick_devices(name: str | None, count: str) -> list:
    """The devices of platform ``name`` (JAX's default when None), ``count`` of them."""
    if name is None:
        devices = jax.devices()
    else:
        try:
            devices = jax.devices(name)
        except RuntimeError:
            raise SystemExit(f"--device {name}: no {name.upper()} is available to JAX "
                             f"(backend is {jax.default_backend()!r})") from None
    if count == "all":
        return devices
    try:
        n = int(count)
    except ValueError:
        n = 0
    if not 1 <= n <= len(devices):
        raise SystemExit(f"--num-devices {count}: must be 'all' or an integer in [1, {len(devices)}] "
                         f"({len(devices)} {devices[0].platform} device(s) visible to JAX)")
    return devices[:n]


def main(argv=None) -> int:
    # Entry point: float64 for the whole run (library modules never change jax.config).
    jax.config.update("jax_enable_x64", True)
    args = parse_args(argv)

    from verify import compile_speed, core, figures, parallel, report

    if args.quick and args.device != "gpu" and not compile_speed.accelerator_visible():
        # Compile-bound: XLA's backend optimisation level 0 (verify/compile_speed.py), set before
        # the first backend starts; the worker processes inherit it. A level in XLA_FLAGS wins.
        compile_speed.prefer_fast_compilation()
    if args.from_json:
        return _from_json(args)
    try:
        checks = core.select(args.names)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        print(report.list_checks(checks, cites=args.verbose))
        return 0
    if args.time_limit < 0:
        print(f"error: --time-limit must be >= 0 seconds, got {args.time_limit}", file=sys.stderr)
        return 2
    if args.mutate:
        return _mutate(checks, args)

    devices = _pick_devices(args.device, args.num_devices)  # bad arguments first, then the size
    refusal = None if args.ignore_memory else memory_refusal(
        checks, "quick" if args.quick else "full", _machine_memory_gb())
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2

    device = devices[0]
    size = "quick" if args.quick else "full"
    try:
        jobs = parallel.plan_jobs(args.jobs, platform=device.platform, size=size,
                                  devices=len(devices), families=len({parallel.family_of(c.name)
                                                                      for c in checks}))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    ctx = core.Context(size="quick" if args.quick else "full", seed=args.seed, devices=tuple(devices),
                       time_limit=args.time_limit or None)
    print(f"verify: {len(checks)} checks, {'quick' if args.quick else 'full'} size, "
          f"device {device.platform}:{getattr(device, 'device_kind', device)}"
          f"{f' x {len(devices)}' if len(devices) > 1 else ''}, jax {jax.__version__}")
    print(report.header(verbose=args.verbose), flush=True)
    start = time.perf_counter()
    if jobs == 1:
        results, figure_list, figure_checks = _run_here(checks, ctx, device, args.verbose, start)
        cites = None  # (this process derived the Formulas: each check's cites is at hand)
    else:
        results, figure_list, figure_checks, cites = _run_in_workers(checks, ctx, device, jobs, args.verbose,
                                                                     start)
    seconds = time.perf_counter() - start
    section = report.not_reproduced_section(results)
    if section:
        print(section)
    print(report.summary(results, seconds))
    if args.json or args.report:
        record = report.run_record(
            results, args.quick, seconds, size=ctx.size, seed=args.seed, checks=checks,
            figures=[figures.to_record(f, c) for f, c in zip(figure_list, figure_checks)],
            argv=list(sys.argv[1:] if argv is None else argv), devices=len(devices), cites=cites)
        _write_outputs(args, record, figure_list)
    elif args.figures:
        _write_outputs(args, None, figure_list)
    return 0 if results and all(r.passed for r in results) else 1


def _run_here(checks, ctx, device, verbose, start):
    """The checks one after another in this process: rows printed as they come."""
    from verify import core, report

    results, figure_checks = [], []
    with jax.default_device(device):
        for i, chk in enumerate(checks, 1):
            print(_progress(i, len(checks), chk.name, time.perf_counter() - start), file=sys.stderr,
                  flush=True)
            for result in core.run([chk], ctx):
                results.append(result)
                print(report.format_row(result, verbose=verbose), flush=True)
            figure_checks += [chk.name] * (len(ctx.figures) - len(figure_checks))
    return results, list(ctx.figures), figure_checks


def _run_in_workers(checks, ctx, device, jobs, verbose, start):
    """Each family in a worker process (verify.parallel): a family's rows are printed together
    when it ends; the rows and figures returned are in the selection's order, as a serial
    run's, with each check's citations as the workers found them."""
    from verify import parallel, report

    names = [c.name for c in checks]
    families = parallel.group_by_family(names)
    print(f"  running {len(families)} families in {jobs} worker processes (--jobs 1: one process)",
          file=sys.stderr, flush=True)
    done: dict[str, parallel.FamilyRun] = {}
    for run in parallel.run_families(names, jobs=jobs, size=ctx.size, seed=ctx.seed,
                                     time_limit=ctx.time_limit, platform=device.platform):
        done[run.family] = run
        print(f"  [{len(done)}/{len(families)} families] {run.family}: {len(run.results)} rows in "
              f"{run.seconds:.0f} s ({time.perf_counter() - start:.0f} s elapsed)", file=sys.stderr,
              flush=True)
        for result in run.results:
            print(report.format_row(result, verbose=verbose), flush=True)
    by_check: dict[str, tuple[list, list]] = {name: ([], []) for name in names}
    for run in done.values():
        for result in run.results:
            by_check[result.check][0].append(result)
        for figure, name in zip(run.figures, run.figure_checks):
            by_check[name][1].append(figure)
    results, figure_list, figure_checks = [], [], []
    for name in names:  # the order of the selection, as a serial run prints it
        rows, figs = by_check[name]
        results += rows
        figure_list += figs
        figure_checks += [name] * len(figs)
    cites = {name: text for run in done.values() for name, text in run.cites.items()}
    return results, figure_list, figure_checks, cites


def _progress(i: int, n: int, name: str, elapsed: float) -> str:
    """``[i/n] name ... (elapsed, checks done)``.

    No time-left estimate: the checks' costs differ by three orders of magnitude (a symbolic
    identity in milliseconds, a finite-width ensemble in minutes) and the slow ones are not
    spread evenly, so the mean pace so far said "about 23 s left" at 46 s of a 389 s run. The
    count of checks done is the progress that is known.
    """
    text = f"  [{i}/{n}] {name} ..."
    if i > 1 and elapsed > 30:
        text += f" ({elapsed:.0f} s elapsed, {i - 1} of {n} checks done)"
    return text


# Peak resident memory of `python -m verify FAMILY` at full size, in GB, where measured (issue 32:
# linreg's min-norm Monte Carlo at n = 400, d = 3200, 1000 trials in one vmap peaked at 22.6 GB on the
# 24 GB machine). Quick size stays far below (every family runs in the 2-core CI machine's memory).
FULL_SIZE_PEAK_GB = {"linreg": 22.6}
MEMORY_FRACTION = 0.5  # refuse a run whose measured peak exceeds this fraction of the machine's memory


def _machine_memory_gb() -> float | None:
    """Physical memory of this machine in GB (None where the OS does not say)."""
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (AttributeError, ValueError, OSError):
        return None


def memory_refusal(checks, size: str, machine_gb: float | None) -> str | None:
    """Why the selected checks should not run at ``size`` on a machine of ``machine_gb`` GB, or None."""
    if size != "full" or machine_gb is None:
        return None
    families = sorted({c.name.split(".")[0] for c in checks} & set(FULL_SIZE_PEAK_GB))
    over = [f for f in families if FULL_SIZE_PEAK_GB[f] > MEMORY_FRACTION * machine_gb]
    if not over:
        return None
    need = ", ".join(f"{f} peaks at {FULL_SIZE_PEAK_GB[f]:g} GB" for f in over)
    return (f"at full size {need}: more than half of this machine's {machine_gb:.1f} GB; it needs a "
            f"machine with at least {max(FULL_SIZE_PEAK_GB[f] for f in over) / MEMORY_FRACTION:.0f} GB. "
            f"Run --quick, leave those families out, or pass --ignore-memory to run anyway")


def _write_outputs(args, record, figure_list) -> None:
    """--json, --figures DIR [--format], --report PATH, from a run or a loaded record."""
    import json

    from verify import figures, html_report

    if args.json and record is not None:
        with open(args.json, "w") as handle:
            json.dump(record, handle, indent=1, default=str)
    if args.figures:
        written = figures.write_all(figure_list, args.figures, args.fmt)
        print(f"figure data: {len(written)} files in {args.figures}")
    if args.report:
        path = html_report.write(record, args.report)
        print(f"report: {path}")


def _from_json(args) -> int:
    """``--from run.json``: the table of a saved run, and its report/figures when asked."""
    from verify import figures, report

    if args.names:
        print("error: --from renders a saved run; give no check names with it", file=sys.stderr)
        return 2
    try:
        record = report.load(args.from_json)
    except (OSError, ValueError) as exc:
        print(f"error: --from {args.from_json}: {exc}", file=sys.stderr)
        return 2
    env = record.get("environment", {})
    print(f"verify: {args.from_json}: {len(record['rows'])} rows, {record.get('size', '?')} size, "
          f"device {env.get('backend', '?')}:{env.get('device', '?')}, jax {env.get('jax', '?')}")
    print(report.header(verbose=args.verbose))
    for row in record["rows"]:
        print(report.format_row(row, verbose=args.verbose))
    section = report.not_reproduced_section(record["rows"])
    if section:
        print(section)
    print(report.summary(record["rows"], float(record.get("seconds", 0.0))))
    args.json = None  # the record is already a file
    _write_outputs(args, record, [figures.from_record(f) for f in record["figures"]])
    return 0 if record["rows"] and all(r["passed"] for r in record["rows"]) else 1


def _mutate(checks, args) -> int:
    from verify import mutations

    if not args.generated:
        return _plant_mistakes(checks, args)
    records = []
    for record in mutations.kill_table(checks, "quick" if args.quick else "full", args.time_limit or None):
        records.append(record)
        print(f"  {record.check} {record.argument} [{record.mutation}]: {record.outcome}",
              file=sys.stderr, flush=True)
    print(mutations.format_table(records))
    if args.json:
        import json

        with open(args.json, "w") as handle:
            json.dump([r._asdict() for r in records], handle, indent=2)
    return 0 if all(r.outcome != "survived" for r in records) else 1


def _plant_mistakes(checks, args) -> int:
    """``--mutate``: the declared mistakes of the selected checks' Formulas, one row each."""
    from verify import mutations

    size = "quick" if args.quick else "full"
    records = []
    for mistake in mutations.mistakes_for(checks):
        record = mutations.hunt(mistake, checks, size, args.time_limit or None)
        records.append(record)
        print(f"  {mistake.formula} [{mistake.what}]: {record.outcome} {record.check} "
              f"({record.seconds:.1f} s)", file=sys.stderr, flush=True)
    if not records:
        print("no declared mistake concerns the selected checks' Formulas", file=sys.stderr)
        return 2
    print(mutations.format_catches(records))
    if args.json:
        import json

        with open(args.json, "w") as handle:
            json.dump([{**r._asdict(), "mistake": r.mistake._asdict()} for r in records], handle, indent=2)
    return 0 if all(r.outcome == "caught" for r in records) else 1
