"""The gallery (``examples/*.py``, jupytext percent notebooks) runs top to bottom.

Marked ``notebooks``: outside the default run (``python -m pytest -m notebooks``; ``.ci/run``
runs it). Each notebook is executed as the script it also is, in a fresh process (as a
kernel would run it), with its figures written to a temporary folder; it fails if any
cell raises, which includes its own ``assert run.passed`` on the check's rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.py"))


def test_every_notebook_is_a_jupytext_percent_notebook_with_a_claim_and_a_check():
    assert len(NOTEBOOKS) >= 10
    for path in NOTEBOOKS:
        text = path.read_text()
        assert "formats: py:percent" in text and "# %% [markdown]" in text, path.name
        assert "**Claim**" in text and ("arXiv:" in text or "ICML" in text), path.name
        assert "notebook.run(" in text and "assert run.passed" in text, path.name


@pytest.mark.notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", GALLERY_FIGURES=str(tmp_path),
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "rows hold" in out.stdout
    assert list(tmp_path.glob("*.png")), "the notebook drew no figure"
