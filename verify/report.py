"""The table `python -m verify` prints, and its JSON form."""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable

import jax

from verify.core import Result

COLUMNS = (("check", 44), ("prediction", 12), ("measurement", 12), ("error", 9),
           ("tolerance", 9), ("ok", 4), ("sec", 6))


def _fmt(value, width: int) -> str:
    if isinstance(value, float):
        text = f"{value:.6g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"
    else:
        text = str(value)
    return text[:width].ljust(width)


def header() -> str:
    line = " ".join(name.ljust(w) for name, w in COLUMNS) + " reason"
    return line + "\n" + "-" * len(line)


def format_row(result: Result) -> str:
    row = result.row
    cells = (result.name, row.prediction, row.measurement, row.error, row.tolerance,
             result.status, f"{result.seconds:.1f}")
    name_width = COLUMNS[0][1]
    name = result.name if len(result.name) <= name_width else result.name[: name_width - 1] + "~"
    cells = (name,) + cells[1:]
    return " ".join(_fmt(c, w) for c, (_, w) in zip(cells, COLUMNS)) + " " + row.reason


def summary(results: list[Result], seconds: float) -> str:
    failed = [r for r in results if not r.passed]
    info = sum(r.status == "INFO" for r in results)
    checked = len(results) - info
    text = f"{checked - len(failed)}/{checked} rows passed in {seconds:.1f} s"
    if info:
        text += f" ({info} informational rows, not checks)"
    if failed:
        text += "; FAILED: " + ", ".join(r.name for r in failed)
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


def to_json(results: Iterable[Result], quick: bool, seconds: float) -> str:
    rows = [
        {
            "check": r.check, "label": r.row.label, "name": r.name,
            "prediction": r.row.prediction, "measurement": r.row.measurement,
            "error": r.row.error, "tolerance": r.row.tolerance, "reason": r.row.reason,
            "passed": r.passed, "status": r.status, "seconds": r.seconds,
        }
        for r in results
    ]
    return json.dumps({"quick": quick, "seconds": seconds, "environment": environment(),
                       "rows": rows}, indent=2, default=str)
