"""The gallery: ``examples/*.py`` (jupytext percent notebooks) executed into ``.ipynb`` with outputs.

Each notebook is read with jupytext and executed top to bottom by nbclient in a fresh IPython
kernel (the ``python3`` kernel of the interpreter running the build), with the repository on
``PYTHONPATH`` and the working directory a scratch folder, so the figures are the inline PNGs
of ``run.draw()``. A cell that raises fails the build (the notebooks ``assert run.passed``), so
the site never shows a gallery page whose check failed. Notebooks run ``jobs`` at a time, each in
its own process.

Figures: :mod:`verify.figures` draws on matplotlib's Agg backend, so a kernel would show
``run.draw()``'s list of Figures as text only. A first cell, tagged ``remove-cell`` (MyST-NB
leaves it out of the page), registers a hook that displays every pyplot figure still open after
a cell as a PNG and closes it, as matplotlib's inline backend does; the list's text value
(``[<Figure size 560x390 with 1 Axes>]``) is then dropped from the outputs as noise.

Example:
    >>> [p.stem for p in notebooks()][:2]
    ['bilevel_hypergradients', 'bootstrap_nakkiran']
    >>> _figure_list_only({"output_type": "execute_result", "data": {"text/plain":
    ...     "[<Figure size 560x390 with 1 Axes>,\\n <Figure size 560x390 with 1 Axes>]"}})
    True
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import os
import re
import tempfile
import time
from pathlib import Path

__all__ = ["ROOT", "execute", "execute_all", "index_page", "notebooks"]

ROOT = Path(__file__).resolve().parents[1]
_FIGURE_LIST = re.compile(r"^\[(<Figure size [^>]*>(, )?)+\]$")
_SHOW_FIGURES = """\
import sys
from IPython import get_ipython
from IPython.core.pylabtools import select_figure_formats
from IPython.display import display

select_figure_formats(get_ipython(), {"png"})


def _show_open_figures(result):
    if "matplotlib.pyplot" in sys.modules:
        plt = sys.modules["matplotlib.pyplot"]
        for number in plt.get_fignums():
            display(plt.figure(number))
            plt.close(number)


get_ipython().events.register("post_run_cell", _show_open_figures)
"""


def notebooks() -> list[Path]:
    """The gallery's notebooks, sorted by file name."""
    return sorted((ROOT / "examples").glob("*.py"))


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def execute(source: Path, target: Path, timeout: int = 900) -> float:
    """Execute ``source`` into ``target`` (an .ipynb with outputs); returns the seconds it took."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient

    start = time.perf_counter()
    notebook = jupytext.read(source, fmt="py:percent")
    import nbformat.v4

    setup = nbformat.v4.new_code_cell(_SHOW_FIGURES, metadata={"tags": ["remove-cell"]})
    notebook.cells.insert(0, setup)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.pop("GALLERY_FIGURES", None)  # figures stay inline, nothing written beside the page
    with tempfile.TemporaryDirectory(prefix="tdtk-gallery-") as scratch:
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": scratch}})
        client.execute(env=env)  # the kernel's environment
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not _figure_list_only(o)]
    notebook.metadata["tdtk"] = {"source": f"examples/{source.name}", "sha256": _digest(source)}
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    return time.perf_counter() - start


def _figure_list_only(output) -> bool:
    text = output.get("data", {}).get("text/plain", "") if output.get("output_type") == "execute_result" else ""
    one_line = " ".join(text.split())  # IPython breaks a long list over lines
    return bool(text) and bool(_FIGURE_LIST.match(one_line)) and len(output["data"]) == 1


def _reusable(source: Path, target: Path) -> bool:
    if not target.is_file():
        return False
    try:
        meta = json.loads(target.read_text())["metadata"].get("tdtk", {})
    except (ValueError, KeyError):
        return False
    return meta.get("sha256") == _digest(source)


def execute_all(out_dir: Path, jobs: int = 2, reuse: bool = False, log=print) -> dict[str, float]:
    """Execute every notebook into ``out_dir/<name>.ipynb``, ``jobs`` at a time.

    ``reuse=True`` keeps an executed notebook whose source has not changed since (a quicker
    rebuild while editing the site; the toolkit's code may have changed, so CI never reuses).
    Raises ``RuntimeError`` naming every notebook that failed, with the end of its error.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    todo = {p: out_dir / f"{p.stem}.ipynb" for p in notebooks()}
    seconds: dict[str, float] = {}
    if reuse:
        for source in [s for s, t in todo.items() if _reusable(s, t)]:
            seconds[source.stem] = 0.0
            del todo[source]
    failures = []
    # spawn, not fork: the build derives the catalogue with JAX in another thread meanwhile
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=spawn) as pool:
        futures = {pool.submit(execute, source, target): source for source, target in todo.items()}
        for future in concurrent.futures.as_completed(futures):
            source = futures[future]
            try:
                seconds[source.stem] = future.result()
                log(f"gallery: {source.name} executed in {seconds[source.stem]:.0f} s")
            except Exception as exc:  # noqa: BLE001 -- reported, then the build fails
                failures.append(f"{source.name}: {type(exc).__name__}: {str(exc)[-2000:]}")
    if failures:
        raise RuntimeError("gallery notebooks failed:\n" + "\n".join(failures))
    return seconds


def index_page(names: list[str]) -> str:
    """The gallery's landing page: examples/README.md's text and table, linked to the pages."""
    readme = (ROOT / "examples" / "README.md").read_text()
    lines = []
    for line in readme.splitlines():
        match = re.match(r"\| `([a-z0-9_]+)\.py` \|", line)
        if match and match.group(1) in names:
            line = line.replace(f"`{match.group(1)}.py`", f"[`{match.group(1)}`]({match.group(1)}.ipynb)", 1)
        lines.append(line)
    lines += ["", "Each page is the notebook executed at notebook size when the site was built, "
              "with its printed rows, verdict and figures.", "", "```{toctree}", ":hidden:", ""]
    lines += names + ["```", ""]
    return "\n".join(lines)
