"""MAML on quadratic tasks: meta-gradients vs jax.grad through the inner loop; first-order bias; the meta-optimum."""

from __future__ import annotations

import numpy as np

from analytic.maml import task_meta_gradient
from numeric import maml as sim
from verify.core import Context, check, compare, compare_outcome

_EPS = np.finfo(float).eps
_ETA = 0.4  # inner learning rate of the meta-gradient check
_STEPS = np.arange(1, 7)  # inner steps k
_GRID = np.linspace(0.0, 2.0, 41)  # eta * lam of the figure's tasks (inner loop contracts for eta lam < 2)


def _scalar_tasks(ctx: Context):
    """16 random one-dimensional tasks (eta lam in (0.04, 1.8)) and 41 with eta lam on a grid over [0, 2]."""
    rng = np.random.default_rng(3110 + ctx.seed)
    lam = np.concatenate([rng.uniform(0.1, 4.5, 16), _GRID / _ETA])
    n = lam.size
    q, a, b, theta = rng.uniform(0.2, 2.0, n), rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    q[16:], a[16:], b[16:], theta[16:] = 1.0, 0.0, 1.0, 2.0
    return lam, q, a, b, theta


def _spd(rng, dim):
    m = rng.normal(size=(dim, dim))
    return m @ m.T / dim + 0.2 * np.eye(dim)


@check("maml.meta_gradient", smoke=True, uses={
    "adapted": "maml.adapted", "meta_gradient": "maml.meta_gradient",
    "first_order": "maml.first_order_meta_gradient", "bias": "maml.first_order_bias"})
def meta_gradient_check(ctx: Context, adapted, meta_gradient, first_order, bias):
    """Adapted parameter, meta-gradient, first-order MAML and its bias vs jax.grad through k inner steps."""
    lam, q, a, b, theta = _scalar_tasks(ctx)
    tasks = (lam[:, None, None], a[:, None], q[:, None, None], b[:, None])
    k = _STEPS[:, None].astype(float)
    kw = dict(theta=theta, support_optimum=a, query_optimum=b, eta=_ETA, lam=lam, query_curvature=q, inner_steps=k)
    run = ctx.measure(sim.meta_gradients, theta[:, None], tasks, _ETA, _STEPS)
    measured_adapted, exact, fomaml = (np.asarray(v)[..., 0] for v in run)
    scale = 1 + np.abs(theta) + np.abs(a) + np.abs(b)
    round_off = 64 * _EPS * k * scale * (1 + q)  # k inner steps, each ~ eps relative to the parameters' scale
    reason = "float64 round-off: 64 eps k (1 + |theta| + |a| + |b|)(1 + q) for k inner steps"
    yield compare(f"adapted theta_k = a + (1 - eta lam)^k (theta - a), k = 1..{_STEPS[-1]}, {lam.size} tasks",
                  adapted(**{n: kw[n] for n in ("theta", "support_optimum", "eta", "lam", "inner_steps")}),
                  measured_adapted, round_off, reason, relative=False)
    predicted = np.asarray(meta_gradient(**kw))
    yield compare("meta-gradient (1 - eta lam)^k q (theta_k - b) vs jax.grad through the inner loop", predicted, exact,
                  round_off, reason, relative=False)
    predicted_fo = np.asarray(first_order(**kw))
    yield compare("first-order MAML q (theta_k - b) vs jax.grad with stop_gradient on the inner gradients",
                  predicted_fo, fomaml, round_off, reason, relative=False)
    predicted_bias = np.asarray(bias(**kw))
    yield compare("first-order bias (1 - (1 - eta lam)^k) q (theta_k - b) vs the two jax.grad results",
                  predicted_bias, fomaml - exact, 2 * round_off, reason + ", twice (a difference of two gradients)",
                  relative=False)
    # non-commuting matrix tasks: the composite prod_j (I - eta Hs) Hq (theta_k - b) vs jax.grad
    rng = np.random.default_rng(3111 + ctx.seed)
    dim, count = 4, 6
    hs = np.stack([_spd(rng, dim) for _ in range(count)])
    hq = np.stack([_spd(rng, dim) for _ in range(count)])
    am, bm, thm = rng.normal(size=(count, dim)), rng.normal(size=(count, dim)), rng.normal(size=(count, dim))
    eta_m = 1.0 / np.max(np.linalg.eigvalsh(hs))  # the largest support curvature at eta lam = 1
    matrix_tasks = (hs, am, hq, bm)
    matrix_run = ctx.measure(sim.meta_gradients, thm, matrix_tasks, eta_m, _STEPS)
    for order, label in ((False, "meta-gradient"), (True, "first-order meta-gradient")):
        got = np.asarray(matrix_run.first_order if order else matrix_run.exact)
        want = np.array([[task_meta_gradient(thm[i], hs[i], am[i], hq[i], bm[i], eta_m, s, first_order=order)
                          for i in range(count)] for s in _STEPS])
        yield compare(f"4-d tasks, non-commuting Hs, Hq: matrix {label} vs jax.grad, k = 1..{_STEPS[-1]}", want, got,
                      1e-12 * (1 + np.abs(want)), "float64 round-off of k 4 x 4 matrix-vector steps", relative=False)
    grid = slice(16, None)
    ctx.figure("maml_first_order_bias", {
        "eta_lam": _GRID, "predicted_bias_k1": predicted_bias[0, grid], "measured_bias_k1": (fomaml - exact)[0, grid],
        "predicted_bias_k3": predicted_bias[2, grid], "measured_bias_k3": (fomaml - exact)[2, grid],
        "predicted_meta_gradient_k1": predicted[0, grid], "measured_meta_gradient_k1": exact[0, grid]},
        x="eta_lam", ys=("predicted_bias_k1", "measured_bias_k1", "predicted_bias_k3", "measured_bias_k3",
                         "predicted_meta_gradient_k1", "measured_meta_gradient_k1"),
        title="MAML on a quadratic task (q = 1, a = 0, b = 1, theta = 2): first-order bias vs eta lam",
        ylabel="gradient (bias = first-order - exact)", reference={"vline": 1.0})


_LAM, _QUERY = 2.0, 0.8  # the task distribution's shared support and query curvatures
_ETAS = np.array([0.1, 0.3, 0.5, 0.7])  # eta lam = 0.2, 0.6, 1 (flat meta-loss), 1.4
_MEANS = (0.5, -1.0)  # mean support optimum, mean query optimum
_OUTER_LR, _OUTER_STEPS = 3.0, 600  # outer GD: rate |1 - 3 q c^2| <= 0.94 for every c != 0 here


@check("maml.meta_optimum", smoke=True, uses={"optimum": "maml.meta_optimum", "curvature": "maml.meta_curvature"})
def meta_optimum_check(ctx: Context, optimum, curvature):
    """MAML meta-training (outer GD through the inner loop) on sampled tasks vs the meta-optimum and meta-curvature."""
    rng = np.random.default_rng(3112 + ctx.seed)
    count = 50 if ctx.smoke else 200 if ctx.quick else 5000
    a = _MEANS[0] + rng.normal(size=count)
    b = _MEANS[1] + rng.normal(size=count)
    tasks = (np.full((count, 1, 1), _LAM), a[:, None], np.full((count, 1, 1), _QUERY), b[:, None])
    grid = np.array([(eta, start, steps) for steps in (1, 2) for eta in _ETAS for start in (-3.0, 3.0)])
    runs = ctx.measure(sim.meta_train, grid[:, 1:2], tasks, grid[:, 0], grid[:, 2].astype(int), _OUTER_LR,
                       _OUTER_STEPS)
    final = np.asarray(runs.theta)[:, 0].reshape(2, _ETAS.size, 2)
    hessians = np.asarray(runs.hessian)[:, 0, 0].reshape(2, _ETAS.size, 2)[..., 0]
    # |c| = |theta_k - a| / |theta - a| from the measured Hessian q c^2 (q: a property of the tasks)
    rows = [(steps, final[i], hessians[i], np.sqrt(np.abs(hessians[i]) / _QUERY)) for i, steps in enumerate((1, 2))]
    for steps, final, hessian, c in rows:
        predicted_curvature = np.asarray(curvature(eta=_ETAS, lam=_LAM, query_curvature=_QUERY, inner_steps=steps))
        yield compare(f"k = {steps}: meta-loss curvature q (1 - eta lam)^(2k) vs jax.hessian, eta lam = "
                      f"{np.round(_ETAS * _LAM, 2).tolist()}", predicted_curvature, hessian, 1e-13 * _QUERY,
                      "float64 round-off of a k-step Hessian (absolute: 0 at eta lam = 1)", relative=False)
        unique = c > 1e-6  # measured: the meta-loss has curvature (else it is flat, c = 0)
        sample = np.asarray(optimum(support_mean=a.mean(), query_mean=b.mean(), eta=_ETAS[unique], lam=_LAM,
                                    inner_steps=steps))
        yield compare(f"k = {steps}: meta-optimum at the sample's mean optima vs meta-training ({count} tasks, "
                      f"{_OUTER_STEPS} outer steps)", sample, final[unique, 0],
                      1e-9 * (1 + np.abs(sample)), "finite horizon of outer GD: |1 - lr q c^2|^600 < 1e-15 of the "
                      "start's distance, plus float64 round-off", relative=False)
        population = np.asarray(optimum(support_mean=_MEANS[0], query_mean=_MEANS[1], eta=_ETAS[unique], lam=_LAM,
                                        inner_steps=steps))
        # sign of c: (1 - eta lam)^k, negative only for odd k and eta lam > 1 (the inner step overshoots)
        signed = c * np.where((_ETAS * _LAM > 1) & (steps % 2 == 1), -1.0, 1.0)
        spread = np.array([np.std(b - (1 - cc) * a, ddof=1) / (abs(cc) * np.sqrt(count)) for cc in signed[unique]])
        yield compare(f"k = {steps}: meta-optimum of the task distribution vs meta-training on {count} sampled tasks",
                      population, final[unique, 0], 4 * spread,
                      "4 standard errors of the sample's optimum: sd(b - (1 - c) a) / (|c| sqrt(tasks)), |c| measured",
                      relative=False)
        flat = predicted_curvature == 0
        moved = np.abs(final[:, 1] - final[:, 0]) > 1.0
        yield compare_outcome(f"k = {steps}: meta-optimum not unique (meta-training from theta = -3 and 3 ends apart) "
                              "exactly where the predicted meta-curvature is 0", str([bool(v) for v in flat]), str([bool(v) for v in moved]),
                              "outcome over the eta grid; apart means > 1 (the starts are 6 apart, a unique optimum "
                              "is reached to 1e-9): a finite horizon of 600 outer steps")
    ctx.figure("maml_meta_curvature", {
        "eta_lam": _ETAS * _LAM, "predicted_k1": np.asarray(curvature(eta=_ETAS, lam=_LAM, query_curvature=_QUERY,
                                                                      inner_steps=1)),
        "measured_k1": rows[0][2], "predicted_k2": np.asarray(curvature(eta=_ETAS, lam=_LAM, query_curvature=_QUERY,
                                                                        inner_steps=2)), "measured_k2": rows[1][2]},
        x="eta_lam", ys=("predicted_k1", "measured_k1", "predicted_k2", "measured_k2"),
        title=f"MAML meta-loss curvature (lam = {_LAM}, q = {_QUERY}): flat at eta lam = 1",
        ylabel="d^2 meta-loss / dtheta^2", reference={"vline": 1.0})


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("maml.meta_gradient", "one factor (1 - eta lam) for k steps",
            "query_curvature*(1 - eta*lam)*(support_optimum + (theta - support_optimum)*(1 - eta*lam)**inner_steps "
            "- query_optimum)"),
    mistake("maml.adapted", "one step for k", "support_optimum + (theta - support_optimum)*(1 - eta*lam)"),
    mistake("maml.first_order_bias", "the bias's sign flipped",
            "-query_curvature*(1 - (1 - eta*lam)**inner_steps)*(support_optimum + (theta - support_optimum)*"
            "(1 - eta*lam)**inner_steps - query_optimum)"),
    mistake("maml.meta_optimum", "divided by c^2 instead of c",
            "support_mean + (query_mean - support_mean)/(1 - eta*lam)**(2*inner_steps)"),
    mistake("maml.meta_curvature", "c instead of c^2", "query_curvature*(1 - eta*lam)**inner_steps"),
)
