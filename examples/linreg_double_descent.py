# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Linear regression: double descent of min-norm least squares
#
# **Claim** (Hastie, Montanari, Rosset & Tibshirani 2019, arXiv:1903.08560v5, Theorem 1 and
# Theorem 5): with isotropic Gaussian features and `d/n -> gamma`, the excess risk of min-norm least
# squares is `sigma^2 gamma / (1 - gamma)` below the interpolation threshold and
# `r^2 (1 - 1/gamma) + sigma^2 / (gamma - 1)` above it: it diverges at `gamma = 1`. Ridge regression
# removes the peak.

# %%
import jax

jax.config.update("jax_enable_x64", True)  # the checks' tolerances assume float64
import analytic
from verify import notebook

# %% [markdown]
# ## The derivation
# The closed forms as sympy derived them (LaTeX). `analytic.get(name)` is the Formula: call it
# with keywords, `.expr` is the sympy expression, `.source` the citation.

# %%
print('linreg.ridgeless_risk', "=", analytic.get('linreg.ridgeless_risk').latex())
print('linreg.ridge_risk', "=", analytic.get('linreg.ridge_risk').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('linreg.ridgeless_risk', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The Monte Carlo risk at `n = 100` sits on the limit curve within 4 standard errors
# plus the exact finite-`n` gap (the table's tolerances), on both sides of the peak; the ridge
# limit agrees with quadrature over the Marchenko-Pastur spectrum to round-off. **What does not:**
# at finite `n` the peak is finite (the finite-`n` gap grows as `gamma -> 1`), which is why the
# checked aspect ratios stay away from 1.
