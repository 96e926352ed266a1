"""Second-order methods on quadratics: CG vs its Chebyshev bound, Armijo backtracking, (truncated) Newton."""

from __future__ import annotations

import numpy as np

from numeric import second_order as sim
from verify.core import Context, check, compare, compare_outcome, symbolic_only

symbolic_only({
    "second_order.armijo_rate_bound": "armijo_contraction (attained in one dimension) at armijo_min_step (attained "
    "for an L-eigenvector gradient), both compared numerically; second_order.armijo_backtracking checks their "
    "composition as a bound on random quadratics (tests assert it equals this Formula)",
})

_KAPPAS = (10.0, 100.0, 1000.0)


def _rotated(rng, spectrum):
    """``Q diag(spectrum) Q^T`` for a random orthogonal ``Q``."""
    q, _ = np.linalg.qr(rng.normal(size=(spectrum.size, spectrum.size)))
    return (q * spectrum) @ q.T


def _lobatto_problems(max_steps: int, dim: int):
    """Per (kappa, t): the t + 1 Chebyshev-Lobatto eigenvalues in [1, kappa] with x* components
    sqrt(w_j)/lam_j (w = 1/2 at the ends), padded to max_steps + 1 dimensions by zero components."""
    matrices, solutions, labels = [], [], []
    for kappa in _KAPPAS:
        for steps in range(1, max_steps + 1):
            j = np.arange(steps + 1)
            lam = (kappa + 1) / 2 + (kappa - 1) / 2 * np.cos(j * np.pi / steps)
            weight = np.where((j == 0) | (j == steps), 0.5, 1.0)
            spectrum, solution = np.ones(dim), np.zeros(dim)
            spectrum[: steps + 1], solution[: steps + 1] = lam, np.sqrt(weight) / lam
            matrices.append(np.diag(spectrum))
            solutions.append(solution)
            labels.append((kappa, steps))
    return np.array(matrices), np.array(solutions), np.array(labels)


def _a_norm_ratios(run, matrices, solutions):
    errors = np.asarray(run.iterates) - solutions[:, None, :]
    norms = np.sqrt(np.einsum("bti,bij,btj->bt", errors, matrices, errors))
    return norms / norms[:, :1]


@check("second_order.cg_chebyshev", smoke=True, uses={
    "minimax": "second_order.cg_minimax_error", "bound": "second_order.cg_error_bound",
    "residual_bound": "second_order.cg_residual_bound"},
    blind={"residual_bound": "an upper bound no spectrum attains at these sizes: 10% looser still holds; "
           "its sqrt(kappa) factor over cg_error_bound is asserted symbolically in tests/test_second_order.py"})
def cg_chebyshev(ctx: Context, minimax, bound, residual_bound):
    """CG's A-norm error: attains 1/T_t on Chebyshev-Lobatto spectra, stays below 2 r^t on random ones; finite termination."""
    rng = np.random.default_rng(3000 + ctx.seed)
    max_steps, dim, steps, per_kappa = 12, 40, 60, 2 if ctx.smoke else 4
    matrices, solutions, labels = _lobatto_problems(max_steps, dim)
    # random spectra: log-uniform in [1, kappa] with both ends present, random rotation and x*
    kappas = np.repeat(_KAPPAS, per_kappa)
    spectra = [np.concatenate([[1.0, k], np.exp(rng.uniform(0, np.log(k), dim - 2))]) for k in kappas]
    random_matrices = np.array([_rotated(rng, s) for s in spectra])
    random_solutions = rng.normal(size=(kappas.size, dim))
    cases, finite_matrices, finite_solutions = _termination_problems(ctx, rng, dim)
    # one batch, one compilation: Lobatto problems (padded), random spectra, termination spectra
    all_matrices = np.concatenate([matrices, random_matrices, finite_matrices])
    all_solutions = np.concatenate([solutions, random_solutions, finite_solutions])
    run = ctx.measure(sim.conjugate_gradient, all_matrices, np.einsum("bij,bj->bi", all_matrices, all_solutions),
                      steps)
    ratios = _a_norm_ratios(run, all_matrices, all_solutions)
    split = np.cumsum([len(labels), kappas.size])
    ratios, random_ratios, _ = np.split(ratios, split)
    attained = ratios[np.arange(len(labels)), labels[:, 1].astype(int)]
    yield compare(f"CG step t = 1..{max_steps} on t+1 Chebyshev-Lobatto eigenvalues, kappa = {_KAPPAS}: "
                  "|e_t|_A/|e_0|_A vs 1/T_t", np.asarray(minimax.jax(labels[:, 0], labels[:, 1])), attained, 1e-10,
                  "float64 round-off of <= 12 CG steps (measured ~1e-13 relative)")
    tail = (labels[:, 0] == 10.0) & (labels[:, 1] >= 11)
    yield compare("bound 2 r^t vs the attained worst case at kappa = 10, t = 11, 12",
                  np.asarray(bound.jax(labels[tail, 0], labels[tail, 1])), attained[tail], 1e-6,
                  "finite-t: 2 r^t exceeds 1/T_t by the factor 1 + r^(2t) <= 6e-7 here, plus float64 round-off")
    t = np.arange(steps + 1, dtype=float)
    predicted = np.asarray(bound.jax(kappas[:, None], t[None]))
    resolved = predicted > 1e-9  # above the float64 floor of the A-norm error (~1e-13 relative)
    worst = float(np.max(random_ratios[resolved] / predicted[resolved]))
    yield compare(f"random spectra ({kappas.size}, d = {dim}): max over t of |e_t|_A/|e_0|_A / (2 r^t) <= 1 "
                  f"(tightness: worst {worst:.3g})", 1.0, max(worst, 1.0), 1e-9, "float64 round-off of the errors")
    norms = np.asarray(run.residual_norms)
    _, residuals, _ = np.split(norms / norms[:, :1], split)
    residual_predicted = np.asarray(residual_bound.jax(kappas[:, None], t[None]))
    worst_residual = float(np.max(residuals[resolved] / residual_predicted[resolved]))
    yield compare(f"random spectra: residual |r_t|/|r_0| <= 2 sqrt(kappa) r^t (tightness: worst {worst_residual:.3g})",
                  1.0, max(worst_residual, 1.0), 1e-9, "float64 round-off of the residuals")
    rhs = np.einsum("bij,bj->bi", finite_matrices, finite_solutions)
    true = rhs[:, None] - np.einsum("bij,btj->bti", finite_matrices, np.asarray(run.iterates)[split[-1]:])
    yield from _termination_rows(cases, np.linalg.norm(true, axis=-1) / np.linalg.norm(rhs, axis=-1)[:, None], steps)
    ctx.figure("second_order_cg_vs_chebyshev", {
        "steps": t, **{f"measured_A_norm_error_kappa{int(k)}": random_ratios[i * per_kappa] for i, k in
                   enumerate(_KAPPAS)},
        **{f"predicted_bound_2r^t_kappa{int(k)}": predicted[i * per_kappa] for i, k in enumerate(_KAPPAS)},
        "measured_residual_kappa1000": residuals[2 * per_kappa],
        "predicted_residual_bound_kappa1000": residual_predicted[2 * per_kappa]},
        x="steps", ys=(*[f"predicted_bound_2r^t_kappa{int(k)}" for k in _KAPPAS],
                   *[f"measured_A_norm_error_kappa{int(k)}" for k in _KAPPAS],
                   "predicted_residual_bound_kappa1000", "measured_residual_kappa1000"), logy=True,
        title=f"CG on random spectra (d = {dim}): error and residual vs the Chebyshev bounds",
        ylabel="|e_t|_A/|e_0|_A and |r_t|/|r_0|")


_TOLERANCE = 1e-8  # the stated relative residual of "terminated"


def _termination_problems(ctx: Context, rng, dim: int):
    """Spectra with d <= 10 distinct geometric eigenvalues in [1, kappa] (random multiplicities, rotation), and one
    with 40 distinct eigenvalues at kappa = 1e6."""
    cases = [(k, d) for k in _KAPPAS for d in (range(2, 11) if not ctx.smoke else (2, 4, 8, 10))] + [(1e6, dim)]
    matrices = []
    for kappa, distinct in cases:
        values = np.geomspace(1.0, kappa, distinct)
        matrices.append(_rotated(rng, np.concatenate([values, rng.choice(values, dim - distinct)])))
    return cases, np.array(matrices), rng.normal(size=(len(cases), dim))


def _termination_rows(cases, residuals, steps):
    """Steps to true relative residual |b - A x_t|/|b| <= 1e-8 (``residuals``, one row per case)."""
    true = residuals
    reached = np.where(np.any(true <= _TOLERANCE, axis=1), np.argmax(true <= _TOLERANCE, axis=1), steps + 1)
    distinct = np.array([d for _, d in cases])
    kappa = np.array([k for k, _ in cases])
    late = reached - distinct
    for limit, d_max in ((10.0, 10), (100.0, 8), (1000.0, 4)):
        sel = (kappa == limit) & (distinct <= d_max)
        yield compare_outcome(f"kappa = {limit:g}, d = 2..{d_max} distinct eigenvalues: CG reaches residual "
                              f"{_TOLERANCE:g} within d steps", "within d", "within d" if np.all(late[sel] <= 0)
                              else f"{int(np.max(late[sel]))} steps late", "exact arithmetic terminates at d "
                              "(Hestenes & Stiefel); float64 round-off stays below the stated residual here")
    sel, dim = kappa == 1000.0, distinct[-1]
    yield compare_outcome(f"kappa = 1e3, d = 2..10: float64 CG is at most 3 steps late (measured delay "
                          f"{int(np.max(late[sel]))} at d = {int(distinct[sel][np.argmax(late[sel])])})",
                          "at most 3 late", "at most 3 late" if np.max(late[sel]) <= 3 else "later",
                          "float64 loss of orthogonality delays termination (Greenbaum & Strakos 1992)")
    yield compare_outcome(f"kappa = 1e6, {dim} distinct eigenvalues: float64 CG needs more than {dim} steps "
                          f"(measured {int(reached[-1]) if reached[-1] <= steps else f'> {steps}'})",
                          "more than d", "more than d" if late[-1] > 0 else "within d",
                          "float64 loss of orthogonality: the exact-arithmetic count no longer holds")


_DECREASE, _SHRINK = 0.3, 0.5  # Armijo constant c and backtracking factor
_OFFSET = 1e-9  # relative distance of the constructed attaining cases from a power of the shrink factor


def _predicted_steps(threshold):
    """The largest shrink^j <= min(1, threshold), j = 0, 1, ...: backtracking's accepted step."""
    j = np.maximum(np.ceil(np.log(threshold) / np.log(_SHRINK) - 1e-12), 0)
    return _SHRINK**j


@check("second_order.armijo_backtracking", smoke=True, uses={
    "threshold": "second_order.armijo_step_threshold", "min_step": "second_order.armijo_min_step",
    "contraction": "second_order.armijo_contraction"})
def armijo_backtracking(ctx: Context, threshold, min_step, contraction):
    """GD with backtracking on random quadratics: accepted steps, their lower bound and the per-step contraction."""
    rng = np.random.default_rng(4000 + ctx.seed)
    dim, steps, per_kappa = 10, 40, 3 if ctx.smoke else 6
    kappas = np.repeat(_KAPPAS, per_kappa)
    scales = np.exp(rng.uniform(np.log(0.1), np.log(10.0), kappas.size))  # mu; L = kappa mu
    spectra = [s * np.concatenate([[1.0, k], np.exp(rng.uniform(0, np.log(k), dim - 2))])
               for s, k in zip(scales, kappas)]
    hessians = [_rotated(rng, sp) for sp in spectra]
    starts = list(rng.normal(size=(kappas.size, dim)))
    # attaining cases: (a) 1-D-like, x0 an eigenvector of mu with 2(1-c)/mu = shrink^2 (1 + offset): the step
    # sits at the Armijo threshold; (b) x0 an eigenvector of L with 2(1-c)/L = shrink^3 (1 - offset): the
    # accepted step is shrink times the threshold, the smallest possible
    mu_edge = 2 * (1 - _DECREASE) / (_SHRINK**2 * (1 + _OFFSET))
    l_edge = 2 * (1 - _DECREASE) / (_SHRINK**3 * (1 - _OFFSET))
    for value, others in ((mu_edge, 2 * mu_edge), (l_edge, l_edge / 2)):  # x0's eigenvalue is mu, then L
        hessians.append(np.diag(np.concatenate([[value], np.full(dim - 1, others)])))
        starts.append(np.eye(dim)[0])
    hessians, starts = np.array(hessians), np.array(starts)
    run = ctx.measure(sim.backtracking_descent, hessians, np.zeros_like(starts), starts, steps, _DECREASE, _SHRINK)
    grads, accepted = np.asarray(run.gradients), np.asarray(run.accepted_steps)
    losses = np.asarray(run.losses)  # the minimum is 0 (b = 0)
    live = losses[:, :-1] > 1e-25 * losses[:, :1]  # iterations whose f is far above float64 underflow/round-off
    gg = np.sum(grads**2, axis=-1)
    rayleigh = np.einsum("bti,bij,btj->bt", grads, hessians, grads) / np.where(gg > 0, gg, 1.0)
    limit = np.asarray(threshold.jax(rayleigh, _DECREASE))
    power = np.log(limit) / np.log(_SHRINK)
    clear = live & (np.abs(power - np.round(power)) > 1e-8)  # not within round-off of a tie
    yield compare(f"accepted step = largest shrink^j <= 2(1-c)/q at {int(clear.sum())} iterations "
                  f"({kappas.size} random quadratics, kappa = {_KAPPAS})", _predicted_steps(limit[clear]),
                  accepted[clear], 1e-12, "float64 round-off (powers of 1/2 are exact; ties within 1e-8 excluded)")
    lowest = np.asarray(min_step.jax(np.array([np.linalg.eigvalsh(h)[-1] for h in hessians]), _DECREASE, _SHRINK))
    worst = float(np.min(accepted[live] / np.broadcast_to(lowest[:, None], accepted.shape)[live]))
    yield compare(f"every accepted step >= min(1, 2 shrink (1-c)/L) (tightness on random quadratics: "
                  f"min ratio {worst:.3g})", 1.0, min(worst, 1.0), 1e-12, "float64 round-off")
    yield compare("attained: x0 an L-eigenvector with 2(1-c)/L just below shrink^3: step vs min(1, 2 shrink (1-c)/L)",
                  float(lowest[-1]), float(accepted[-1, 0]), 2 * _OFFSET,
                  "finite offset 1e-9 of the construction from the power of shrink, plus float64 round-off")
    mu = np.array([np.linalg.eigvalsh(h)[0] for h in hessians])
    ratio = losses[:, 1:] / np.where(losses[:, :-1] > 0, losses[:, :-1], 1.0)
    bound = np.asarray(contraction.jax(mu[:, None], _DECREASE, accepted))
    slack = float(np.max(ratio[live] - bound[live]))
    yield compare(f"per-step (f+ - f*)/(f - f*) <= 1 - 2 mu c s at every iteration (max excess {slack:.2g})",
                  0.0, max(slack, 0.0), 1e-12, "float64 round-off of loss ratios", relative=False)
    yield compare("attained: x0 a mu-eigenvector with 2(1-c)/mu just above shrink^2: (f+ - f*)/(f - f*) vs 1 - 2 mu c s",
                  float(bound[-2, 0]), float(ratio[-2, 0]), 20 * _OFFSET,
                  "finite offset 1e-9 of the construction (both sides move by ~4 offset / (1-2c)^2), float64 round-off")
    # the rate bound armijo_rate_bound = contraction at the smallest step: f_k <= rate^k f_0
    rate = np.asarray(contraction.jax(mu, _DECREASE, lowest))
    k = np.arange(steps + 1)
    envelope = rate[:, None] ** k
    measured = losses / losses[:, :1]
    resolved = envelope > 1e-25
    excess = float(np.max(measured[resolved] / envelope[resolved]))
    per_step = np.exp(np.log(measured[:-2, 10]) / 10)  # measured geometric-mean rate over the first 10 steps
    tightness = np.log(rate[:-2]) / np.log(per_step)  # 1 = tight; bound's log-rate over the measured one
    yield compare(f"f_k - f* <= (1 - 2 mu c min(1, 2 shrink (1-c)/L))^k (f_0 - f*) on every run (tightness: bound's "
                  f"log-rate / measured, {tightness.min():.2g} to {tightness.max():.2g})", 1.0, max(excess, 1.0), 1e-10,
                  "float64 round-off")


@check("second_order.newton", smoke=True, uses={"newton": "second_order.damped_newton_error",
                                                 "bound": "second_order.cg_error_bound"},
       blind={"bound": "used as an upper bound on truncated Newton's rate (a looser one passes too); "
              "second_order.cg_chebyshev compares it with a tight row"})
def newton(ctx: Context, newton, bound):
    """Hessian-free Newton (CG on Hessian-vector products): exact inner solves follow the damped-Newton map;
    truncated ones contract by at most the CG bound 2 r^K."""
    rng = np.random.default_rng(5000 + ctx.seed)
    dim = 30  # one shape for every run: one compilation
    lam, cubic, start = rng.uniform(1, 4, dim), rng.uniform(-0.5, 0.5, dim), rng.uniform(-0.4, 0.4, dim)
    for damping in (0.0, 0.1):
        errors = np.asarray(ctx.measure(sim.hessian_free_newton, np.diag(lam), cubic, start, 12, dim,
                                        damping).iterates)
        predicted = np.asarray(newton.jax(lam, cubic, damping, errors[:-1]))
        scale = np.max(np.abs(errors[:-1]), axis=1, keepdims=True)
        yield compare(f"damping {damping}: HF-Newton ({dim} CG steps, diagonal Hessian, d = {dim}) next error vs the "
                      "damped-Newton map, 12 steps", predicted, errors[1:], 1e-13 * scale + 1e-300,
                      "float64 round-off of e + s with |s| ~ |e| (1e-13 of the step's scale)", relative=False)
    kappa = 100.0
    spectrum = np.concatenate([[1.0, kappa], np.exp(rng.uniform(0, np.log(kappa), dim - 2))])
    matrix, cubic = _rotated(rng, spectrum), rng.uniform(-0.05, 0.05, dim)
    start = rng.normal(size=dim)
    start *= 0.1 / np.linalg.norm(start)
    for inner in (4, 8):
        xs = np.asarray(ctx.measure(sim.hessian_free_newton, matrix, cubic, start, 12, inner).iterates)
        norms = np.sqrt(np.einsum("ti,ij,tj->t", xs, matrix, xs))
        measured = norms[1:] / norms[:-1]
        # the Hessian at x is A + diag(cubic x): relative distance max|cubic x|/mu from A (first order)
        slack = 3 * np.max(np.abs(cubic[None] * xs[:-1]), axis=1) / spectrum.min()
        predicted = float(bound.jax(kappa, inner))
        yield compare(f"truncated Newton, K = {inner} CG steps, kappa = {kappa:g}: per-step H-norm contraction <= "
                      f"2 r^K = {predicted:.3g} (measured max {measured.max():.3g})", 0.0,
                      np.max(np.maximum(measured - predicted * (1 + slack), 0.0)), 1e-12,
                      "leading order in the cubic term: the Hessian differs from A by diag(cubic x), relative "
                      "size 3 max|cubic x|/mu, plus float64 round-off", relative=False)


# --- planted mistakes in this family's Formulas (discovered by verify.mutations) -------------
from verify.mutations import mistake  # noqa: E402  (kept at the end of the module)

MISTAKES = (
    mistake("second_order.cg_minimax_error", "kappa instead of sqrt(kappa) in the Chebyshev ratio",
            "2*((kappa - 1)/(kappa + 1))**t/(((kappa - 1)/(kappa + 1))**(2*t) + 1)"),
    mistake("second_order.armijo_step_threshold", "the factor 2 of the quadratic's Taylor term lost",
            "(1 - sufficient_decrease)/rayleigh"),
    mistake("second_order.armijo_contraction", "strong convexity's 2 mu dropped to mu",
            "1 - mu*step*sufficient_decrease"),
    mistake("second_order.damped_newton_error", "the cubic's 1/2 from f' lost",
            "error*(2*cubic*error + 2*damping)/(2*(cubic*error + damping + lam))"),
)
