# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Large learning rates: the catapult phase (Lewkowycz et al.)
#
# **Claim** (Lewkowycz, Bahri, Dyer, Sohl-Dickstein & Gur-Ari 2020, arXiv:2003.02218v1, sec. 2): for a
# wide two-layer linear network with learning rate `eta` between `2/lambda_0` and `4/lambda_0`
# (`lambda_0` the initial NTK eigenvalue) the loss first grows, the curvature falls, and training
# converges in a flatter region; above `4/lambda_0` it diverges.

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
print('catapult.critical_lr', "=", analytic.get('catapult.critical_lr').latex())
print('catapult.max_lr', "=", analytic.get('catapult.max_lr').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('catapult.two_layer_linear', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The measured phase (lazy, catapult, divergent) of wide two-layer linear networks
# matches the predicted boundaries `2/lambda_0` and `4/lambda_0` at every learning rate of the grid.
