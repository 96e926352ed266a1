"""The table `python -m verify` prints, and the JSON record of a run (which the HTML report reads).

The table fits the terminal width: a check name is never cut (one too long for its
column gets a line of its own, the numbers on the next), a value too long for its cell
is repeated in full below the row, and the reason for the tolerance is wrapped under
the row for failed and not-reproduced rows (for every row with ``verbose``). The summary
counts rows by status (PASS, FAIL, NOT REPRODUCED) and lists the claims not reproduced.

The JSON record (:func:`run_record`) keeps every field of every row plus the check's
citation and description, the run's size, seed, environment and versions, and the
figure data, so that ``python -m verify --from run.json --report run.html`` can render
a run made elsewhere.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import inspect
import json
import math
import platform
import shutil
import textwrap
from collections.abc import Iterable

import jax

from verify.core import NOT_REPRODUCED, Result

__all__ = ["COLUMNS", "terminal_width", "header", "format_row", "summary", "counts", "environment",
           "versions", "row_record", "run_record", "to_json", "load", "describe", "list_checks",
           "not_reproduced_section"]

# Value columns after the name: (title, width).
COLUMNS = (("prediction", 12), ("measurement", 12), ("error", 9), ("tolerance", 9), ("ok", 4),
           ("sec", 6))
_VALUES_WIDTH = sum(w for _, w in COLUMNS) + len(COLUMNS)
_REASON_INDENT = "    "


def terminal_width(default: int = 120) -> int:
    """Columns of the terminal (``$COLUMNS``, else ``default`` when not a terminal), at least 60."""
    return max(60, shutil.get_terminal_size((default, 24)).columns)


def _name_width(width: int) -> int:
    return max(20, min(60, width - _VALUES_WIDTH))


def _text(value) -> str:
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    return str(value)


def _cell(value, width: int) -> tuple[str, bool]:
    """The cell text and whether it was cut: a number is printed with as many significant
    digits as fit (6 down to 2, never cut mid-digit); other text is cut with "~"."""
    text = _text(value)
    if isinstance(value, float) and len(text) > width and math.isfinite(value):
        for digits in (5, 4, 3, 2):
            text = f"{value:.{digits}g}"
            if len(text) <= width:
                return text.ljust(width), False
    if len(text) <= width:
        return text.ljust(width), False
    return text[: width - 1] + "~", True


def header(width: int | None = None, verbose: bool = False) -> str:
    width = width or terminal_width()
    line = "check".ljust(_name_width(width)) + " " + " ".join(t.ljust(w) for t, w in COLUMNS)
    note = "reasons below FAIL and NOT REPRODUCED rows" + ("" if verbose else "; -v for every row")
    return line.rstrip() + "\n" + note + "\n" + "-" * min(width, len(line))


def row_record(result: Result | dict, cites: str = "", description: str = "") -> dict:
    """One row as a JSON-ready dict (every field of the row and its check)."""
    if isinstance(result, dict):
        return result
    r = result.row
    return {"check": result.check, "label": r.label, "name": result.name,
            "prediction": r.prediction, "measurement": r.measurement, "error": r.error,
            "tolerance": r.tolerance, "reason": r.reason, "passed": result.passed,
            "status": result.status, "informational": r.informational, "category": r.category,
            "kind": r.kind, "seconds": result.seconds,
            "cites": cites, "description": description}


def format_row(result: Result | dict, width: int | None = None, verbose: bool = False) -> str:
    """The row's line(s): name and values; then full values and the reason where needed."""
    row = row_record(result)
    width = width or terminal_width()
    name_width = _name_width(width)
    values = (row["prediction"], row["measurement"], row["error"], row["tolerance"], row["status"],
              f"{row['seconds']:.1f}")
    cells, cut = zip(*(_cell(v, w) for v, (_, w) in zip(values, COLUMNS)))
    lines = []
    name = row["name"]
    if len(name) > name_width:
        lines.append(name)
        name = ""
    lines.append((name.ljust(name_width) + " " + " ".join(cells)).rstrip())
    wrap = dict(width=width, initial_indent=_REASON_INDENT, subsequent_indent=_REASON_INDENT + "  ")
    if any(cut[:2]):
        lines += textwrap.wrap(f"predicted: {_text(row['prediction'])}; measured: "
                               f"{_text(row['measurement'])}", **wrap)
    if verbose or row["status"] != "PASS":
        lines += textwrap.wrap("reason: " + row["reason"], **wrap)
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def counts(rows: Iterable[Result | dict]) -> dict[str, int]:
    """Rows by status: ``passed`` and ``failed`` checks, ``not_reproduced`` claims (which hold:
    the measurement contradicts the paper), and ``info`` rows of the deprecated ``inform``."""
    statuses = [row_record(r)["status"] for r in rows]
    return {"passed": statuses.count("PASS"), "failed": statuses.count("FAIL"),
            "not_reproduced": statuses.count(NOT_REPRODUCED), "info": statuses.count("INFO"),
            "rows": len(statuses)}


def not_reproduced_section(results: Iterable[Result | dict], width: int | None = None) -> str:
    """"Claims not reproduced": each claim, its measured value, the distance and why ("" if none)."""
    width = width or terminal_width()
    rows = [row_record(r) for r in results if row_record(r)["status"] == NOT_REPRODUCED]
    if not rows:
        return ""
    wrap = dict(width=width, initial_indent=_REASON_INDENT, subsequent_indent=_REASON_INDENT + "  ")
    lines = [f"Claims not reproduced ({len(rows)}):"]
    for row in rows:
        lines.append("  " + row["name"])
        lines += textwrap.wrap(row["reason"], **wrap)
    return "\n".join(lines)


def summary(results: list[Result | dict], seconds: float) -> str:
    """"N rows of C checks passed ... in S s", then the rows by status (and the failed ones, named).

    A check (``linreg.ridgeless_risk``) yields several rows, each one comparison; the counts
    are of rows, and say how many checks they came from."""
    c = counts(results)
    rows = c["passed"] + c["failed"]
    records = [row_record(r) for r in results]
    n_checks = len({r["check"] for r in records})
    of_checks = f"{n_checks} {_plural(n_checks, 'check')}"
    if not c["failed"]:
        text = f"{c['passed']} {_plural(c['passed'], 'row')} of {of_checks} passed"
    else:
        failing = len({r["check"] for r in records if r["status"] == "FAIL"})
        text = (f"{c['failed']} of {rows} rows FAILED (in {failing} of {of_checks}), "
                f"{c['passed']} passed")
    if c["not_reproduced"]:
        text += f", {c['not_reproduced']} {_plural(c['not_reproduced'], 'claim')} not reproduced"
    if c["info"]:
        text += f", {c['info']} informational"
    text += f" in {seconds:.1f} s"
    text += (f"\nrows by status: PASS {c['passed']}, FAIL {c['failed']}, "
             f"NOT REPRODUCED {c['not_reproduced']}" + (f", INFO {c['info']}" if c["info"] else ""))
    failed = [row_record(r)["name"] for r in results if row_record(r)["status"] == "FAIL"]
    if failed:
        text += "\nFAILED:\n" + "\n".join("  " + name for name in failed)
    return text


def environment() -> dict:
    device = jax.devices()[0]
    return {
        "jax": jax.__version__,
        "backend": jax.default_backend(),
        "device": getattr(device, "device_kind", str(device)),
        "python": platform.python_version(),
        "x64": bool(jax.config.jax_enable_x64),
    }


def versions() -> dict[str, str]:
    """Installed versions of the packages a run depends on (absent ones left out)."""
    out = {"python": platform.python_version()}
    for package in ("jax", "jaxlib", "numpy", "scipy", "sympy", "matplotlib"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def describe(chk) -> str:
    """A check's description: its docstring's first paragraph (whole sentences), or as given."""
    doc = inspect.getdoc(chk.run) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    if first.startswith(chk.description.strip()):
        return first
    return chk.description


def list_checks(checks, width: int | None = None, cites: bool = True) -> str:
    """``--list``: each check's name, its whole description, the Formulas it compares and
    (``cites=True``) its citation, wrapped. Citations of undeclared checks come from their
    Formulas' sources, so ``cites=True`` derives every Formula the checks use."""
    width = width or terminal_width()
    lines = []
    for chk in checks:
        lines.append(chk.name)
        wrap = dict(width=width, initial_indent=_REASON_INDENT, subsequent_indent=_REASON_INDENT)
        lines += textwrap.wrap(describe(chk), **wrap)
        if chk.uses:
            lines += textwrap.wrap("compares: " + ", ".join(sorted({n for _, n in chk.uses})), **wrap)
        cited = chk.cites if cites else chk.declared_cites
        if cited:
            lines += textwrap.wrap(f"[{cited}]", **wrap)
    return "\n".join(lines)


def run_record(results: Iterable[Result | dict], quick: bool, seconds: float, *, size: str = "",
               seed: int | None = None, checks=(), figures: Iterable[dict] = (),
               argv: list[str] | None = None, devices: int = 1, cites: dict[str, str] | None = None) -> dict:
    """Everything about a run that the table, the JSON file and the HTML report show.

    ``cites``: check name -> citations where the caller has them (the worker processes of a
    parallel run); otherwise each check's ``cites``, which derives its Formulas."""
    by_name = {c.name: c for c in checks}
    known = dict(cites or {})

    def cites_of(chk):
        return known[chk.name] if chk.name in known else chk.cites

    rows = []
    for r in results:
        rec = dict(row_record(r))
        chk = by_name.get(rec["check"])
        if chk is not None:
            rec["cites"] = rec.get("cites") or cites_of(chk)
            rec["description"] = rec.get("description") or describe(chk)
        rows.append(rec)
    return {"quick": quick, "size": size or ("quick" if quick else "full"), "seed": seed,
            "seconds": seconds, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds"),
            "argv": list(argv or []), "num_devices": devices, "environment": environment(),
            "versions": versions(), "counts": counts(rows),
            "checks": [{"name": c.name, "description": describe(c), "cites": cites_of(c)} for c in checks],
            "rows": rows, "figures": list(figures)}


def to_json(results: Iterable[Result | dict], quick: bool, seconds: float, **extra) -> str:
    """The run as JSON text (see :func:`run_record` for ``extra``)."""
    return json.dumps(run_record(results, quick, seconds, **extra), indent=1, default=str)


def load(path) -> dict:
    """A record written by ``--json`` (older files without cites or figures load too)."""
    with open(path) as handle:
        record = json.load(handle)
    if not isinstance(record, dict) or "rows" not in record:
        raise ValueError(f"{path}: not a `python -m verify --json` file (no 'rows')")
    for row in record["rows"]:
        row.setdefault("cites", "")
        row.setdefault("description", "")
        row.setdefault("informational", row.get("tolerance") in (math.inf, "inf", "Infinity"))
        row.setdefault("category", "")
        row.setdefault("kind", "check")
    record.setdefault("figures", [])
    record.setdefault("counts", counts(record["rows"]))
    return record
