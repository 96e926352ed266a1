# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # The NTK: wide networks train like their infinite-width kernel (Jacot et al.)
#
# **Claim** (Jacot, Gabriel & Hongler 2018, arXiv:1806.07572v4, Theorems 1 and 2): as the width
# grows, the empirical NTK of a randomly initialised MLP in NTK parameterisation converges to a
# deterministic kernel, and it stays constant during gradient descent, so the trained network's
# outputs follow kernel gradient descent with that kernel. Finite-width fluctuations shrink as
# `width^(-1/2)`.

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
print('kernels.relu_nngp', "=", analytic.get('kernels.relu_nngp').latex())
print('kernels.relu_derivative', "=", analytic.get('kernels.relu_derivative').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('kernels.convergence_with_width', 'kernels.infinite_width_training', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The empirical kernels' RMS error falls with a fitted slope near `-1/2`, and
# ensembles of trained networks follow the infinite-width mean prediction within their Monte Carlo
# and `O(1/sqrt(width))` allowances. At this size the widths are modest (up to 2048), so the slopes
# are measured to about 0.1.
