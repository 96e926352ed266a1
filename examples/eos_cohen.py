# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # The edge of stability: sharpness rises to 2/eta (Cohen et al.)
#
# **Claim** (Cohen, Kaur, Li, Kolter & Talwalkar 2021, arXiv:2103.00065v3, sec. 3): full-batch
# gradient descent with learning rate `eta` drives the top Hessian eigenvalue up to `2/eta`
# (progressive sharpening) and then hovers there while the loss keeps falling non-monotonically.
# With heavy-ball momentum the threshold moves to the derived `(2 + 2 beta)/eta`.

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
print('eos.gd_sharpness_threshold', "=", analytic.get('eos.gd_sharpness_threshold').latex())
print('eos.heavy_ball_sharpness_threshold', "=", analytic.get('eos.heavy_ball_sharpness_threshold').latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('eos.gd_edge', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** The measured sharpness of an MLP under GD settles at the `2/eta` threshold within
# the tolerance the table states; the mechanisms behind it are in the `eos_mechanisms` family.
