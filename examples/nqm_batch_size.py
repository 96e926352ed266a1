# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # The noisy quadratic model: critical batch size (McCandlish et al.; Zhang et al.)
#
# **Claim** (McCandlish, Kaplan, Amodei et al. 2018, arXiv:1812.06162v1, sec. 2; Zhang, Li, Nado et
# al. 2019, arXiv:1907.04164v2, sec. 3): on a quadratic with gradient noise, the number of steps to a
# target loss falls as `1/B` for small batches and saturates above a critical batch size; the
# noisy quadratic model predicts the whole curve from its steady-state losses.

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
print('nqm.sgd_steady_state_loss', "=", analytic.get('nqm.sgd_steady_state_loss').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('nqm.steps_vs_batch', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** Monte Carlo SGD chains reach the target in the predicted number of steps at every
# batch size, within the chains' statistical allowance; the perfect-scaling and saturated regimes
# are both visible in the figure.
