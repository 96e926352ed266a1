"""One vocabulary: new public names follow the glossary (README "Glossary", analytic.glossary).

The rules, applied to the public functions of ``analytic/`` families and ``numeric/``
modules (their names and parameter names), the Formula names of the registry and the
Symbols of the families' ``_symbols.py``, all read without deriving anything:

1. a *function parameter* spelling a learning rate, momentum, curvature, batch size, width
   or depth otherwise than the glossary keyword (``eta``, ``alpha``, ``lr``, ``lam``, ``h``,
   ``B``, ...), or a new sympy *Symbol* for one of them named otherwise than the term's
   symbol (``eta``, ``beta``, ``lam``, ``batch_size``, ``width``, ``depth``);
2. a *function or Formula name* spelling "the largest stable step" otherwise than
   ``max_learning_rate`` (``critical_lr``, ``max_lr``, ``critical_alpha``, ...);
3. the American ``catalog`` / ``parameterization`` in a new identifier (except the keyword
   ``parameterization=`` itself: the kernels' public keyword since ``fc_kernels``, which issue 27
   made the contract of ``kernels.serial`` too, so one keyword serves every kernel function).

Names that exist today are listed in ``LEGACY`` and keep working (the public contract);
anything else that breaks a rule fails here with the glossary name to use instead.
"""

import importlib
import inspect
import pkgutil
import re

import pytest
import sympy as sp

import analytic
import numeric
from analytic import glossary

_SPELLING = re.compile(r"(?<![a-z])(catalog|parameteriz\w*)(?![a-z])|catalog(?!ue)|parameteriz")


# The quantities with many spellings today (issue 33): their glossary keyword is the name of a
# new function parameter; a new sympy Symbol for them is named by the term's ``symbol``.
_RULED = ("learning_rate", "momentum", "curvature", "batch_size", "width", "depth")


def _legacy_spellings(family: str, *, symbols: bool = False) -> dict[str, str]:
    """{legacy spelling: glossary keyword} in ``family``: for function parameters (the keyword
    is the right name), or for Symbols (``symbols=True``: the term's ``symbol`` is)."""
    out = {}
    for t in glossary.GLOSSARY:
        if t.name not in _RULED:
            continue
        right = t.symbol if symbols else t.name
        for s in t.spellings:
            fam, _, param = s.rpartition(".")
            if (not fam or fam == family) and param != right:
                out[param] = t.name
    return out


def _public_functions():
    """(where, function name, parameter names) of the families' and numeric's public functions."""
    for family in analytic.FAMILIES:
        module = importlib.import_module(f"analytic.{family}")
        for name in getattr(module, "__all__", ()):
            obj = vars(module).get(name)  # vars(): never derives a lazily served Formula
            if inspect.isfunction(obj):
                yield family, f"analytic.{family}.{name}", tuple(inspect.signature(obj).parameters)
    for info in pkgutil.iter_modules(numeric.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"numeric.{info.name}")
        for name, obj in vars(module).items():
            if inspect.isfunction(obj) and not name.startswith("_") and obj.__module__ == module.__name__:
                yield info.name, f"numeric.{info.name}.{name}", tuple(inspect.signature(obj).parameters)


def _symbols():
    for family in analytic.FAMILIES:
        try:
            module = importlib.import_module(f"analytic.{family}._symbols")
        except ModuleNotFoundError:
            continue
        for value in vars(module).values():
            if isinstance(value, sp.Symbol):
                yield family, value.name


def violations() -> set[str]:
    """Every name that breaks a rule, as ``"rule: where name"`` strings."""
    found = set()
    step = tuple(s for s in glossary.term("largest_stable_step").spellings if s != "max_learning_rate")
    for family, where, params in _public_functions():
        legacy = _legacy_spellings(family)
        for p in params:
            if p in legacy:
                found.add(f"parameter: {where}({p}) -> {legacy[p]}")
            if _SPELLING.search(p) and p != "parameterization":  # the kernels' public keyword (rule 3)
                found.add(f"spelling: {where}({p})")
        short = where.rsplit(".", 1)[1]
        if any(s in short for s in step):
            found.add(f"step name: {where}")
        if _SPELLING.search(short):
            found.add(f"spelling: {where}")
    for name in analytic.names():
        if any(s in name.split(".")[1] for s in step):
            found.add(f"step name: {name}")
        if _SPELLING.search(name):
            found.add(f"spelling: {name}")
    for family, name in _symbols():
        legacy = _legacy_spellings(family, symbols=True)
        if name in legacy:
            found.add(f"symbol: {family}.{name} -> {legacy[name]}")
    return found


# The names of today (23:45 UTC, 2026-12-06): they keep working; new names follow the glossary.
LEGACY = frozenset({
    'parameter: analytic.bilevel.ridge_hypergradient(eta) -> learning_rate',
    'parameter: analytic.catapult.phase(eta) -> learning_rate',
    'parameter: analytic.catapult.phase(lam0) -> curvature',
    'parameter: analytic.catapult.uv_trajectory(eta) -> learning_rate',
    'parameter: analytic.catapult.uv_trajectory(lam0) -> curvature',
    'parameter: analytic.catapult.uv_trajectory(n) -> width',
    'parameter: analytic.deeplinear.arora_singular_value(N) -> depth',
    'parameter: analytic.implicit.deep_linear_balance_drift(eta) -> learning_rate',
    'parameter: analytic.kernels.infinite_width_mean(eta) -> learning_rate',
    'parameter: analytic.kernels.matrix_free_mean(eta) -> learning_rate',
    'parameter: analytic.linreg.gd_loss_curve(eta) -> learning_rate',
    'parameter: analytic.momentum.is_stable(alpha) -> learning_rate',
    'parameter: analytic.momentum.is_stable(beta) -> momentum',
    'parameter: analytic.momentum.is_stable(lam) -> curvature',
    'parameter: analytic.momentum.regime(alpha) -> learning_rate',
    'parameter: analytic.momentum.regime(beta) -> momentum',
    'parameter: analytic.momentum.regime(lam) -> curvature',
    'parameter: analytic.momentum.spectral_radius(alpha) -> learning_rate',
    'parameter: analytic.momentum.spectral_radius(beta) -> momentum',
    'parameter: analytic.momentum.spectral_radius(lam) -> curvature',
    'parameter: analytic.nqm.check_hyperparameters(batch) -> batch_size',
    'parameter: analytic.nqm.expected_loss_curve(B) -> batch_size',
    'parameter: analytic.nqm.expected_loss_curve(alpha) -> learning_rate',
    'parameter: analytic.nqm.expected_loss_curve(beta) -> momentum',
    'parameter: analytic.nqm.expected_loss_curve(h) -> curvature',
    'parameter: analytic.nqm.learning_rate_grid(h) -> curvature',
    'parameter: analytic.nqm.steps_to_target(B) -> batch_size',
    'parameter: analytic.nqm.steps_to_target(alpha) -> learning_rate',
    'parameter: analytic.nqm.steps_to_target(beta) -> momentum',
    'parameter: analytic.nqm.steps_to_target(h) -> curvature',
    'parameter: analytic.nqm.tuned_steps_to_target(h) -> curvature',
    'parameter: analytic.optimizers.best_step_decay(B) -> batch_size',
    'parameter: analytic.optimizers.best_step_decay(alpha) -> learning_rate',
    'parameter: analytic.optimizers.best_step_decay(h) -> curvature',
    'parameter: analytic.optimizers.scheduled_expected_loss(B) -> batch_size',
    'parameter: analytic.optimizers.scheduled_expected_loss(h) -> curvature',
    'parameter: numeric.bilevel.greedy_schedule_by_line_search(lam) -> curvature',
    'parameter: numeric.bilevel.horizon_optimal_schedule(lam) -> curvature',
    'parameter: numeric.bilevel.nqm_expected_losses(lam) -> curvature',
    'parameter: numeric.bilevel.ridge_hypergradients(eta) -> learning_rate',
    'parameter: numeric.bilevel.sgd_with_schedule(lam) -> curvature',
    'parameter: numeric.bilevel.validation_loss(eta) -> learning_rate',
    'parameter: numeric.catapult.gd_uv(eta) -> learning_rate',
    'parameter: numeric.catapult.uv_vectors(lam0) -> curvature',
    'parameter: numeric.catapult.uv_vectors(n) -> width',
    'parameter: numeric.deeplinear.train_symmetric_square(lr) -> learning_rate',
    'parameter: numeric.eos.quadratic_growth(beta) -> momentum',
    'parameter: numeric.eos.quadratic_growth(eta) -> learning_rate',
    'parameter: numeric.eos.quadratic_growth(lam) -> curvature',
    'parameter: numeric.games.run_batch(eta) -> learning_rate',
    'parameter: numeric.games.run_method(eta) -> learning_rate',
    'parameter: numeric.implicit.gd_deep_linear(eta) -> learning_rate',
    'parameter: numeric.implicit.gd_factorisation(eta) -> learning_rate',
    'parameter: numeric.implicit.mean_sgd_least_squares(eta) -> learning_rate',
    'parameter: numeric.linreg.gd_least_squares(eta) -> learning_rate',
    'parameter: numeric.mlp.train_ensemble(eta) -> learning_rate',
    'parameter: numeric.mlp.train_linearized(eta) -> learning_rate',
    'parameter: numeric.momentum.run(alpha) -> learning_rate',
    'parameter: numeric.momentum.run(beta) -> momentum',
    'parameter: numeric.momentum.seed_ensemble(alpha) -> learning_rate',
    'parameter: numeric.momentum.seed_ensemble(beta) -> momentum',
    'parameter: numeric.normalization.dropout_sgd_least_squares(eta) -> learning_rate',
    'parameter: numeric.normalization.sphere_noise_then_rescale(beta) -> momentum',
    'parameter: numeric.normalization.sphere_noise_then_rescale(eta) -> learning_rate',
    'parameter: numeric.normalization.train_normalized_mlp(batch) -> batch_size',
    'parameter: numeric.normalization.train_normalized_mlp(beta) -> momentum',
    'parameter: numeric.normalization.train_normalized_mlp(eta) -> learning_rate',
    'parameter: numeric.normalization.train_then_rescale(batch) -> batch_size',
    'parameter: numeric.normalization.train_then_rescale(beta) -> momentum',
    'parameter: numeric.normalization.train_then_rescale(eta) -> learning_rate',
    'parameter: numeric.nqm.simulate_sweep(h) -> curvature',
    'parameter: numeric.nqm.steady_state_loss(h) -> curvature',
    'parameter: numeric.nqm.steady_state_loss(lr) -> learning_rate',
    'parameter: numeric.optimizers.adam_full_batch(eta) -> learning_rate',
    'parameter: numeric.optimizers.adam_noise_updates(eta) -> learning_rate',
    'parameter: numeric.optimizers.frozen_adam_quadratic(eta) -> learning_rate',
    'parameter: numeric.optimizers.natural_gradient_least_squares(eta) -> learning_rate',
    'parameter: numeric.optimizers.nqm_scheduled_sgd(batch) -> batch_size',
    'parameter: numeric.optimizers.nqm_scheduled_sgd(h) -> curvature',
    'parameter: numeric.scaling.chinchilla_law(alpha) -> learning_rate',
    'parameter: numeric.scaling.chinchilla_law(beta) -> momentum',
    'parameter: numeric.scaling.expected_sgd_floor(batch) -> batch_size',
    'parameter: numeric.scaling.expected_sgd_floor(lr) -> learning_rate',
    'parameter: numeric.scaling.expected_sgd_risk(batch) -> batch_size',
    'parameter: numeric.scaling.expected_sgd_risk(lr) -> learning_rate',
    'parameter: numeric.scaling.sampled_sgd_risk(batch) -> batch_size',
    'parameter: numeric.scaling.sampled_sgd_risk(lr) -> learning_rate',
    'spelling: analytic.kernels.cache_kernel(parameterization)',
    'spelling: analytic.kernels.fc_kernels(parameterization)',
    'spelling: analytic.kernels.kernel_matvec(parameterization)',
    'spelling: analytic.kernels.matrix_free_mean(parameterization)',
    'spelling: analytic.kernels.pivoted_cholesky(parameterization)',
    'spelling: analytic.kernels.sharded_fc_kernels(parameterization)',
    'spelling: analytic.kernels.stream_fc_kernels(parameterization)',
    'step name: catapult.critical_lr',
    'step name: catapult.max_lr',
    'step name: games.alternating_gda_max_step',
    'step name: games.extragradient_max_step',
    'step name: games.optimistic_gda_max_step',
    'step name: linreg.critical_lr',
    'step name: methods.qhm_critical_alpha',
    'step name: momentum.heavy_ball_critical_alpha',
    'step name: momentum.nesterov_critical_alpha',
    'step name: nqm.max_stable_lr',
    'symbol: catapult.lam0 -> curvature',
    'symbol: catapult.n -> width',
    'symbol: deeplinear.N -> depth',
    'symbol: games.momentum -> momentum',
    'symbol: nqm.B -> batch_size',
    'symbol: nqm.h -> curvature',
    'symbol: optimizers.B -> batch_size',
    'symbol: optimizers.h -> curvature',
    'symbol: scaling.batch -> batch_size',
    'symbol: signal.layers -> depth',
})


def test_new_public_names_follow_the_glossary():
    new = sorted(violations() - LEGACY)
    assert not new, "names outside the glossary (README 'Glossary'; analytic/glossary.py):\n" + "\n".join(new)


def test_the_rules_catch_a_new_legacy_spelling(monkeypatch):
    # Negative control: a new numeric function taking lr= and a Formula named critical_* are reported.
    import numeric.nqm

    def new_simulation(key, lr, batch_size):  # noqa: ARG001
        return None

    new_simulation.__module__ = "numeric.nqm"
    monkeypatch.setattr(numeric.nqm, "new_simulation", new_simulation, raising=False)
    monkeypatch.setattr(analytic, "names", lambda: ["linreg.critical_step_new"])
    found = violations()
    assert "parameter: numeric.nqm.new_simulation(lr) -> learning_rate" in found
    assert "step name: linreg.critical_step_new" in found


def test_glossary_keywords_reach_the_parameters_they_name():
    from analytic import nqm
    import numeric.nqm as sim

    f = nqm.sgd_steady_state_loss
    assert float(f(learning_rate=0.5, h=1.0, c=1.0, batch_size=4.0)) == float(f(alpha=0.5, h=1.0, c=1.0, B=4.0))
    with pytest.raises(TypeError, match="all name the parameter 'alpha'"):
        f(learning_rate=0.5, alpha=0.5, h=1.0, c=1.0, B=4.0)
    assert "learning_rate" in inspect.signature(sim.steady_state_loss).parameters
    with pytest.raises(TypeError, match="not both"):
        sim.steady_state_loss(None, [1.0], [1.0], 1.0, 0.1, learning_rate=0.1, burn_in=1, steps=1, chains=2)


def test_one_symbol_one_meaning():
    from analytic.nqm import _symbols as nqm_symbols
    from analytic.scaling import _symbols as scaling_symbols

    assert nqm_symbols.B != scaling_symbols.B  # a batch size; the Chinchilla data coefficient
    from analytic import scaling

    law = scaling.chinchilla_loss
    assert float(law(N=1e9, D=1e10, E=1.0, A=400.0, B=400.0, alpha=0.3, beta=0.3)) == float(
        law(N=1e9, D=1e10, E=1.0, A=400.0, B_data=400.0, alpha=0.3, beta=0.3))  # B= keeps working
