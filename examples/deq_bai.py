# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Deep equilibrium models: the implicit gradient and unrolling (Bai et al.)
#
# **Claim** (Bai, Kolter & Koltun 2019, arXiv:1909.01377v2, sec. 3.1): the gradient of a loss at
# the fixed point `z* = f(z*, x; theta)` follows from the implicit function theorem, without storing
# the forward iterations; backpropagating through `k` unrolled steps converges to it, with an error
# that decays like the layer's contraction rate (times `k` when the unroll starts away from `z*`).

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
print('deq.linear_ift_gradient', "=", analytic.get('deq.linear_ift_gradient').latex())
print('deq.linear_unrolled_error', "=", analytic.get('deq.linear_unrolled_error').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('deq.linear_unrolled_gradient', 'deq.tanh_unrolled_gradient', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** `jax.grad` through `k` unrolled steps differs from the implicit-function gradient
# by the derived error for the linear layer, from starts at and away from the fixed point, and for
# the tanh layer the fitted decay rate is the derived contraction rate.
