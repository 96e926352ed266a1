# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Deep linear networks: stage-like learning of modes (Saxe et al.)
#
# **Claim** (Saxe, McClelland & Ganguli 2014, arXiv:1312.6120v3, eq. (6)-(7)): in a two-layer linear
# network trained by gradient descent from a small balanced initialisation, each singular mode of
# the input-output correlation is learned along a sigmoid in time `~ 1/s log(s/u_0)`: strong
# modes first, in stages.

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
print('deeplinear.saxe_mode_strength', "=", analytic.get('deeplinear.saxe_mode_strength').latex())
print('deeplinear.saxe_learning_time', "=", analytic.get('deeplinear.saxe_learning_time').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('deeplinear.depth_trajectories', 'deeplinear.two_layer_trajectory', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The trained networks' mode strengths follow the sigmoid trajectories of the
# closed form, one mode after another, within the small-step and initialisation allowances of the
# table; deeper networks (the figures per depth) learn each mode more abruptly, as the depth-N
# formulas of the same family predict.
