# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Parameterisations across width: muP keeps every layer moving (Yang et al.)
#
# **Claim** (Yang & Hu 2021, arXiv:2011.14522v3; Yang et al. 2022, arXiv:2203.03466v2): under the
# maximal-update parameterisation (muP) every layer's activations move by `Theta(1)` after one step
# at any width, so the best learning rate does not drift with width; under standard
# parameterisation the hidden and output updates grow with width and the largest stable learning
# rate falls as `1/width`.

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
print('parameterisation.activation_update_exponents', "=", analytic.get('parameterisation.activation_update_exponents').latex())
print('parameterisation.max_learning_rate_exponent', "=", analytic.get('parameterisation.max_learning_rate_exponent').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('parameterisation.coordinate_check', 'parameterisation.max_learning_rate', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The coordinate check's fitted exponents over widths 32-512 match the derived ones
# for standard, NTK and muP, and the bisected largest stable learning rate moves by the derived
# exponent.
