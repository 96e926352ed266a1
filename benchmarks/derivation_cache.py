"""Deriving the catalogue with sympy vs loading it from the disk cache, in one run.

Usage: ``python benchmarks/derivation_cache.py [FAMILY ...]`` (default: every family). Three
fresh processes, each deriving every Formula of the chosen families (``.expr``): with the cache
off, with an empty cache (derives and stores), and with that cache filled (loads). Prints the
CPU seconds of each, the ratio off / filled, how many Formulas were stored (those that do not
pickle are derived every time) and checks that the loaded expressions equal the derived ones.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, sys, time
import analytic
names = [n for n in analytic.names() if not sys.argv[1:] or n.split(".")[0] in sys.argv[1:]]
start = time.process_time()
exprs = {n: str(analytic.get(n).expr) for n in names}
print(json.dumps({"cpu": time.process_time() - start, "exprs": exprs}))
"""


def _derive(families, cache_dir: str) -> dict:
    env = dict(os.environ, TDTK_DERIVATION_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _CHILD, *families], capture_output=True, text=True, env=env,
                         check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*")
    families = parser.parse_args().families
    with tempfile.TemporaryDirectory() as folder:
        off = _derive(families, "")
        filling = _derive(families, folder)
        filled = _derive(families, folder)
        stored = sum(len(files) for _, _, files in os.walk(folder))
    assert off["exprs"] == filling["exprs"] == filled["exprs"], "a loaded expression differs from its derivation"
    print(f"{len(off['exprs'])} Formulas ({stored} stored; the rest do not pickle and are derived each time)")
    print(f"cache off    {off['cpu']:7.1f} s CPU")
    print(f"cache empty  {filling['cpu']:7.1f} s CPU (derive and store)")
    print(f"cache filled {filled['cpu']:7.1f} s CPU (load)   off / filled = {off['cpu'] / filled['cpu']:.1f}x")


if __name__ == "__main__":
    main()
