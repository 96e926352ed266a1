# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Momentum: heavy ball and Nesterov on quadratics (Polyak; Sutskever et al.)
#
# **Claim** (Polyak 1964; Sutskever, Martens, Dahl & Hinton 2013, ICML, "On the importance of
# initialization and momentum in deep learning", sec. 2): on a quadratic with condition number
# `kappa`, heavy ball with tuned step and momentum converges at `(sqrt(kappa) - 1)/(sqrt(kappa) + 1)`
# per step, against `(kappa - 1)/(kappa + 1)` for gradient descent: `sqrt(kappa)` rather than
# `kappa` steps per decade.

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
print('momentum.heavy_ball_optimal_rate', "=", analytic.get('momentum.heavy_ball_optimal_rate').latex())
print('momentum.heavy_ball_spectral_radius', "=", analytic.get('momentum.heavy_ball_spectral_radius').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('momentum.heavy_ball_optimal', 'momentum.steps_to_eps', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The measured contraction of heavy ball at the derived optimum matches the
# formula, and the iteration counts to a target error follow the tuned rates. Nesterov's tuned rate
# is checked in the same family (`momentum.nesterov_rate`).
