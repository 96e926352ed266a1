"""The verify machinery and CLI, and negative controls: wrong formulas are rejected."""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from analytic.formula import Formula
from analytic.symbols import gamma, kappa, r2, sigma2
from verify import core
from verify.checks import linreg as linreg_checks


def test_compare_relative_absolute_and_nan():
    row = core.compare("x", [1.0, 2.0], [1.0, 2.2], 0.05, "reason")
    assert row.error == pytest.approx(0.1) and not row.passed and row.measurement == 2.2
    assert core.compare("x", 1.0, 1.01, 0.02, "r", relative=False).passed
    assert not core.compare("x", 1.0, float("nan"), 1e9, "r").passed  # NaN never passes
    assert core.compare_outcome("x", "diverges", "diverges", "r").passed
    assert not core.compare_outcome("x", "diverges", "converges", "r").passed


def test_every_registered_check_cites_and_describes():
    checks = core.registry()
    assert len(checks) >= 7
    for name, chk in checks.items():
        assert chk.cites and chk.description, name


def test_select_by_family_name_and_glob():
    assert {c.name for c in core.select(["linreg.critical_lr"])} == {"linreg.critical_lr"}
    assert all(c.name.startswith("linreg.") for c in core.select(["linreg"]))
    assert {c.name for c in core.select(["*ridgeless*"])} == {"linreg.ridgeless_risk"}
    with pytest.raises(ValueError, match="no check matches 'nope'"):
        core.select(["nope"])


def test_a_raising_check_is_a_failed_row():
    def broken(ctx):
        raise RuntimeError("boom")
        yield  # pragma: no cover

    (result,) = core.run([core.Check("t.broken", broken, "c", "d")], core.Context())
    assert not result.passed and "boom" in result.row.reason


def test_negative_control_wrong_rate_is_rejected():
    wrong = Formula("wrong.rate", kappa / (kappa + 1), (kappa,), source="wrong", derived=False)
    first = next(linreg_checks.optimal_rate(core.Context(quick=True), rate=wrong))
    assert first.label == "kappa=10" and not first.passed
    right = next(linreg_checks.optimal_rate(core.Context(quick=True)))
    assert right.label == "kappa=10" and right.passed


def test_negative_control_wrong_double_descent_is_rejected():
    # The variance branch with (1 - gamma) squared: 1/3 instead of 1/12 at gamma = 1/4.
    wrong = Formula("wrong.ridgeless", sp.Piecewise((sigma2 * gamma / (1 - gamma) ** 2, gamma < 1),
                                                    (r2 * (1 - 1 / gamma) + sigma2 / (gamma - 1), True)),
                    (gamma, r2, sigma2), source="wrong", derived=False)
    first = next(linreg_checks.ridgeless_risk(core.Context(quick=True), risk=wrong))
    assert first.label == "gamma=0.25" and not first.passed


def _cli(*args, env=None):
    """``python -m verify ARGS`` in a fresh process (the CLI end to end: its own JAX start)."""
    return subprocess.run([sys.executable, "-m", "verify", *args], capture_output=True, text=True, env=env)


def _cli_here(capsys, *args):
    """``verify.cli.main(ARGS)`` in this process: (exit code, stdout, stderr).

    For argument handling, which ends before any check runs: a fresh process (``_cli``) would pay
    Python, JAX and the catalogue's import (~4 s) to reach the same lines of ``main``. A
    ``SystemExit(message)`` is what ``python -m verify`` turns into exit status 1 with the message on
    stderr (Python's own handling of a string exit code), so it is returned as that.
    """
    from verify import cli
    capsys.readouterr()  # drop what came before
    try:
        code = cli.main(list(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            code = 1
        else:
            code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def _four_cpu_devices_env():
    """This process's environment with four simulated CPU devices (the XLA flags kept)."""
    import os
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split()
             if not f.startswith("--xla_force_host_platform_device_count=")]
    return {**os.environ, "XLA_FLAGS": " ".join([*flags, "--xla_force_host_platform_device_count=4"])}


def test_cli_runs_selected_checks_writes_json_and_figures(tmp_path):
    """The CLI end to end in a fresh process, on four simulated CPU devices with ``--num-devices all``
    (one process for both: the device count is fixed when JAX starts)."""
    out = _cli("linreg.gradient_flow_limit", "--quick", "--num-devices", "all",
               "--json", str(tmp_path / "v.json"), "--figures", str(tmp_path / "fig"), env=_four_cpu_devices_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "x 4" in out.stdout.splitlines()[0]  # --num-devices all: the four devices
    assert "linreg.gradient_flow_limit[log-log slope" in out.stdout and "PASS" in out.stdout
    report = json.loads((tmp_path / "v.json").read_text())
    assert report["environment"]["x64"] is True  # the CLI switches float64 on
    assert {r["check"] for r in report["rows"]} == {"linreg.gradient_flow_limit"}
    assert all(r["passed"] and r["reason"] for r in report["rows"])
    with open(tmp_path / "fig" / "linreg_gradient_flow_limit.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4 and set(rows[0]) == {"eta", "max_relative_gap"}


def test_cli_list_and_unknown_name(capsys):
    code, out, _ = _cli_here(capsys, "--list")
    assert code == 0 and "linreg.ridgeless_risk" in out
    code, _, err = _cli_here(capsys, "nope")
    assert code == 2 and "no check matches" in err


def test_cli_exits_nonzero_on_failure(monkeypatch):
    from verify import cli

    def failing(ctx):
        yield core.compare("x", 1.0, 2.0, 0.1, "deliberately failing")

    monkeypatch.setitem(core._REGISTRY, "t.failing", core.Check("t.failing", failing, "c", "d"))
    assert cli.main(["t.failing"]) == 1


def _has_gpu() -> bool:
    import jax
    try:
        return bool(jax.devices("gpu"))
    except RuntimeError:
        return False


@pytest.mark.skipif(_has_gpu(), reason="checks the message shown when no GPU is present")
def test_cli_device_gpu_without_gpu_fails_clearly(capsys):
    code, _, err = _cli_here(capsys, "linreg.critical_lr", "--device", "gpu")
    assert code != 0 and "no GPU is available to JAX" in err


@pytest.mark.skipif(not _has_gpu(), reason="needs a GPU visible to JAX")
def test_cli_runs_on_gpu():
    out = _cli("linreg.critical_lr", "linreg.optimal_rate", "--quick", "--device", "gpu")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "device gpu" in out.stdout


def test_compare_with_per_element_tolerance_reports_the_worst_element():
    row = core.compare("x", [1.0, 1.0, 1.0], [1.05, 1.3, 1.2], [0.1, 0.5, 0.1], "r", relative=False)
    assert not row.passed and row.measurement == 1.2 and row.tolerance == 0.1  # 0.2 > 0.1
    ok = core.compare("x", [1.0, 1.0], [1.05, 1.3], [0.1, 0.5], "r", relative=False)
    assert ok.passed and ok.measurement == 1.3  # 0.3/0.5 is the closest to its tolerance


def test_informational_rows_show_info_and_do_not_count_as_checks():
    from verify import report

    def measured(ctx):
        yield core.inform("deviation", 0.0, 0.7, "no bound claimed")
        yield core.compare("x", 1.0, 1.0, 0.1, "r")

    results = list(core.run([core.Check("t.info", measured, "c", "d")], core.Context()))
    assert [r.status for r in results] == ["INFO", "PASS"]
    assert "INFO" in report.format_row(results[0])
    assert report.summary(results, 1.0).startswith("1 row of 1 check passed, 1 informational")


def test_figure_rejects_unknown_or_ragged_columns():
    ctx = core.Context()
    with pytest.raises(ValueError, match="different lengths"):
        ctx.figure("f", {"x": [1, 2], "y": [1]}, x="x", ys=("y",))
    with pytest.raises(ValueError, match=r"no columns \['z'\]"):
        ctx.figure("f", {"x": [1, 2], "y": [1, 2]}, x="x", ys=("y",), grid_y="z")


def test_figures_write_csv_and_png_when_matplotlib_present(tmp_path):
    from verify import figures
    ctx = core.Context()
    ctx.figure("curve", {"x": [1.0, 2.0, 3.0], "predicted": [1.0, 4.0, 9.0], "measured": [1.1, 3.9, np.nan]},
               x="x", ys=("predicted", "measured"))
    ctx.figure("grid", {"a": [0, 0, 1, 1], "b": [0, 1, 0, 1], "predicted": [1, 2, 3, 4]},
               x="a", ys=("predicted",), grid_y="b")
    written = figures.write_all(ctx.figures, tmp_path)
    names = {p.name for p in written}
    assert {"curve.csv", "grid.csv"} <= names
    assert (tmp_path / "curve.csv").read_text().splitlines()[3] == "3,9,nan"
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not any(n.endswith(".png") for n in names)  # CSV only, no error
    else:
        assert {"curve.png", "grid.png"} <= names


def test_context_sizes_memo_and_mesh():
    assert core.Context(quick=True).size == "quick" and core.Context(quick=False).size == "full"
    smoke = core.Context(size="smoke")
    assert smoke.quick and smoke.smoke
    with pytest.raises(ValueError, match="size must be one of"):
        core.Context(size="huge")
    with pytest.raises(ValueError, match="num_devices must be a positive integer"):
        core.Context(num_devices=0)
    calls = []
    ctx = core.Context()
    assert ctx.memoise("k", lambda: calls.append(1) or 42) == 42
    assert ctx.memoise("k", lambda: calls.append(1) or 43) == 42 and calls == [1]
    assert core.Context().memo == {}  # memo lives and dies with its Context
    mesh = ctx.mesh
    assert mesh.axis_names == ("batch",) and mesh.devices.size == 1
    with pytest.raises(ValueError, match="num_devices = 99"):
        core.Context(num_devices=99).mesh


def test_check_hands_its_formulas_and_rejects_unknown_overrides():
    chk = core.registry()["linreg.critical_lr"]
    assert dict(chk.uses) == {"threshold": "linreg.critical_lr"}
    assert chk.cites.startswith("Nesterov 2004")  # from the Formula's source
    with pytest.raises(TypeError, match="unknown formula arguments"):
        list(chk(core.Context(), nope=None))


def test_cli_num_devices(capsys):
    code, _, err = _cli_here(capsys, "linreg.critical_lr", "--num-devices", "5")
    assert code != 0 and "--num-devices 5" in err
    # --num-devices all on four simulated devices: test_cli_runs_selected_checks_writes_json_and_figures


# --- what a new user hit (issue 32) --------------------------------------------------------------
def test_time_limit_row_says_so_without_jax_traceback_note():
    # What a time limit that fires inside jax.jit looks like: JAX attaches this note to any exception
    # passing through its frames (seen with a SIGALRM deadline around a traced function).
    timeout = core.CheckTimeout("t.hang exceeded its time limit of 0.5 s")
    timeout.add_note("--------------------\nFor simplicity, JAX has removed its internal frames from the "
                     "traceback of the following exception. Set JAX_TRACEBACK_FILTERING=off to include these.")
    assert core._exception_line(timeout) == "verify.core.CheckTimeout: t.hang exceeded its time limit of 0.5 s"

    def hang(ctx):
        raise timeout
        yield  # pragma: no cover

    (result,) = core.run([core.Check("t.hang", hang, "c", "d")], core.Context())
    assert not result.passed and result.row.label == "time limit"
    assert "exceeded its time limit of 0.5 s" in result.row.reason, result.row.reason
    assert "JAX" not in result.row.reason and "----" not in result.row.reason


def test_progress_line_counts_checks_and_claims_no_time_left():
    from verify.cli import _progress

    assert _progress(1, 18, "a", 0.0) == "  [1/18] a ..."
    line = _progress(13, 18, "b", 46.0)
    assert "46 s elapsed" in line and "12 of 18 checks done" in line and "left" not in line


def test_full_size_run_that_needs_more_than_half_the_memory_is_refused():
    from verify.cli import FULL_SIZE_PEAK_GB, memory_refusal

    linreg_checks_ = core.select(["linreg"])
    message = memory_refusal(linreg_checks_, "full", 24.0)
    assert message and f"{FULL_SIZE_PEAK_GB['linreg']:g} GB" in message and "24.0 GB" in message
    assert "at least 45 GB" in message  # 22.6 GB is half of 45.2 GB
    assert memory_refusal(linreg_checks_, "quick", 24.0) is None
    assert memory_refusal(linreg_checks_, "full", 64.0) is None  # 22.6 < 32: allowed
    assert memory_refusal(core.select(["catapult"]), "full", 24.0) is None  # not measured over


def test_workers_give_the_rows_and_figures_of_a_serial_run(tmp_path, capsys):
    """--jobs 2 runs each family in a worker process; the rows (values, order) and the figure
    data are the serial run's (here: the same checks run in this process, as ``--jobs 1`` runs
    them), since keys come from the seed and the check's name only. The CLI's ``main`` runs in
    this process (its workers are fresh spawned processes either way; the CLI in a process of its
    own: test_cli_runs_selected_checks_writes_json_and_figures)."""
    from verify import figures, report

    names = ("scaling.allocation_exponents", "eos.quadratic_thresholds", "nqm.sgd_mean",
             "deq.tanh_unrolled_gradient")  # cheap checks (~1 s each); the last draws a figure
    code, out, err = _cli_here(capsys, *names, "--quick", "--jobs", "2", "--json", str(tmp_path / "2.json"))
    assert code == 0, out + err
    assert "4 families in 2 worker processes" in err
    parallel = json.loads((tmp_path / "2.json").read_text())
    checks = [core.registry()[name] for name in names]
    ctx = core.Context(size="quick", seed=0)  # the CLI's default seed
    results, figure_checks = [], []
    for chk in checks:
        results += list(core.run([chk], ctx))
        figure_checks += [chk.name] * (len(ctx.figures) - len(figure_checks))
    serial = json.loads(json.dumps(report.run_record(
        results, True, 0.0, checks=checks, figures=[figures.to_record(f, c) for f, c in zip(ctx.figures,
                                                                                               figure_checks)])))
    rows = [[(r["check"], r["label"], r["prediction"], r["measurement"]) for r in run["rows"]]
            for run in (serial, parallel)]
    assert rows[0] == rows[1] and len(rows[0]) > 4
    drawn = [[json.dumps(f, sort_keys=True) for f in run["figures"]] for run in (serial, parallel)]
    assert drawn[0] == drawn[1] and drawn[0], "the figure data differ (or none was drawn)"


def test_jobs_plan_and_bad_values(capsys):
    from verify import parallel

    assert parallel.plan_jobs("auto", platform="gpu", size="quick", devices=1, families=9) == 1
    assert parallel.plan_jobs("auto", platform="cpu", size="full", devices=1, families=9) == 1
    assert parallel.plan_jobs("auto", platform="cpu", size="quick", devices=4, families=9) == 1
    assert 1 <= parallel.plan_jobs("auto", platform="cpu", size="quick", devices=1, families=9) <= 8
    assert parallel.plan_jobs(4, platform="cpu", size="quick", devices=1, families=2) == 2
    for bad in ("0", "-1", "two", 0, 1.5):
        with pytest.raises(ValueError, match="--jobs"):
            parallel.plan_jobs(bad, platform="cpu", size="quick", devices=1, families=3)
    code, _, err = _cli_here(capsys, "nqm.sgd_mean", "--quick", "--jobs", "zero")
    assert code == 2 and "--jobs must be 'auto' or a positive integer, got 'zero'" in err


def test_fast_compilation_flag_is_added_once_and_a_given_level_wins():
    from verify import compile_speed

    env = {}
    assert compile_speed.prefer_fast_compilation(env) and env["XLA_FLAGS"] == compile_speed.FAST_COMPILATION
    env = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    assert compile_speed.prefer_fast_compilation(env)
    assert env["XLA_FLAGS"].split() == ["--xla_force_host_platform_device_count=4", compile_speed.FAST_COMPILATION]
    assert compile_speed.prefer_fast_compilation(env) and env["XLA_FLAGS"].count("optimization_level") == 1
    env = {"XLA_FLAGS": "--xla_backend_optimization_level=3"}  # the user's level is kept
    assert not compile_speed.prefer_fast_compilation(env) and env["XLA_FLAGS"].endswith("=3")
    assert compile_speed.accelerator_visible({"JAX_PLATFORMS": "cuda,cpu"})
    assert not compile_speed.accelerator_visible({"JAX_PLATFORMS": "cpu"})


def test_checks_named_gives_the_registered_checks_and_refuses_unknown_names():
    """What a --jobs worker imports: the checks by name, the same objects as the registry's."""
    chosen = core.checks_named(["nqm.sgd_mean", "deq.tanh_unrolled_gradient"])
    assert list(chosen) == ["nqm.sgd_mean", "deq.tanh_unrolled_gradient"]
    assert all(chosen[name] is core.registry()[name] for name in chosen)
    with pytest.raises(ValueError, match="no registered check is called"):
        core.checks_named(["nqm.no_such_check"])
