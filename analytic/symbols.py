"""The sympy Symbols that several families share, created once, with their assumptions.

``Symbol('x') != Symbol('x', positive=True)``: two modules that each create "the
same" symbol with different assumptions produce expressions that silently do not
combine. So a Symbol used by more than one family lives here, and a Symbol that one
family alone uses lives in that family's ``_symbols.py`` (``analytic/nqm/_symbols.py``
holds the batch size ``B``; the scaling laws' data coefficient is the distinct Symbol
``B_data``). One Symbol means one thing: ``mu``, ``L`` (the curvature interval) and ``z``
(a characteristic polynomial's variable) are created here, once, for momentum, games and
the linear-iteration engine. The names of recurring quantities follow the glossary
(:mod:`analytic.glossary`).
``tests/test_formula.py`` asserts that no two Formulas of the catalogue use one
name with different assumptions.

The assumptions double as the default valid range of a parameter when a
:class:`~analytic.formula.Formula` is evaluated (``positive`` -> (0, oo),
``nonnegative`` -> [0, oo), ``nonnegative integer`` -> {0, 1, 2, ...}); a formula can
narrow a range further (for example ``kappa >= 1``).

The eigenvalue is ``lam``: ``lambda`` cannot be a keyword argument.

For old notebooks, ``from analytic.symbols import B`` still finds a family's own
Symbol (the families are searched in order; prefer ``from analytic.nqm import symbols``).
"""

from __future__ import annotations

import importlib

from sympy import Symbol

eta = Symbol("eta", positive=True)  # learning rate
lam = Symbol("lam", nonnegative=True)  # an eigenvalue of the Hessian
t = Symbol("t", nonnegative=True)  # time: step count or gradient-flow time
e0 = Symbol("e0", real=True)  # initial error along one eigen-direction
kappa = Symbol("kappa", positive=True)  # condition number lam_max / lam_min (>= 1)
eps = Symbol("eps", positive=True)  # target relative error
alpha = Symbol("alpha", positive=True)  # step size (momentum methods, NQM)
beta = Symbol("beta", nonnegative=True)  # momentum coefficient
mu = Symbol("mu", positive=True)  # smallest curvature: strong convexity (monotonicity, for games)
L = Symbol("L", positive=True)  # largest curvature: smoothness (the interval [mu, L] of eigenvalues)
z = Symbol("z")  # the variable of a characteristic polynomial (complex)
q = Symbol("q", positive=True)  # pre-activation variance, the kernel's diagonal (kernels, signal)
sigma_w = Symbol("sigma_w", nonnegative=True)  # weight standard deviation (kernels, signal)
sigma_b = Symbol("sigma_b", nonnegative=True)  # bias standard deviation (kernels, signal)
r2 = Symbol("r2", nonnegative=True)  # signal strength ||beta||^2 (linreg, bootstrap)
sigma2 = Symbol("sigma2", nonnegative=True)  # label-noise variance (linreg, bootstrap)


def __getattr__(name: str) -> Symbol:
    if name.startswith("__"):  # the import system probes __path__ etc.: not symbols
        raise AttributeError(f"module 'analytic.symbols' has no attribute {name!r}")
    from analytic import FAMILIES

    for family in FAMILIES:
        try:
            module = importlib.import_module(f"analytic.{family}._symbols")
        except ImportError:
            continue
        if isinstance(getattr(module, name, None), Symbol):
            return getattr(module, name)
    raise AttributeError(f"module 'analytic.symbols' has no attribute {name!r}")
