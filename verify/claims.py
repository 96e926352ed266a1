r"""A claim outside the catalogue in a few lines: prediction, measurement, tolerance, reason.

:func:`claim` turns a prediction (a :class:`~analytic.formula.Formula` or any JAX
function) and a measurement (a JAX function that trains something) into a check
registered like the catalogue's: it runs in ``python -m verify`` (table, JSON,
figures) and, in a notebook, :func:`rows` runs it in one call and returns the rows.
Every claim carries its own negative control: the same measurement compared with the
prediction scaled by 11/10 must fail (a row says whether it did). A claim whose tolerance is
5% or more cannot tell a 10% error, so its control scales the prediction by 1 + 2 x tolerance
instead (relative; an absolute tolerance is converted on the scale of the prediction), and the
row's label says by how much. A Formula from the
catalogue is declared in ``uses``, so ``tests/test_negative_controls.py`` also perturbs it.

:func:`linear_method_claim` is the claim "this linear method contracts at its derived
spectral radius" for ANY method: the prediction is the radius Formula (from
:func:`analytic.linear_method` or the catalogue) maximised over each quadratic's
eigenvalues; the measurement runs the user's JAX step function on random quadratics
(:mod:`numeric.methods`), never the derived matrix.

Example:
    >>> import jax.numpy as jnp
    >>> from verify import claims
    >>> chk = claims.claim(
    ...     "user.gd_factor", register=False,
    ...     prediction=lambda eta, lam: jnp.abs(1 - eta * lam),
    ...     measurement=lambda key, eta, lam: jnp.abs((1 - eta * lam) ** 50) ** (1 / 50),
    ...     inputs={"eta": jnp.array([0.1, 0.5]), "lam": jnp.array([1.0, 3.0])},
    ...     tolerance=1e-9, reason="float64 round-off over 50 steps", cites="textbook")
    >>> [(r.label, r.passed) for r in claims.rows(chk)]
    [('user.gd_factor', True), ('negative control: prediction x 11/10', True)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from analytic.formula import Formula
from numeric import methods as sim
from verify import core

__all__ = ["claim", "linear_method_claim", "rows"]

_WRONG = 1.1  # the negative control's deliberate 10% error


def _catalogue_name(formula: Formula) -> str:
    """The catalogue name of ``formula`` if the catalogue holds exactly it, else ""."""
    import analytic

    try:
        return formula.name if analytic.get(formula.name).expr == formula.expr else ""
    except Exception:  # noqa: BLE001 - any failure means: not a catalogue Formula
        return ""


def _evaluate(prediction, values: Mapping[str, Any]):
    if isinstance(prediction, Formula):
        return prediction(**{n: values[n] for n in prediction.param_names})
    return prediction(**values)


def _control_factor(prediction, tolerance, relative) -> float:
    """11/10, or 1 + 2 x the claim's relative tolerance where that is 5% or more (a 10% slip is then
    inside the tolerance and the control would fail for want of resolution, not of a check)."""
    tol = np.max(np.asarray(tolerance, float))
    if not relative:
        scale = np.min(np.abs(np.asarray(prediction, float)))
        tol = tol / scale if scale > 0 else np.inf
    return _WRONG if 2 * tol <= _WRONG - 1 else float(1 + 2 * tol)


def _negative_control(label, prediction, measurement, tolerance, relative) -> core.Row:
    factor = _control_factor(prediction, tolerance, relative)
    wrong_prediction = factor * np.asarray(prediction, float)
    caught = bool(np.isfinite(factor)) and \
        not core.compare(label, wrong_prediction, measurement, tolerance, "", relative).passed
    what = "11/10" if factor == _WRONG else f"{factor:.3g} (1 + 2 x the claim's tolerance)"
    return core.compare_outcome(f"negative control: prediction x {what}", "rejected",
                                "rejected" if caught else "accepted",
                                f"the measurement must tell a {factor - 1:.0%} error in the prediction")


def _make(name: str, uses: dict, run: Callable, cites: str, description: str,
          register: bool, smoke: bool = False) -> core.Check:
    if register:
        return core.check(name, uses=uses, cites=cites, description=description, smoke=smoke)(run)
    return core.Check(name, run, cites, description, tuple(uses.items()), smoke=smoke)


def claim(name: str, *, prediction, measurement: Callable, inputs, tolerance, reason: str,
          cites: str = "", relative: bool = True, description: str = "",
          register: bool = False) -> core.Check:
    """A check comparing ``prediction(**inputs)`` with ``measurement(key, **inputs)``.

    ``prediction``: a catalogue name (``"linreg.critical_lr"``), a Formula (called with the inputs named like its parameters) or a
    function of the inputs. ``measurement(key, **inputs)``: a JAX function that trains
    something, given a PRNG key from the run's seed. ``inputs``: a dict of arrays, or a
    function ``inputs(ctx)`` returning one (e.g. smaller when ``ctx.quick``).
    ``tolerance`` (relative unless ``relative=False``) with its ``reason``; ``cites``:
    the claim's paper. By default (``register=False``) the check is only returned: :func:`rows`
    runs it, and re-running a notebook cell makes a fresh one instead of raising "registered
    twice"; a module-level check in ``verify/checks/`` or in a ``tdtk.checks`` entry-point
    module is found by ``python -m verify`` anyway. ``register=True`` adds it to the
    registry now (a second check of that name is then an error).
    """
    if not reason or not reason.strip():
        raise ValueError(f"claim {name!r}: every tolerance needs its reason")
    if not (callable(prediction) or isinstance(prediction, (Formula, str))) or not callable(measurement):
        raise TypeError(f"claim {name!r}: prediction must be a Formula or function, and "
                        f"measurement a function (key, **inputs)")
    if isinstance(prediction, str):  # a catalogue name: resolved when the check runs
        uses, fixed = {"prediction": prediction}, None
    else:
        catalogued = _catalogue_name(prediction) if isinstance(prediction, Formula) else ""
        uses, fixed = ({"prediction": catalogued} if catalogued else {}), prediction

    def run(ctx: core.Context, prediction=None):
        predict = prediction if prediction is not None else fixed
        values = inputs(ctx) if callable(inputs) else dict(inputs)
        p = np.asarray(_evaluate(predict, values), float)
        m = np.asarray(measurement(ctx.key(name), **values), float)
        yield core.compare(name, p, m, tolerance, reason, relative)
        yield _negative_control(name, p, m, tolerance, relative)

    return _make(name, uses, run, cites or (getattr(prediction, "source", "") or ""),
                 description or f"user claim {name}", register)


def linear_method_claim(name: str, *, radius: Formula, step: Callable, parameters, state_size: int,
                        worst_case: Formula | None = None, interval=(0.5, 4.0), dim: int = 6,
                        runs: int = 32, steps: int = 600, tolerance: float = 0.01,
                        reason: str = "", cites: str = "", register: bool = False) -> core.Check:
    """The claim "``step`` contracts at ``radius``" on random quadratics, for any linear method.

    ``radius``: the spectral-radius Formula, or its catalogue name (parameters: the method's
    and ``lam``); ``worst_case`` likewise (parameters: the method's, ``mu`` and ``L``).
    ``step(state, grad, **params)``: one step of the same method as a JAX function, with
    ``state`` a tuple of ``state_size`` arrays. ``parameters(key, runs)``: a dict of
    ``runs`` values per parameter. Each run draws a quadratic with eigenvalues ``interval``
    ends plus ``dim - 2`` uniform inside, a Haar-random basis and a Gaussian start; the
    prediction is the radius maximised over its eigenvalues (and ``worst_case(mu, L)``
    when given, a second row); the measurement is the fitted per-step contraction.
    """
    mu_, L_ = map(float, interval)
    why = reason or (f"fitted log-slope over steps [{steps // 4}, {steps}] of the state norm: a complex "
                     f"mode's bounded oscillation factor g shifts it by <= log(g)/{3 * steps // 4}, "
                     "the log(1+t) term absorbs double roots' t rho^t prefactor")
    uses, fixed = {}, {}
    for arg, f in (("radius", radius), ("worst_case", worst_case)):
        if isinstance(f, str):  # a catalogue name: resolved when the check runs (no sympy at import)
            uses[arg] = f
        elif f is not None and _catalogue_name(f):
            uses[arg] = f.name
        fixed[arg] = f if isinstance(f, Formula) else None

    def run(ctx: core.Context, radius=None, worst_case=None):
        radius = radius or fixed["radius"]
        worst_case = worst_case or fixed["worst_case"]
        n = max(8, runs // 4) if ctx.smoke else runs
        drawn = sim.run_on_random_quadratics(step, parameters, ctx.key(name), runs=n, dim=dim, mu=mu_,
                                             L=L_, state_size=state_size, steps=steps)
        params, lams = drawn.params, drawn.eigenvalues
        measured = np.asarray(drawn.run.rate)
        names = [p for p in radius.param_names if p != "lam"]
        per_mode = radius.jax(*(params[p][:, None] if p != "lam" else lams for p in radius.param_names))
        predicted = np.asarray(per_mode).max(-1)
        yield core.compare(f"radius vs measured rate ({n} random quadratics, dim {dim})", predicted,
                           measured, tolerance, why, relative=False)
        if worst_case is not None:
            wc = np.asarray(worst_case.jax(*(params[p] if p in names else (mu_ if p == "mu" else L_)
                                             for p in worst_case.param_names)))
            yield core.compare(f"worst case on [{mu_:g}, {L_:g}] vs measured rate", wc, measured,
                               tolerance, why + "; eigenvalues include both ends", relative=False)
        clear = np.abs(np.log(predicted)) > 0.02
        mismatches = int(np.sum((predicted[clear] > 1) != (measured[clear] > 1)))
        yield core.compare_outcome(f"diverges iff radius > 1 ({int(clear.sum())} runs)", "0 mismatches",
                                   f"{mismatches} mismatches", "categorical; runs within 2% of radius 1 "
                                   "left out (sign of growth ambiguous over the window)")
        yield _negative_control("radius", predicted, measured, tolerance, relative=False)
        ctx.figure(name.replace(".", "_") + "_rates", {"predicted": predicted, "measured": measured},
                   x="predicted", ys=("measured",), title=f"{name}: measured rate vs derived radius")

    return _make(name, uses, run, cites or getattr(radius, "source", ""), f"measured contraction vs derived spectral "
                 f"radius of a user-defined method ({name})", register, smoke=True)


def rows(check: core.Check | str, size: str = "quick", seed: int = 0) -> list[core.Row]:
    """Run one check (object or registered name) and return its rows (a notebook's one call).

    A check that raises gives one failed row carrying the exception, as in ``python -m verify``.
    """
    chk = core.registry()[check] if isinstance(check, str) else check
    ctx = core.Context(size=size, seed=seed)
    return [result.row for result in core.run([chk], ctx)]
