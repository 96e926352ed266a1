# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     name: python3
# ---

# %% [markdown]
# # K-FAC and exact natural gradient on deep linear networks (Martens & Grosse; Bernacchia et al.)
#
# **Claim** (two papers). Martens & Grosse 2015 (ICML; arXiv:1503.05671v7, sec. 3)
# approximate a layer's Fisher block `E[(a a^T) (x) (g g^T)]` by `E[a a^T] (x) E[g g^T]`. For
# Gaussian inputs the approximation is exact when the cross moments `E[a g^T]` vanish, which holds
# for labels sampled from the model and for deep linear networks. Bernacchia, Lengyel & Hennequin
# 2018 (NeurIPS) show that exact natural gradient on a deep linear network converges exponentially
# at a rate that does not depend on depth. Here the loss factor per step near the minimum is
# `(1 - eta)^2` for the natural gradient and `(1 - depth eta)^2` for block-diagonal K-FAC.

# %%
import jax

jax.config.update("jax_enable_x64", True)  # the checks' tolerances assume float64
import analytic
from verify import notebook

# %% [markdown]
# ## The derivation
# Isserlis' theorem from the Gaussian moment-generating function, and the loss factors from the
# first-order change of the end-to-end map (sympy).

# %%
for name in ("kfac.gaussian_fisher_entry", "kfac.natural_gradient_loss_factor", "kfac.kfac_loss_factor"):
    print(name, "=", analytic.get(name).latex())

# %% [markdown]
# ## The checks: prediction against autodiff Fishers and training curves

# %%
run = notebook.run("kfac.fisher_factorisation", "kfac.natural_gradient_rates", size="quick")
print(run.table())
assert run.passed, "a row failed: see the table"

# %%
print(run.verdict())
run.draw()

# %% [markdown]
# **What agrees.**
# - Every block of a deep linear network's autodiff Fisher equals `A (x) G` to round-off.
# - The empirical Fisher's gap is the Isserlis cross terms, within Monte Carlo error.
# - Exact natural gradient loses `(1 - eta)^2` of its loss per step at every depth from 1 to 6,
#   and K-FAC loses `(1 - depth eta)^2`.
