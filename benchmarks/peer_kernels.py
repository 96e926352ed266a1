"""Benchmark: analytic.kernels.fc_kernels side by side with neural-tangents 0.6.5, in one run.

neural-tangents is a peer, never a dependency of the toolkit: it is imported from the
directory ``--peers`` (default ``../shared/peers``, relative to the current directory;
``nt_shim.py`` there stubs its TensorFlow-only modules) after
``python -m pip install --no-deps DIR/*.whl``. Both libraries compute the same kernels
(fully-connected network, NTK parameterisation, a width-1 ``stax.Dense`` per layer).

1. Time: K(X, X) with depth 10, sigma_w 1.4, sigma_b 0.1, d 100, N points, ReLU and erf,
   float32 and float64; median of ``--repeats`` runs after a warm-up (``block_until_ready``).
   float32 runs with float64 switched off (``jax.enable_x64(False)``): with it on,
   neural-tangents promotes float32 inputs to float64.
2. Accuracy: elementwise relative error |k / k_ref - 1| (max over the chosen entries) against
   the textbook recursion on (k11, k22, k12) (ReLU: arccos form; erf: arcsin form) in mpmath at
   40 digits, from the exact float64 inputs, at depth 10:
   - coincident rows: x2 given, holding rows of x1 (entries x1_i = x2_i), sigma_b 0.1;
   - near-zero erf entries (~1e-7 of the largest; sigma_b 0, inputs at an angle pi/2 - 1e-7):
     "exact dot" inputs (one non-zero product per pair, so the float64 dot product is exact)
     and random inputs (the dot product's own round-off, ~5e-17, bounds every method there);
   - random entries: random x1, x2, sigma_b 0.1.
   The inputs are rounded to float32 first, so both dtypes and the reference see the same points.
3. Input gradients: jax.grad of sum(ntk(x1, x2)) with respect to x1, x2 holding two rows of
   x1 and two other points, sigma_b 0.6, depths 1, 3, 10, float64, against the central
   difference of the same sum evaluated in mpmath (40 digits, step 1e-15: the angle has a
   kink at coincident points, so the central difference is the symmetric derivative with an
   O(h) error, ~1e-15); max |g - g_ref| / max |g_ref|.

4. Versus (``--parts versus``; issue 35's GPU table): float32 K(X, X) at the sizes of part 1,
   ReLU and erf in the same run: ``fc_kernels`` (its input-layer dot product pinned by
   ``precision=jax.lax.Precision.HIGHEST`` when ``fc_kernels`` takes that argument: detected with
   ``inspect.signature``, and the table says when it is absent), neural-tangents at its default
   matmul precision (TF32 on an Ampere/Hopper GPU) and under
   ``jax.default_matmul_precision("highest")``; time (median of ``--repeats`` after a warm-up;
   compile + first call apart), the ratios NT / ours, and each float32 result's error against
   ``fc_kernels`` in float64 on the same inputs: max |K32 - K64| / sqrt(K64_ii K64_jj) (erf
   kernels cross zero, so an elementwise relative error is unbounded for any float32 method)
   and, for ReLU (all entries positive), the elementwise max |K32 / K64 - 1|. Up to
   ``--f64-check-max`` points neural-tangents in float64 is compared with ``fc_kernels`` in
   float64 as well (the cross-check that the reference is the same kernel: they agree to
   neural-tangents' float64 accuracy, ~1e-7 normalised for ReLU, whose arccos of a cosine
   rounded near 1 loses digits at the diagonal, and ~1e-14 for erf). A size whose time, extrapolated as N^2 from the previous size,
   would overrun ``--time-budget`` is skipped and listed. ``--json``/``--csv`` write the rows.

Usage: python benchmarks/peer_kernels.py [--peers DIR] [--sizes 1024 2048] [--repeats 3]
       python benchmarks/peer_kernels.py --parts versus --sizes 1024 4096 16384 --json out.json
"""

from __future__ import annotations

import argparse
import csv
import functools
import inspect
import json
import os
import platform
import statistics
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)  # entry point: float64 available

import jax.numpy as jnp  # noqa: E402
import mpmath as mp  # noqa: E402
import numpy as np  # noqa: E402

from analytic.kernels import fc_kernels  # noqa: E402

DEPTH, SW, SB, D, DIGITS = 10, 1.4, 0.1, 100, 40


def load_peer(directory: str):
    """neural_tangents.stax from ``directory`` (nt_shim first), or exit with what to do."""
    path = os.path.abspath(directory)
    if not os.path.isfile(os.path.join(path, "nt_shim.py")):
        sys.exit(f"peers not found: {path} has no nt_shim.py; pass --peers DIR (the folder with "
                 "nt_shim.py and the neural-tangents wheel)")
    sys.path.insert(0, path)
    import nt_shim  # noqa: F401
    try:
        from neural_tangents import stax
        import neural_tangents
    except ImportError as error:
        sys.exit(f"neural-tangents is not installed ({error}); run: "
                 f"python -m pip install --no-deps {path}/*.whl")
    return stax, neural_tangents.__version__


def peer_kernel_fn(stax, depth, activation, sw, sb):
    layer = {"relu": stax.Relu, "erf": stax.Erf}[activation]
    _, _, kernel_fn = stax.serial(*[stax.Dense(1, W_std=sw, b_std=sb), layer()] * depth,
                                  stax.Dense(1, W_std=sw, b_std=sb))
    return jax.jit(lambda x1, x2: tuple(kernel_fn(x1, x2, ("nngp", "ntk"))))


def ours_fn(depth, activation, sw, sb):
    return lambda x1, x2: tuple(fc_kernels(x1, x2, depth, activation, sw, sb))


def x64(dtype):
    """float64 on or off while computing in ``dtype``: with it on, neural-tangents promotes
    float32 inputs to float64 (its constants are Python floats), so its float32 would be float64."""
    enable_x64 = getattr(jax, "enable_x64", None)
    if enable_x64 is None:  # older jax: the experimental spelling
        from jax.experimental import enable_x64
    return enable_x64(np.dtype(dtype) == np.float64)


# --- the 40-digit reference ------------------------------------------------------------
def reference_pair(a, b, depth, activation, sw, sb):
    """(nngp, ntk) of the pair (a, b): the textbook recursion in mpmath (current precision)."""
    sw, sb = mp.mpf(sw), mp.mpf(sb)
    a, b = [mp.mpf(v) for v in a], [mp.mpf(v) for v in b]
    dot = lambda u, v: mp.fsum(p * q for p, q in zip(u, v)) / len(u)  # noqa: E731
    q1, q2, k = sw**2 * dot(a, a) + sb**2, sw**2 * dot(b, b) + sb**2, sw**2 * dot(a, b) + sb**2
    ntk = k
    for _ in range(depth):
        if activation == "relu":
            s = mp.sqrt(q1 * q2)
            c = max(-1, min(1, k / s))
            angle = mp.acos(c)
            expectation = s * (mp.sin(angle) + (mp.pi - angle) * c) / (2 * mp.pi)
            slope = (mp.pi - angle) / (2 * mp.pi)
            q1, q2 = sw**2 * q1 / 2 + sb**2, sw**2 * q2 / 2 + sb**2
        else:
            big = (1 + 2 * q1) * (1 + 2 * q2)
            expectation = 2 / mp.pi * mp.asin(2 * k / mp.sqrt(big))
            slope = 4 / mp.pi / mp.sqrt(big - 4 * k**2)
            q1, q2 = (sw**2 * 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) + sb**2 for q in (q1, q2))
        k = sw**2 * expectation + sb**2
        ntk = k + sw**2 * slope * ntk
    return k, ntk


def reference(x1, x2, pairs, depth, activation, sw, sb):
    with mp.workdps(DIGITS):
        out = [reference_pair(x1[i].tolist(), x2[j].tolist(), depth, activation, sw, sb) for i, j in pairs]
        return np.array([[float(v) for v in row] for row in out]).T  # (2, pairs)


# --- accuracy cases ----------------------------------------------------------------------
def coincident_case(rng):
    x1 = rng.standard_normal((4, 10))
    x2 = np.concatenate([x1[:2], rng.standard_normal((2, 10))])
    return x1, x2, [(0, 0), (1, 1)], SB


def near_zero_case(rng, exact: bool):
    n = 4
    if exact:  # one non-zero product per pair: the float64 dot product is exact
        x1, x2 = np.zeros((n, 4)), np.zeros((n, 4))
        x1[:, 0], x1[:, 1] = rng.standard_normal(n), 1e-7 * rng.uniform(0.5, 1.5, n)
        x2[:, 1], x2[:, 2] = rng.standard_normal(n), rng.standard_normal(n)
    else:  # random directions, x2_i at an angle pi/2 - 1e-7 to x1_i
        x1, z = rng.standard_normal((n, 10)), rng.standard_normal((n, 10))
        z -= (np.sum(z * x1, 1) / np.sum(x1 * x1, 1))[:, None] * x1
        x2 = z + 1e-7 * x1 * (np.linalg.norm(z, axis=1) / np.linalg.norm(x1, axis=1))[:, None]
    return x1, x2, [(i, i) for i in range(n)], 0.0


def random_case(rng):
    x1, x2 = rng.standard_normal((4, 10)), rng.standard_normal((4, 10))
    return x1, x2, [(i, j) for i in range(4) for j in range(4)], SB


def accuracy_rows(stax):
    rng = np.random.default_rng(0)
    cases = [("coincident rows, x2 given", ("relu", "erf"), coincident_case(rng)),
             ("erf near zero, exact dot", ("erf",), near_zero_case(rng, True)),
             ("erf near zero, random", ("erf",), near_zero_case(rng, False)),
             ("random entries", ("relu", "erf"), random_case(rng))]
    print("\n| entries | act | dtype | ours NNGP | ours NTK | NT NNGP | NT NTK |")
    print("|---|---|---|---|---|---|---|")
    for name, activations, (x1, x2, pairs, sb) in cases:
        x1, x2 = (x.astype(np.float32).astype(np.float64) for x in (x1, x2))  # exact in both dtypes
        rows, cols = np.array(pairs).T
        for act in activations:
            want = reference(x1, x2, pairs, DEPTH, act, SW, sb)
            fns = (ours_fn(DEPTH, act, SW, sb), peer_kernel_fn(stax, DEPTH, act, SW, sb))
            for dtype in (jnp.float64, jnp.float32):
                errs = []
                for fn in fns:
                    with x64(dtype):
                        got = fn(jnp.asarray(x1, dtype), jnp.asarray(x2, dtype))
                    errs += [np.max(np.abs(np.asarray(g, np.float64)[rows, cols] / w - 1)) for g, w in zip(got, want)]
                print(f"| {name} | {act} | {np.dtype(dtype).name} | " + " | ".join(f"{e:.1e}" for e in errs) + " |",
                      flush=True)


# --- input gradients ----------------------------------------------------------------------
def reference_sum_ntk(x1, x2, depth, activation, sw, sb):
    return mp.fsum(reference_pair(a, b, depth, activation, sw, sb)[1] for a in x1 for b in x2)


def reference_gradient(x1, x2, depth, activation, sw, sb, step=mp.mpf("1e-15")):
    """Central difference of sum(ntk) in x1, at DIGITS digits (the symmetric derivative)."""
    with mp.workdps(DIGITS):
        base = [[mp.mpf(float(v)) for v in row] for row in x1]
        grad = np.zeros(x1.shape)
        for i in range(x1.shape[0]):
            for j in range(x1.shape[1]):
                values = []
                for sign in (1, -1):
                    moved = [row[:] for row in base]
                    moved[i][j] += sign * step
                    values.append(reference_sum_ntk(moved, x2.tolist(), depth, activation, sw, sb))
                grad[i, j] = float((values[0] - values[1]) / (2 * step))
        return grad


def gradient_rows(stax):
    rng = np.random.default_rng(1)
    x1 = rng.standard_normal((3, 3))
    x2 = np.concatenate([x1[:2], rng.standard_normal((2, 3))])
    sb = 0.6
    print("\n| act | depth | ours | NT |  (max abs error / max abs gradient, float64)")
    print("|---|---|---|---|")
    for act in ("relu", "erf"):
        for depth in (1, 3, 10):
            want = reference_gradient(x1, x2, depth, act, SW, sb)
            errs = []
            for fn in (ours_fn(depth, act, SW, sb), peer_kernel_fn(stax, depth, act, SW, sb)):
                got = jax.grad(lambda x: jnp.sum(fn(x, jnp.asarray(x2))[1]))(jnp.asarray(x1))  # noqa: B023
                errs.append(np.max(np.abs(np.asarray(got) - want)) / np.max(np.abs(want)))
            print(f"| {act} | {depth} | {errs[0]:.1e} | {errs[1]:.1e} |", flush=True)


# --- time -------------------------------------------------------------------------------------
def _time(fn, repeats):
    jax.block_until_ready(fn())
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def time_rows(stax, sizes, repeats):
    print(f"\n| act | dtype | N | fc_kernels ms | NT ms | NT / ours |  (depth {DEPTH}, sigma_w {SW}, "
          f"sigma_b {SB}, d {D}, K(X, X), median of {repeats})")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        for dtype in (jnp.float32, jnp.float64):
            for act in ("relu", "erf"):
                with x64(dtype):
                    x = jax.random.normal(jax.random.key(0), (n, D), dtype)
                    ours = _time(functools.partial(ours_fn(DEPTH, act, SW, SB), x, None), repeats)
                    peer = _time(functools.partial(peer_kernel_fn(stax, DEPTH, act, SW, SB), x, None), repeats)
                    assert {ours_fn(DEPTH, act, SW, SB)(x, None)[0].dtype,
                            peer_kernel_fn(stax, DEPTH, act, SW, SB)(x, None)[0].dtype} == {np.dtype(dtype)}
                print(f"| {act} | {np.dtype(dtype).name} | {n} | {1e3 * ours:.1f} | {1e3 * peer:.1f} | "
                      f"{peer / ours:.2f} |", flush=True)


# --- versus: issue 35's float32 table, ours vs neural-tangents at default and highest precision --
def ours_precision_fn(depth, activation, sw, sb):
    """(fn, note): ``fc_kernels`` with its input-layer dot product pinned to HIGHEST by
    ``precision=`` when it takes that argument; otherwise as it is, and the note says so."""
    if "precision" in inspect.signature(fc_kernels).parameters:
        fn = lambda x1, x2: tuple(fc_kernels(x1, x2, depth, activation, sw, sb,  # noqa: E731
                                             precision=jax.lax.Precision.HIGHEST))
        return fn, "precision=HIGHEST"
    return ours_fn(depth, activation, sw, sb), "no precision= argument (fc_kernels as it is)"


@jax.jit
def _errors(k32, k64):
    """(max |k32 - k64| / sqrt(k64_ii k64_jj), max |k32 / k64 - 1|) in float64, on the device."""
    k32 = k32.astype(jnp.float64)
    scale = jnp.sqrt(jnp.abs(jnp.diag(k64)))
    normalised = jnp.max(jnp.abs(k32 - k64) / (scale[:, None] * scale[None, :]))
    elementwise = jnp.max(jnp.abs(k32 / k64 - 1))
    return normalised, elementwise


def _timed(fn, repeats):
    """(compile + first call seconds, median seconds of ``repeats`` further calls, last result)."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn())
    first = time.perf_counter() - start
    del out
    return first, _time(fn, repeats)


def versus_rows(stax, sizes, repeats, time_budget=None, f64_check_max=4096, on_row=None):
    """Rows of the float32 comparison (dicts), printed as a table as they come; ``on_row(rows,
    skipped)`` after each row (to save them: a run cut at its time limit keeps what it measured)."""
    rows, skipped, start = [], [], time.perf_counter()
    print(f"\n| act | N | ours ms | NT ms | NT highest ms | NT / ours | NT highest / ours | "
          f"ours f32 err NNGP / NTK | NT f32 err NNGP / NTK | NT highest f32 err NNGP / NTK | "
          f"NT f64 vs ours f64 |  (depth {DEPTH}, sigma_w {SW}, sigma_b {SB}, d {D}, float32, "
          f"K(X, X), median of {repeats}; err: max |K32 - K64| / sqrt(K64_ii K64_jj) against "
          f"fc_kernels in float64, ReLU elementwise in brackets)")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    last = None  # (n, seconds, compile seconds) of the previous size, for the extrapolation
    for n in sizes:
        if time_budget is not None and last is not None:
            # compile + first calls taken as constant, the rest as N^2 (the kernels' entries)
            projected = last[2] + (last[1] - last[2]) * (n / last[0]) ** 2
            left = time_budget - (time.perf_counter() - start)
            if projected > left:
                skipped.append({"n": n, "projected_s": round(projected, 1), "left_s": round(left, 1)})
                print(f"skipped N = {n}: about {projected:.0f} s projected (compile + N^2 from N = {last[0]}), "
                      f"{left:.0f} s left of --time-budget {time_budget:.0f}", flush=True)
                continue
        size_start = time.perf_counter()
        for act in ("relu", "erf"):
            row = {"act": act, "n": n, "depth": DEPTH, "sigma_w": SW, "sigma_b": SB, "d": D}
            try:
                row.update(_versus_row(stax, n, act, repeats, f64_check_max))
            except Exception as error:  # noqa: BLE001 -- out of memory at a large N is a result
                row["error"] = f"{type(error).__name__}: {str(error)[:300]}"
                print(f"| {act} | {n} | failed: {row['error']} |", flush=True)
            else:
                print(_versus_line(row), flush=True)
            rows.append(row)
            if on_row is not None:
                on_row(rows, skipped)
        # compilation: each variant's first call less one run; the float64 reference's compilation
        # is counted as N^2 work, so the projection errs on the long side
        compile_s = sum(max(0.0, r.get(f"{v}_first_s", 0.0) - r.get(f"{v}_ms", 0.0) / 1e3)
                        for r in rows[-2:] for v in ("ours", "nt", "nt_highest"))
        last = (n, time.perf_counter() - size_start, compile_s)
    return rows, skipped


def _versus_row(stax, n, act, repeats, f64_check_max):
    ours, note = ours_precision_fn(DEPTH, act, SW, SB)
    peer = peer_kernel_fn(stax, DEPTH, act, SW, SB)
    with x64(np.float64):
        x64_in = jax.random.normal(jax.random.key(n), (n, D), jnp.float32).astype(jnp.float64)
        ref = jax.block_until_ready(jax.jit(ours)(x64_in, None))
        agreement = None
        if n <= f64_check_max:  # the reference and neural-tangents compute the same kernel
            nt64 = peer(x64_in, None)
            agreement = max(float(_errors(a, b)[0]) for a, b in zip(nt64, ref))
            del nt64
    row = {"ours_precision": note, "nt64_vs_ours64": agreement}
    with x64(np.float32):
        x = jnp.asarray(x64_in, jnp.float32)  # the same points, exactly
        variants = (("ours", jax.jit(ours), None), ("nt", peer, None),
                    ("nt_highest", peer_kernel_fn(stax, DEPTH, act, SW, SB), "highest"))
        for name, fn, precision in variants:
            with jax.default_matmul_precision(precision):  # None: the platform's default
                first, median = _timed(functools.partial(fn, x, None), repeats)
                got = fn(x, None)
            assert {g.dtype for g in got} == {np.dtype(np.float32)}, (name, [g.dtype for g in got])
            row[f"{name}_ms"], row[f"{name}_first_s"] = 1e3 * median, first
            with x64(np.float64):
                for kernel, g, r in zip(("nngp", "ntk"), got, ref):
                    normalised, elementwise = (float(v) for v in _errors(g, r))
                    row[f"{name}_err_{kernel}"] = normalised
                    if act == "relu":
                        row[f"{name}_relerr_{kernel}"] = elementwise
            del got
    row["nt_over_ours"] = row["nt_ms"] / row["ours_ms"]
    row["nt_highest_over_ours"] = row["nt_highest_ms"] / row["ours_ms"]
    return row


def _versus_line(r):
    def errs(name):
        text = f"{r[name + '_err_nngp']:.1e} / {r[name + '_err_ntk']:.1e}"
        if r["act"] == "relu":
            text += f" ({r[name + '_relerr_nngp']:.1e} / {r[name + '_relerr_ntk']:.1e})"
        return text
    agreement = "-" if r["nt64_vs_ours64"] is None else f"{r['nt64_vs_ours64']:.1e}"
    return (f"| {r['act']} | {r['n']} | {r['ours_ms']:.1f} | {r['nt_ms']:.1f} | {r['nt_highest_ms']:.1f} | "
            f"{r['nt_over_ours']:.2f} | {r['nt_highest_over_ours']:.2f} | {errs('ours')} | {errs('nt')} | "
            f"{errs('nt_highest')} | {agreement} |")


def versus_goal(rows, min_n=8192, speedup=1.5, accuracy=1e-5):
    """Issue 3/35's goal, row by row: at N >= min_n ours is >= speedup x faster than NT (default
    precision) and its float32 kernels are within ``accuracy`` of float64 (normalised error)."""
    lines = []
    for r in rows:
        if r["n"] < min_n or "error" in r:
            continue
        fast = r["nt_over_ours"] >= speedup
        accurate = max(r["ours_err_nngp"], r["ours_err_ntk"]) <= accuracy
        lines.append(f"goal at N = {r['n']} ({r['act']}): {'met' if fast and accurate else 'missed'} "
                     f"(NT / ours {r['nt_over_ours']:.2f}, need >= {speedup}; float32 error "
                     f"{max(r['ours_err_nngp'], r['ours_err_ntk']):.1e}, need <= {accuracy:.0e})")
    return lines or [f"goal: no row at N >= {min_n} (not measured)"]


def environment(nt_version):
    device = jax.devices()[0]
    return {"platform": device.platform, "device_kind": getattr(device, "device_kind", ""),
            "device_count": jax.device_count(), "cpus": os.cpu_count(), "jax": jax.__version__,
            "neural_tangents": nt_version, "mpmath": mp.__version__, "numpy": np.__version__,
            "python": platform.python_version(),
            "fc_kernels_precision_argument": "precision" in inspect.signature(fc_kernels).parameters,
            "load_average": os.getloadavg()}


def write_rows(rows, skipped, env, json_path=None, csv_path=None):
    if json_path:
        with open(json_path, "w") as handle:
            json.dump({"environment": env, "rows": rows, "skipped": skipped,
                       "goal": versus_goal(rows)}, handle, indent=1, default=str)
    if csv_path:
        keys = sorted({k for r in rows for k in r})
        with open(csv_path, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=keys)
            writer.writeheader()
            writer.writerows(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--peers", default="../shared/peers",
                        help="folder with nt_shim.py and the neural-tangents wheel or package (default ../shared/peers)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1024, 2048])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", nargs="+", default=["accuracy", "gradients", "time"],
                        choices=("accuracy", "gradients", "time", "versus"),
                        help="what to run (default: accuracy gradients time; versus: issue 35's float32 table)")
    parser.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                        help="versus: skip a size whose N^2-extrapolated time would overrun this")
    parser.add_argument("--f64-check-max", type=int, default=4096, metavar="N",
                        help="versus: compare neural-tangents and fc_kernels in float64 up to N points")
    parser.add_argument("--json", metavar="PATH", help="versus: write the rows, skipped sizes and goal as JSON")
    parser.add_argument("--csv", metavar="PATH", help="versus: write the rows as CSV")
    args = parser.parse_args(argv)
    if any(n < 1 for n in args.sizes):
        parser.error(f"--sizes must be positive integers, got {args.sizes}")
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1, got {args.repeats}")
    stax, nt_version = load_peer(args.peers)
    env = environment(nt_version)
    print(f"device: {env['platform']} {env['device_kind']}; cores {env['cpus']}; "
          f"load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}; jax {jax.__version__}; "
          f"neural-tangents {nt_version}; mpmath {mp.__version__}; numpy {np.__version__}; "
          f"python {platform.python_version()}")
    if "accuracy" in args.parts:
        accuracy_rows(stax)
    if "gradients" in args.parts:
        gradient_rows(stax)
    if "time" in args.parts:
        time_rows(stax, args.sizes, args.repeats)
    if "versus" in args.parts:
        print(f"fc_kernels precision= argument: "
              f"{'present (pinned to HIGHEST)' if env['fc_kernels_precision_argument'] else 'ABSENT (fc_kernels as it is)'}")
        save = functools.partial(write_rows, env=env, json_path=args.json, csv_path=args.csv)
        rows, skipped = versus_rows(stax, args.sizes, args.repeats, args.time_budget, args.f64_check_max,
                                    on_row=save)
        for line in versus_goal(rows):
            print(line)
        save(rows, skipped)
    print(f"\nload average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
