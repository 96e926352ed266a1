# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # MAML on quadratic tasks: the meta-gradient through the inner loop (Finn et al.)
#
# **Claim** (Finn, Abbeel & Levine 2017, arXiv:1703.03400v3, sec. 2.2): MAML's meta-gradient
# differentiates through the inner gradient steps; for quadratic tasks it is the query gradient at
# the adapted parameters times `(I - alpha H_support)` per inner step, and first-order MAML drops
# that factor, which biases it.

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
print('maml.meta_gradient', "=", analytic.get('maml.meta_gradient').latex())
print('maml.first_order_bias', "=", analytic.get('maml.first_order_bias').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('maml.meta_gradient', 'maml.meta_optimum', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** `jax.grad` through the inner loop equals the derived meta-gradient to round-off,
# the first-order approximation is off by the derived bias, and meta-training reaches the derived
# meta-optimum of the sampled tasks.
