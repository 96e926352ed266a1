"""The GPU-visit driver (benchmarks/gpu_verify.py, gpu_visit.sh): order, budget, refusals.

No verify subprocess runs here: ``run_family`` is replaced by a stub that takes a known time,
so these tests cost well under a second and check only the driver's own logic.
"""

import importlib.util
import json
import os
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_benchmark(name):
    """benchmarks/NAME.py as a module (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "benchmarks", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver():
    return _load_benchmark("gpu_verify")


def test_order_is_light_first_unmeasured_next_heavy_last(driver, monkeypatch):
    monkeypatch.setattr(driver, "FAMILY_COST", {"a": (5.0, None), "b": (1.0, 50.0), "heavy": (2.0, 4000.0),
                                                "heavier": (1.0, 9000.0)})
    assert driver.ordered(["heavier", "new", "heavy", "a", "b"]) == ["b", "a", "new", "heavy", "heavier"]
    # negative control: with no cost table the order is the given one (nothing is invented)
    monkeypatch.setattr(driver, "FAMILY_COST", {})
    assert driver.ordered(["heavier", "new", "a"]) == ["heavier", "new", "a"]


def test_budget_stops_starting_families_and_lists_the_rest(driver, monkeypatch, tmp_path):
    ran = []

    def fake_run(family, args, left):
        ran.append((family, left))
        time.sleep(0.3)
        return {"family": family, "status": "passed", "returncode": 0, "seconds": 0.3, "json": None}

    monkeypatch.setattr(driver, "families", lambda: ["f1", "f2", "f3", "f4"])
    monkeypatch.setattr(driver, "FAMILY_COST", {})
    monkeypatch.setattr(driver, "run_family", fake_run)
    # 0.3 s per family, budget 0.75 s, start only with >= 0.2 s left: f1, f2 run (0.75, 0.45 left),
    # f3 sees ~0.15 s left and is not started; the sleep is the only timing, so the margins are 0.05 s+
    code = driver.main(["--out", str(tmp_path), "--budget", "0.75", "--min-start", "0.2"])
    summary = json.loads((tmp_path / "verify-summary.json").read_text())
    assert [f for f, _ in ran] == ["f1", "f2"]
    assert summary["did_not_run"] == ["f3", "f4"]
    assert [o["status"] for o in summary["families"]] == ["passed", "passed", "not run", "not run"]
    assert code == 1  # not every family passed: the visit must not read as complete
    assert ran[1][1] < ran[0][1] <= 0.75  # each family's limit is what is left of the budget


def test_driver_refuses_bad_input_by_name(driver, monkeypatch, tmp_path):
    monkeypatch.setattr(driver, "families", lambda: ["f1"])
    with pytest.raises(SystemExit):
        driver.main(["--out", str(tmp_path), "--budget", "0"])
    with pytest.raises(SystemExit):
        driver.main(["--out", str(tmp_path), "nosuchfamily"])


@pytest.mark.parametrize("script", ["gpu_visit.sh", "gpu_second_visit.sh"])
def test_visit_scripts_parse_and_refuse_bad_limits(script):
    path = os.path.join(ROOT, "benchmarks", script)
    assert subprocess.run(["bash", "-n", path]).returncode == 0
    bad = subprocess.run(["bash", path, "--total", "ten"], capture_output=True, text=True)
    assert bad.returncode == 2 and "whole seconds, got 'ten'" in bad.stderr
    unknown = subprocess.run(["bash", path, "--bogus"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown argument --bogus" in unknown.stderr


@pytest.fixture(scope="module")
def peer_kernels():
    return _load_benchmark("peer_kernels")


def test_versus_errors_are_normalised_by_the_reference_diagonal(peer_kernels):
    import jax.numpy as jnp
    import numpy as np

    k64 = jnp.array([[4.0, 1.0], [1.0, 1.0]])
    k32 = (k64 + jnp.array([[0.0, 0.02], [0.0, 0.0]])).astype(jnp.float32)
    normalised, elementwise = (float(v) for v in peer_kernels._errors(k32, k64))
    # 0.02 / sqrt(4 * 1) and 0.02 / 1, to float32 round-off of the entries (~1e-7)
    np.testing.assert_allclose([normalised, elementwise], [0.01, 0.02], rtol=1e-5)


def test_versus_goal_needs_both_speed_and_accuracy_at_large_n(peer_kernels):
    row = {"act": "relu", "n": 8192, "nt_over_ours": 2.0, "ours_err_nngp": 2e-6, "ours_err_ntk": 3e-6}
    assert peer_kernels.versus_goal([row])[0].startswith("goal at N = 8192 (relu): met")
    slow, loose = dict(row, nt_over_ours=1.4), dict(row, ours_err_ntk=2e-5)  # negative controls
    assert all(": missed" in line for line in peer_kernels.versus_goal([slow, loose]))
    small = dict(row, n=4096)  # below the goal's size: not a measurement of it
    assert peer_kernels.versus_goal([small]) == ["goal: no row at N >= 8192 (not measured)"]
