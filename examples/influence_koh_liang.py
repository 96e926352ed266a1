# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Influence functions: leave-one-out without retraining (Koh & Liang)
#
# **Claim** (Koh & Liang 2017, arXiv:1703.04730v3, eq. (2); the equation number is from the ICML
# text, not checked line by line against v3): removing one training point changes a test loss by about
# `(1/n) grad L_test^T H^-1 grad l_i`, with `H` the Hessian of the training loss; for ridge regression
# the exact change follows from Sherman-Morrison, and the estimate's error is second order in `1/n`.

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
print('curvature.removal_influence', "=", analytic.get('curvature.removal_influence').latex())
print('curvature.ridge_loo_test_loss_change', "=", analytic.get('curvature.ridge_loo_test_loss_change').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('curvature.influence_ridge', 'curvature.influence_retraining', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** For ridge regression the exact leave-one-out formula matches retraining to
# round-off, and the estimate's error follows the derived leading term; for logistic regression and a
# small MLP the estimate matches the derivative of retraining in the weight of a point, and full
# leave-one-out retraining correlates with it (the table gives the measured correlations). The
# paper's own correlations are not compared here.
