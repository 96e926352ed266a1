# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Scaling laws: compute-optimal allocation (Hoffmann et al.)
#
# **Claim** (Hoffmann, Borgeaud, Mensch et al. 2022, arXiv:2203.15556v1, eq. (2) and sec. 3.3): with
# the loss `L(N, D) = E + A/N^alpha + B/D^beta` and compute `C = 6 N D`, the compute-optimal model
# size and data grow as `N_opt ~ C^(beta/(alpha+beta))` and `D_opt ~ C^(alpha/(alpha+beta))`.

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
print('scaling.optimal_params', "=", analytic.get('scaling.optimal_params').latex())
print('scaling.params_exponent', "=", analytic.get('scaling.params_exponent').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('scaling.compute_optimal_frontier', 'scaling.allocation_exponents', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** Brute-force minimisation of the loss on each compute budget lands on the derived
# optimum, and the fitted allocation exponents equal the derived ones.
