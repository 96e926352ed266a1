# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Games: gradient descent-ascent cycles, extragradient converges
#
# **Claim** (Gidel et al. 2019, arXiv:1807.04740v5; Mokhtari, Ozdaglar & Pattathil 2020,
# arXiv:1901.08511v3): on the bilinear game `x^T A y`, simultaneous gradient descent-ascent spirals
# out for every step size, alternating updates stay bounded, and extragradient and optimistic
# updates converge, at per-singular-value rates the toolkit derives.

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
print('games.simultaneous_gda_radius', "=", analytic.get('games.simultaneous_gda_radius').latex())
print('games.extragradient_radius', "=", analytic.get('games.extragradient_radius').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('games.rates', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** Each method run on random bilinear games contracts (or expands) at the derived
# radius, singular value by singular value.
