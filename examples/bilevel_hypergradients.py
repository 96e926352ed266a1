# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Hyperparameter optimisation by differentiating through training (Maclaurin et al.)
#
# **Claim** (Maclaurin, Duvenaud & Adams 2015, arXiv:1502.03492v3, sec. 2): the gradient of the
# validation loss with respect to a hyperparameter can be computed by differentiating through the
# training iterations; for ridge regression it converges to the implicit-function-theorem
# hypergradient as training converges, and truncating the backward pass biases it (short-horizon
# bias: Wu, Ren, Liao & Grosse 2018, arXiv:1803.02021v1).

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
print('bilevel.ift_sensitivity', "=", analytic.get('bilevel.ift_sensitivity').latex())
print('bilevel.unrolled_sensitivity', "=", analytic.get('bilevel.unrolled_sensitivity').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('bilevel.ridge_hypergradient', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** `jax.grad` through the unrolled GD loop equals the derived unrolled sensitivity,
# approaches the implicit-function value, and truncation gives the derived bias.
