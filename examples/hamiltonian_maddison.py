# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # Hamiltonian descent: linear convergence with a matched kinetic energy (Maddison et al.)
#
# **Claim** (Maddison, Paulin, Teh, O'Donoghue & Doucet 2018, arXiv:1809.05042v1, abstract and
# secs. 2-4): discretisations of the conformal Hamiltonian dynamics `x' = grad k(p)`,
# `p' = -grad f(x) - gamma p` converge linearly, with constant step sizes, on convex functions
# whose curvature vanishes at the minimum, such as `f(x) = |x|^4 / 4`, when the kinetic energy
# is matched to `f` (`k(p) = |p|^(4/3) / (4/3)`), where gradient descent and classical momentum
# are sublinear. The toolkit derives the exact rates (the paper gives bounds): for `f = |x|^b / b`
# and `k = |p|^a / a` with `a = b / (b - 1)`, the loss decays at the rate `gamma` below the
# critical friction `b`, and at `b s` above it, where `(b - 1) s + s^(1 - b) = gamma`.

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
for name in ("hamiltonian.matched_kinetic_exponent", "hamiltonian.power_underdamped_loss_rate",
             "hamiltonian.power_ray_friction", "hamiltonian.power_critical_friction",
             "hamiltonian.flow_position_rate", "hamiltonian.first_explicit_max_learning_rate",
             "hamiltonian.gd_power_loss"):
    print(name, "=", analytic.get(name).latex())

# %% [markdown]
# ## The check: prediction against direct training
# Every row compares the Formula's prediction with a measurement from `numeric/` (which never
# sees a Formula), with the tolerance and its reason.

# %%
run = notebook.run('hamiltonian.quadratic_rates', 'hamiltonian.power_objective', size='quick')
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.** On quadratics both explicit methods contract at the derived spectral radius, their
# small-step limit is the heavy-ball ODE's rate, critical damping of the smallest curvature is the
# best friction and the derived largest learning rate separates convergence from divergence. On
# `|x|^4/4` the first explicit method with the matched kinetic energy decays linearly at the derived
# rate on both sides of the critical friction, while gradient descent and heavy ball follow the
# derived `t^-2` power laws.
