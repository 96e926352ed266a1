"""Curvature: Hessian = Gauss-Newton + residual term, true vs empirical Fisher, influence vs retraining."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

from numeric import curvature as sim
from verify.core import Context, check, compare, compare_outcome, not_reproduced

_INPUT_DIM, _WIDTH, _POINTS = 3, 12, 24  # the MLP of the Gauss-Newton checks (P = 60 parameters)
_ROUND_OFF = 1e-10  # float64 products of a 60-parameter network: ~1e-15 relative, 1e-10 leaves room


def _teacher_data(ctx: Context, points: int, salt: str):
    """Gaussian inputs, a smooth teacher y = sin(x . a); class labels 1[y > 0]."""
    x = jax.random.normal(ctx.key(f"curvature.{salt}"), (points, _INPUT_DIM))
    y = jnp.sin(x @ jnp.array([1.0, -0.5, 0.3]))
    return x, y, (y > 0).astype(x.dtype)


@jax.jit
def _pieces(theta, x, y, v):
    """Autodiff pieces at one parameter point, both losses: full HVPs, GGN and residual products,
    and J v, J^T, the output HVPs a decomposition needs."""
    out = {}
    for loss, target in (("mse", y[0]), ("logistic", y[1])):
        out[f"{loss}_hvp"] = sim.hessian_vector_product(
            lambda th: sim.mean_loss(th, x, target, "mlp", loss), theta)(v)
        out[f"{loss}_ggn"] = sim.gauss_newton_vector_product(theta, x, target, "mlp", loss, v)
        out[f"{loss}_residual"] = sim.residual_vector_product(theta, x, target, "mlp", loss, v)
    out["jv"] = sim.output_jvp(theta, x, "mlp", v)
    out["outputs"] = sim.outputs(theta, x, "mlp")
    # rows J_i and hess f_i v at once: the directional derivative of the Jacobian along v
    out["jacobian"], out["output_hvps"] = jax.jvp(jax.jacrev(lambda th: sim.outputs(th, x, "mlp")), (theta,), (v,))
    gradients = sim.label_gradients(theta, x, "mlp")
    out["label_gradients"] = gradients
    out["fisher"] = sim.fisher_vector_product(gradients, jax.nn.sigmoid(out["outputs"]), v)
    out["empirical_fisher"] = sim.empirical_fisher_quadratic(gradients, y[1], v)
    return out


def _measure_gauss_newton(ctx: Context):
    x, y, labels = _teacher_data(ctx, _POINTS, "gauss_newton")
    theta0 = sim.init_params(ctx.key("curvature.gauss_newton/init"), "mlp", _INPUT_DIM, _WIDTH)
    v = jax.random.normal(ctx.key("curvature.gauss_newton/v"), theta0.shape)
    steps = 1500 if ctx.quick else 20000
    mse_path, mse_losses = sim.train(theta0, x, y, "mlp", "mse", 0.5, steps)
    log_path, log_losses = sim.train(theta0, x, labels, "mlp", "logistic", 1.0, steps)
    checkpoints = np.unique(np.geomspace(1, steps, 10).astype(int))
    checkpoints[0] = 0
    at = {"init": 0, "trained": steps}
    per_point = {}
    for name, k in at.items():
        per_point[name] = {"mse": _pieces(mse_path[k], x, (y, labels), v),
                           "logistic": _pieces(log_path[k], x, (y, labels), v)}
    rows = [_pieces(mse_path[k], x, (y, labels), v) for k in checkpoints]  # one compiled shape
    along = {key: np.stack([np.asarray(r[key]) for r in rows]) for key in ("outputs", "mse_residual", "output_hvps")}
    return dict(x=x, y=y, labels=labels, v=v, points=per_point, checkpoints=checkpoints,
                mse_losses=np.asarray(mse_losses), log_losses=np.asarray(log_losses), along=along,
                linear=_linear_pieces(ctx.key("curvature.gauss_newton/linear"), x, labels),
                interpolating=_pieces(mse_path[steps], x, (sim.outputs(mse_path[steps], x, "mlp"), labels), v))


@jax.jit
def _linear_pieces(key, x, labels):
    theta = jax.random.normal(key, (x.shape[1],))
    v = jnp.ones(x.shape[1])
    return (sim.hessian_vector_product(lambda th: sim.mean_loss(th, x, labels, "linear", "logistic"), theta)(v),
            sim.gauss_newton_vector_product(theta, x, labels, "linear", "logistic", v))


def _decomposed(pieces, curvature, slope):
    """(1/n)[J^T (curvature * J v) + sum_i slope_i hess f_i v] with the Formula's output derivatives."""
    n = pieces["jv"].shape[0]
    ggn = pieces["jacobian"].T @ (np.asarray(curvature) * pieces["jv"]) / n
    return ggn, ggn + pieces["output_hvps"].T @ np.asarray(slope) / n


@check("curvature.gauss_newton_decomposition", uses={
    "mse_gradient": "curvature.mse_output_gradient", "curvature": "curvature.logistic_output_curvature",
    "logistic_gradient": "curvature.logistic_output_gradient"})
def gauss_newton_decomposition(ctx: Context, mse_gradient, curvature, logistic_gradient):
    """H v = (GGN + residual term) v with the derived output derivatives, on a tanh MLP at init and trained."""
    m = ctx.memoise("curvature.gauss_newton", lambda: _measure_gauss_newton(ctx))
    y, labels = np.asarray(m["y"]), np.asarray(m["labels"])
    for name in ("init", "trained"):
        for loss in ("mse", "logistic"):
            p = {k: np.asarray(v) for k, v in m["points"][name][loss].items()}
            f = p["outputs"]
            if loss == "mse":
                output_curvature, slope = np.ones_like(f), np.asarray(mse_gradient(output=f, target=y))
            else:
                output_curvature = np.asarray(curvature(logit=f))
                slope = np.asarray(logistic_gradient(logit=f, label=labels))
            ggn, full = _decomposed(p, output_curvature, slope)
            scale = np.linalg.norm(p[f"{loss}_hvp"])
            yield compare(f"{loss}, {name}: H v (autodiff HVP) = J^T H_L J v + sum_i dl/df_i hess f_i v "
                          "(derived output derivatives), max over coordinates", 0.0,
                          np.max(np.abs(full - p[f"{loss}_hvp"])) / scale, _ROUND_OFF,
                          "float64 round-off of autodiff products (~1e-15 relative to |H v|)", relative=False)
            yield compare(f"{loss}, {name}: GGN v with the derived output curvature vs autodiff J^T H_L J v",
                          0.0, np.max(np.abs(ggn - p[f"{loss}_ggn"])) / np.linalg.norm(p[f"{loss}_ggn"]),
                          _ROUND_OFF, "float64 round-off (relative to |G v|)", relative=False)
    hvp, ggn = (np.asarray(a) for a in m["linear"])
    yield compare("linear model (logistic regression): residual term vanishes, H v = G v", 0.0,
                  np.max(np.abs(hvp - ggn)) / np.linalg.norm(hvp), _ROUND_OFF,
                  "float64 round-off: hess f = 0 exactly for f = w . x", relative=False)
    z = {k: np.asarray(v) for k, v in m["interpolating"].items()}
    yield compare("MSE with zero residual (targets = the network's outputs): H v = G v", 0.0,
                  np.max(np.abs(z["mse_hvp"] - z["mse_ggn"])) / np.linalg.norm(z["mse_hvp"]), _ROUND_OFF,
                  "float64 round-off: every dl/df_i = 0 exactly", relative=False)
    # the residual term's size along MSE training: Cauchy-Schwarz with the derived residuals f - y,
    # |R v| <= sqrt(mean_i (f_i - y_i)^2) sqrt(mean_i |hess f_i v|^2) = sqrt(2 L) s
    along = {k: np.asarray(v) for k, v in m["along"].items()}
    residuals = np.asarray(mse_gradient(output=along["outputs"], target=y[None]))
    size = np.linalg.norm(along["mse_residual"], axis=1)
    spread = np.sqrt(np.mean(np.sum(along["output_hvps"] ** 2, axis=2), axis=1))
    bound = np.sqrt(np.mean(residuals**2, axis=1)) * spread
    loss = m["mse_losses"][m["checkpoints"]]
    ratio = size / bound
    yield compare_outcome(f"MSE: |R v| <= sqrt(2 L) rms_i |hess f_i v| (derived residuals f - y) at {len(loss)} "
                          f"checkpoints (largest ratio {np.max(ratio):.3f})", "holds",
                          "holds" if np.all(ratio <= 1 + 1e-12) else f"violated at {int(np.sum(ratio > 1))}",
                          "Cauchy-Schwarz, an exact inequality (float64 round-off 1e-12 allowed)")
    yield compare(f"MSE: sqrt(mean (f - y)^2) from the derived residuals vs sqrt(2 L) of the simulation, "
                  f"{len(loss)} checkpoints", np.sqrt(np.mean(residuals**2, axis=1)), np.sqrt(2 * loss), 1e-10,
                  "float64 round-off")
    fit = scipy.stats.linregress(np.log(loss[1:]), np.log(size[1:]))
    yield not_reproduced(f"MSE: |R v| proportional to sqrt(L) along training (fitted log-log slope over "
                         f"{len(loss) - 1} checkpoints)", 0.5, fit.slope, fit.stderr,
                         "sqrt(2 L) rms_i |hess f_i v| is a bound, not a proportionality: R v = mean_i r_i hess f_i v "
                         "scales as |r| only while the residual direction and the hess f_i stay fixed; along GD the "
                         "residual concentrates in the slowest modes and the tanh features move, so the exponent "
                         "differs from 1/2 at this width and horizon; standard error of the fitted slope")
    ctx.figure("curvature_residual_term", {
        "training_loss": loss, "measured_residual_term": size, "predicted_bound": bound},
        x="training_loss", ys=("predicted_bound", "measured_residual_term"), logx=True, logy=True,
        title="MSE on a tanh MLP: residual term |R v| vs training loss, Cauchy-Schwarz bound sqrt(2L) rms|hess f v|",
        ylabel="|R v|", reference={"slope": 0.5})


@check("curvature.fisher_is_gauss_newton", uses={"fisher": "curvature.logistic_fisher"},
       cites="Martens 2014, arXiv:1412.1193v11, sec. 9 (Fisher = GGN); Kunstner, Balles, Hennig 2019, "
             "arXiv:1905.12558v3 (the empirical Fisher; version unconfirmed)")
def fisher_is_gauss_newton(ctx: Context, fisher):
    """True Fisher (labels from the model) = GGN for the logistic loss; the empirical Fisher is not."""
    m = ctx.memoise("curvature.gauss_newton", lambda: _measure_gauss_newton(ctx))
    for name in ("init", "trained"):
        p = {k: np.asarray(v) for k, v in m["points"][name]["logistic"].items()}
        predicted, _ = _decomposed(p, np.asarray(fisher(logit=p["outputs"])), np.zeros_like(p["outputs"]))
        yield compare(f"{name}: true Fisher v (labels enumerated under the model) = J^T F_f J v, F_f derived",
                      0.0, np.max(np.abs(p["fisher"] - predicted)) / np.linalg.norm(p["fisher"]), _ROUND_OFF,
                      "float64 round-off (relative to |F v|)", relative=False)
    p = {k: np.asarray(v) for k, v in m["points"]["trained"]["logistic"].items()}
    predicted, _ = _decomposed(p, np.asarray(fisher(logit=p["outputs"])), np.zeros_like(p["outputs"]))
    v = np.asarray(m["v"])
    samples = 400 if ctx.quick else 20000
    p_one = 1 / (1 + np.exp(-p["outputs"]))  # the model's own label distribution
    mean, se = (float(a) for a in ctx.measure(sim.sampled_fisher_quadratic, ctx.key("curvature.fisher/labels"),
                                              p["label_gradients"], p_one, m["v"], samples))
    yield compare(f"trained: v^T F v with labels sampled from the model ({samples} draws) vs v^T J^T F_f J v",
                  float(v @ predicted), mean, 4 * se, "4 Monte Carlo standard errors", relative=False)
    quadratic = float(v @ predicted)
    empirical = float(p["empirical_fisher"])
    yield not_reproduced("trained: empirical Fisher (observed labels) = GGN, as v^T F_emp v vs v^T G v",
                         quadratic, empirical, 1e-12 * abs(quadratic),
                         "the empirical Fisher weighs each example by (sigma - y)^2, not sigma (1 - sigma): "
                         "after training sigma is near the labels and (sigma - y)^2 << sigma (1 - sigma) "
                         "(Kunstner, Balles, Hennig 2019); the difference is exact arithmetic",
                         category="round-off", what="round-off units (1e-12 relative)")


def _ridge_data(ctx: Context, points: int):
    rng = np.random.default_rng(2000 + ctx.seed)
    x = rng.normal(size=(points, 5))
    beta = rng.normal(size=5)
    y = x @ beta + 0.5 * rng.normal(size=points)
    x_test = 1.5 * rng.normal(size=5)
    return x, y, x_test, float(x_test @ beta + 1.0)


_RIDGE_PENALTY = 0.1


@check("curvature.influence_ridge", uses={
    "influence": "curvature.removal_influence", "exact": "curvature.ridge_loo_test_loss_change",
    "leading": "curvature.ridge_influence_gap_leading"})
def influence_ridge(ctx: Context, influence, exact, leading):
    """Ridge: exact leave-one-out change vs retraining; the influence estimate's O(1/n^2) error."""
    sizes = (40, 80, 160, 320) if ctx.quick else (40, 80, 160, 320, 640, 1280, 2560)
    x, y, x_test, y_test = _ridge_data(ctx, sizes[-1])
    rms_gap, rms_lead, rms_upper = [], [], []
    for n in sizes:  # nested data: the first n points
        r = ctx.measure(sim.ridge_leave_one_out, x[:n], y[:n], x_test, y_test, _RIDGE_PENALTY)
        r = {k: np.asarray(v) for k, v in r._asdict().items()}
        measured = r["test_loss_change"]
        predicted = np.asarray(exact(test_residual=r["test_residual"], cross_response=r["cross_response"],
                                     leverage=r["leverage"], n_train=n))
        scale = np.max(np.abs(measured))
        yield compare(f"n = {n}: exact LOO change (Sherman-Morrison) vs retraining, max over the {n} points",
                      0.0, np.max(np.abs(predicted - measured)) / scale, 1e-10,
                      "float64 round-off of 5 x 5 solves (relative to the largest change)", relative=False)
        estimate = np.asarray(influence(influence_inner=r["influence_inner"], n_train=n))
        gap = measured - estimate
        k, h, c, r_t = n * r["leverage"], r["leverage"], r["cross_response"], r["test_residual"]
        lead = np.asarray(leading(test_residual=r_t, cross_response=c, scaled_leverage=k, n_train=n))
        # next order: 1/(1-h) - 1 = h/(1-h) and 1/(1-h)^2 - 1 <= 2h/(1-h)^2 on the two terms of the gap
        next_order = np.abs(r_t * c * h / n) * h / (1 - h) + c**2 / (2 * n**2) * 2 * h / (1 - h) ** 2
        rms_gap.append(np.sqrt(np.mean(gap**2)))
        rms_lead.append(np.sqrt(np.mean(lead**2)))
        rms_upper.append(np.sqrt(np.mean((np.abs(lead) + next_order) ** 2)))
        yield compare(f"n = {n}: (retrained - influence estimate) vs its derived O(1/n^2) leading term",
                      lead, gap, next_order + 1e-12 * scale,
                      "finite-size: the next order of the series in h = O(1/n), bounded per point from "
                      "h/(1-h) and 2h/(1-h)^2; plus float64 round-off", relative=False)
        if n == sizes[-1]:
            figure = {"actual_loo_change": measured, "measured_influence_estimate": estimate,
                      "predicted_identity": measured}
    fit = scipy.stats.linregress(np.log(sizes), np.log(rms_gap))
    predicted = scipy.stats.linregress(np.log(sizes), np.log(rms_lead))
    upper = scipy.stats.linregress(np.log(sizes), np.log(rms_upper))
    yield compare(f"rms |retrained - influence| over n = {list(sizes)}: fitted log-log slope vs the slope of the "
                  f"derived leading term ({predicted.slope:.3f}; -2 as n -> oo)", predicted.slope, fit.slope,
                  3 * np.hypot(fit.stderr, predicted.stderr) + abs(upper.slope - predicted.slope),
                  "3 standard errors of the two fitted slopes, plus the finite-size shift of the slope when "
                  "every gap moves to the edge of its next-order bound", relative=False)
    order = np.argsort(figure["actual_loo_change"])
    ctx.figure("curvature_influence_ridge", {k: v[order] for k, v in figure.items()}, x="actual_loo_change",
               ys=("predicted_identity", "measured_influence_estimate"),
               title=f"ridge (n = {sizes[-1]}, d = 5): influence estimate vs actual leave-one-out change",
               ylabel="change of the test loss")


def _logistic_data(ctx: Context, points: int):
    x, y, _, _ = _ridge_data(ctx, points)
    x = x[:, :3]
    return x, (x @ np.array([1.0, -1.0, 0.5]) + 0.5 * np.random.default_rng(ctx.seed).normal(size=points) > 0) * 1.0


_STEP = 1e-3  # fraction of a point removed for the central difference (and twice it, for Richardson)


def _influence_rows(ctx: Context, influence, label: str, retrain, n: int):
    """Rows for one model: eq. (2) against reweighted retraining (tight), and full leave-one-out."""
    full = retrain(1.0)
    yield compare(f"{label}: retraining converged (max |grad| of the reweighted objectives)", 0.0,
                  float(full.gradient_norm), 1e-10, "float64 round-off after 20 Newton steps", relative=False)
    yield compare_outcome(f"{label}: the full-data point is a minimum (smallest Hessian eigenvalue > 0)", "minimum",
                          "minimum" if float(full.smallest_curvature) > 0 else
                          f"not a minimum ({float(full.smallest_curvature):.3g})",
                          "influence functions need H positive definite at the minimiser")
    estimate = np.asarray(influence(influence_inner=np.asarray(full.influence_inner), n_train=n))
    differences = {}
    for step in (_STEP, 2 * _STEP):  # remove +step and -step (add) of each point: central difference
        up, down = retrain(step), retrain(-step)
        differences[step] = (np.asarray(up.test_loss_change) - np.asarray(down.test_loss_change)) / (2 * step)
    fine, coarse = differences[_STEP], differences[2 * _STEP]
    scale = np.max(np.abs(fine))
    yield compare(f"{label}: influence estimate (eq. 2, epsilon = -1/n) vs d(test loss)/d(fraction removed) by "
                  f"retraining, central difference at {_STEP:g}", estimate, fine,
                  2 * np.abs(coarse - fine) + 1e-9 * scale,
                  "central difference O(step^2): Richardson, |D(2 step) - D(step)| = 3 x the error at step, "
                  "doubled; plus float64 round-off of the retrained losses", relative=False)
    measured = np.asarray(full.test_loss_change)
    correlation = float(np.corrcoef(measured, estimate)[0, 1])
    first_order = float(np.sqrt(np.mean((measured - estimate) ** 2) / np.mean(measured**2)))
    yield compare(f"{label}: influence estimate vs full leave-one-out retraining, relative rms error "
                  f"(Pearson R = {correlation:.4f})", 0.0, first_order, 8 * _INPUT_DIM / n,
                  "finite-size: removing a whole point is a step of 1/n, its second-order error O(d/n) "
                  "relative as derived for ridge (d = 3); 8 d/n allows the 1/(1 - h) factors", relative=False)
    return measured, estimate, correlation


@check("curvature.influence_retraining", uses={"influence": "curvature.removal_influence"})
def influence_retraining(ctx: Context, influence):
    """Logistic regression and a small MLP: influence estimates vs Newton retraining without (part of) each point."""
    n = 40 if ctx.quick else 400
    decay = 0.01
    x, labels = _logistic_data(ctx, n)
    x_test = np.array([0.5, -1.0, 1.0])

    def logistic(removed):
        return ctx.measure(sim.newton_leave_one_out, jnp.zeros(3), x, labels, x_test, 1.0, "linear", "logistic",
                           decay, removed=removed)

    _, _, logistic_correlation = yield from _influence_rows(ctx, influence, "logistic regression", logistic, n)
    x_mlp, y_mlp, _ = _teacher_data(ctx, n, "influence_mlp")
    theta0 = sim.init_params(ctx.key("curvature.influence_mlp/init"), "mlp", _INPUT_DIM, 6)
    path, _ = ctx.measure(sim.train, theta0, x_mlp, y_mlp, "mlp", "mse", 0.5, 2000, decay)

    def mlp(removed):
        return ctx.measure(sim.newton_leave_one_out, path[-1], x_mlp, y_mlp, jnp.array([0.5, -1.0, 1.0]), 0.5,
                           "mlp", "mse", decay, removed=removed)

    measured, estimate, correlation = yield from _influence_rows(ctx, influence, f"MLP (P = {theta0.shape[0]})",
                                                                 mlp, n)
    order = np.argsort(measured)
    ctx.figure("curvature_influence_mlp", {"actual_loo_change": measured[order],
                                           "measured_influence_estimate": estimate[order],
                                           "predicted_identity": measured[order]},
               x="actual_loo_change", ys=("predicted_identity", "measured_influence_estimate"),
               title=f"tanh MLP (n = {n}): influence estimate vs actual leave-one-out change (Pearson R = "
                     f"{correlation:.3f}); logistic regression R = {logistic_correlation:.4f}",
               ylabel="change of the test loss")


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("curvature.mse_output_gradient", "residual sign flipped", "target - output"),
    mistake("curvature.logistic_output_curvature", "sigma^2 in place of sigma (1 - sigma)",
            "exp(2*logit)/(exp(logit) + 1)**2"),
    mistake("curvature.logistic_output_gradient", "label sign flipped", "label + exp(logit)/(exp(logit) + 1) - 1"),
    mistake("curvature.logistic_fisher", "empirical Fisher with label 1: (1 - sigma)^2",
            "1/(exp(logit) + 1)**2"),
    mistake("curvature.removal_influence", "up-weighting sign (epsilon = +1/n)", "-influence_inner/n_train"),
    mistake("curvature.ridge_loo_test_loss_change", "Sherman-Morrison factor 1/(1 - h) dropped in the square",
            "cross_response*test_residual/(n_train*(1 - leverage)) + cross_response**2/(2*n_train**2)"),
    mistake("curvature.ridge_influence_gap_leading", "the quadratic term c^2/2 dropped",
            "cross_response*scaled_leverage*test_residual/n_train**2"),
)
