# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Signal propagation: the order-to-chaos transition and its depth scale
#
# **Claim** (Poole et al. 2016, arXiv:1606.05340v2; Schoenholz, Gilmer, Ganguli & Sohl-Dickstein
# 2017, arXiv:1611.01232v2, sec. 3-5): in a deep random tanh network the correlation between two
# inputs converges over a depth scale `xi_c = -1/log(chi_1)`, which diverges at the edge of chaos
# `chi_1 = 1`; networks train only to depths of a few `xi_c`.

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
print('signal.depth_scale', "=", analytic.get('signal.depth_scale').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('signal.depth_scale', 'signal.variance_propagation', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** Random deep networks propagate variance and correlations layer by layer as the
# maps predict, and in the ordered phase the fitted decay length of `1 - c^l` follows
# `-1/log(chi_c)`. The trainable-depth claim is the family's `signal.trainable_depth` check.
