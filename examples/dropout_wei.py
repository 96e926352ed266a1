# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Dropout as an explicit regulariser (Wei, Kakade & Ma)
#
# **Claim** (Wei, Kakade & Ma 2020, arXiv:2002.12915v2, sec. 3; for linear models Wager, Wang &
# Liang 2013): in expectation over masks, dropout on a linear model adds a data-dependent ridge
# penalty, weighted by the diagonal of `X^T X`, to the squared loss.

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
print('normalization.dropout_ridge_penalty', "=", analytic.get('normalization.dropout_ridge_penalty').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('normalization.dropout_ridge_penalty', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The mean iterate of SGD with sampled inverted-dropout masks lands on the
# minimiser of least squares plus the derived penalty, within the Monte Carlo allowance of the
# table (the expected gradient is linear in the weights, so Monte Carlo is the only error).
