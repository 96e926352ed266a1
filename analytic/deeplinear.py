r"""Deep linear networks: exact gradient-flow dynamics of the end-to-end singular values.

Model statement. A depth-$N$ linear network $y = W_N\cdots W_1 x$ trained on the summed
loss $L = \tfrac12\sum_\mu \lVert y^\mu - W_N\cdots W_1 x^\mu\rVert^2$ with whitened
inputs, $\sum_\mu x^\mu x^{\mu\top} = I$. Then
$L = \tfrac12\lVert\Sigma^{yx} - W_N\cdots W_1\rVert_F^2 + \text{const}$ with
$\Sigma^{yx} = \sum_\mu y^\mu x^{\mu\top} = U\,\mathrm{diag}(s_a)\,V^\top$. Started small,
*balanced* ($W_{j+1}^\top W_{j+1} = W_j W_j^\top$) and aligned with the singular vectors
(layer $j$ has strength $a_{j}$ in mode $a$), the modes decouple: mode $a$ sees the scalar
loss $\tfrac12(s_a - \prod_j a_j)^2$. Gradient flow with learning rate $1/\tau$
(GD with step $\eta$ at time $t = \eta\cdot\text{steps}$, $\tau = 1$; or, with $\tau =
1/\eta$, $t$ counts GD steps) is derived from that scalar loss below.

* Two layers (Saxe, McClelland, Ganguli 2013, arXiv:1312.6120v3, section on exact
  solutions of two-layer learning dynamics): the mode strength $u = a_1 a_2$ obeys
  $\tau\,\dot u = 2u(s-u)$, a sigmoid; `saxe_mode_strength`, `saxe_learning_time`.
  The same equations hold for the mean loss $\tfrac1{2P}\sum_\mu$ with
  $\mathbb E[xx^\top] = I$ if $s$ are the singular values of $\mathbb E[yx^\top]$.
* Depth $N$ (Arora, Cohen, Hazan 2018, arXiv:1802.06509v2, Theorem 1 and the
  singular-value dynamics it implies): $\dot\sigma = N\sigma^{2-2/N}(s-\sigma)$ with
  $\tau = 1$; `arora_singular_value_rate`, `arora_learning_time` (a Gauss
  hypergeometric function) and the JAX inversion `arora_singular_value`.
* Depth 1: $\dot\sigma = s - \sigma$, an exponential, not a sigmoid: `linear_mode_strength`.
* Symmetric square $B = A^2$ with $\dot B = -\sqrt B\,\nabla L(B)\sqrt B$: each eigenvalue
  obeys $\dot b = b(s-b)$, growth proportional to its size ("the big get bigger");
  `symmetric_eigenvalue`.

Stage-like learning: the learning time $\propto 1/s$ (times a logarithm), so modes are
learned one after another, the largest singular value first.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from analytic.deeplinear_hyp import _hyp2f1_one_jax, hyp2f1_one  # noqa: F401 (re-exported)
from analytic.family import formula_builder, lazy_attributes
from analytic.formula import Formula
from analytic._legacy_symbols import N, s, sigma, sigma0, sigmaf, t, tau, u, u0, uf

__all__ = ["FORMULAS", "arora_singular_value", "hyp2f1_one"]

FORMULAS: dict = {}
_SAXE = ("Saxe, McClelland, Ganguli 2013, arXiv:1312.6120v3, exact solutions for two-layer "
         "networks (tau du/dt = 2u(s - u), its sigmoidal solution and learning time)")
_ARORA = ("Arora, Cohen, Hazan 2018, arXiv:1802.06509v2, Theorem 1 (end-to-end dynamics, "
          "balanced init) and the singular-value dynamics d sigma/dt = N sigma^(2-2/N)(-<grad L, u v^T>)")


# --- model statement: the per-mode scalar loss -------------------------------------------
def _mode_loss(target: sp.Expr, strengths) -> sp.Expr:
    """Loss of one aligned mode, 1/2 (s - prod_j a_j)^2 (whitened inputs, summed loss)."""
    return (target - sp.Mul(*strengths)) ** 2 / 2


def _two_layer_mode_rate() -> sp.Expr:
    """tau du/dt for u = a b under gradient flow of the mode loss, at balance a = b."""
    a, b = sp.symbols("a b", positive=True)
    loss = _mode_loss(s, (a, b))
    da, db = -sp.diff(loss, a), -sp.diff(loss, b)  # tau da/dt, tau db/dt
    du = sp.expand(da * b + a * db)  # chain rule for u = a b
    return sp.factor(du.subs({a: sp.sqrt(u), b: sp.sqrt(u)}))


def _depth_n_rate() -> sp.Expr:
    """d sigma/dt for sigma = a^N, all N layers at strength a, gradient flow (tau = 1).

    Layer j sees 1/2 (s - a_j a^(N-1))^2 when the others sit at a; by symmetry every
    layer moves the same way, and d sigma/dt = N a^(N-1) da/dt.
    """
    a, a_j = sp.symbols("a a_j", positive=True)
    layer_rate = -sp.diff(_mode_loss(s, (a_j, a ** (N - 1))), a_j).subs(a_j, a)
    rate = sp.diff(a**N, a) * layer_rate
    rate = rate.subs(a, sigma ** (1 / N))
    return sp.factor(sp.powsimp(sp.expand_power_base(rate, force=True), force=True))


@formula_builder(FORMULAS, "saxe_mode_strength")
def _derive_saxe_mode_strength() -> Formula:
    mode = sp.Function("u")
    ode = sp.Eq(tau * mode(t).diff(t), _two_layer_mode_rate().subs(u, mode(t)))
    solution = sp.dsolve(ode, mode(t), ics={mode(0): u0}, hint="Bernoulli").rhs  # logistic
    return Formula(
        name="deeplinear.saxe_mode_strength",
        expr=sp.simplify(solution),
        params=(s, u0, tau, t),
        source=_SAXE,
        derived=True,
        derivation="tau du/dt = 2u(s - u) from gradient flow of 1/2 (s - a b)^2 at balance a = b, "
                   "u = a b; sympy.dsolve with u(0) = u0",
        conditions=("two-layer network, whitened inputs, balanced init aligned with the singular "
                    "vectors of the input-output correlation (small init approaches this)",
                    "tau = 1/learning rate of the summed loss 1/2 sum ||y - W2 W1 x||^2: then t "
                    "counts GD steps; equivalently tau = 1 and t = lr * steps",
                    "u0 > s is also exact (the strength decays to s)"),
        description="strength u = a b of one input-output mode of a two-layer linear network at time t",
    )


@formula_builder(FORMULAS, "saxe_learning_time")
def _derive_saxe_learning_time() -> Formula:
    trajectory = _derive_saxe_mode_strength().expr
    roots = sp.solve(sp.Eq(trajectory, uf), t)
    # sympy also returns a branch through log(-sqrt(.)), complex for u0 < uf < s: keep the real one
    at = {s: 3, u0: sp.Rational(1, 10), uf: 2, tau: 1}
    (time,) = [r for r in roots if r.subs(at).evalf().is_extended_real]
    return Formula(
        name="deeplinear.saxe_learning_time",
        expr=sp.simplify(sp.logcombine(sp.expand_log(time, force=True), force=True)),
        params=(s, u0, uf, tau),
        source=_SAXE,
        derived=True,
        derivation="sympy.solve of saxe_mode_strength(t) = uf for t",
        conditions=("0 < u0 < uf < s", "time in the units of saxe_mode_strength (GD steps when "
                    "tau = 1/lr)"),
        description="time for a two-layer mode strength to grow from u0 to uf",
        constraints=(sp.StrictLessThan(u0, uf), sp.StrictLessThan(uf, s)),
    )


@formula_builder(FORMULAS, "linear_mode_strength")
def _derive_linear_mode_strength() -> Formula:
    mode = sp.Function("sigma")
    ode = sp.Eq(mode(t).diff(t), -sp.diff(_mode_loss(s, (mode(t),)), mode(t)))
    solution = sp.dsolve(ode, mode(t), ics={mode(0): sigma0}).rhs
    return Formula(
        name="deeplinear.linear_mode_strength",
        expr=sp.expand(solution),
        params=(s, sigma0, t),
        source="depth-1 baseline of " + _ARORA,
        derived=True,
        derivation="sympy.dsolve of d sigma/dt = -d/d sigma (1/2 (s - sigma)^2), sigma(0) = sigma0",
        conditions=("depth 1 (W x): exponential approach, no plateau; t = lr * steps",),
        description="a singular value of a depth-1 linear model under gradient flow",
    )


@formula_builder(FORMULAS, "arora_singular_value_rate")
def _derive_arora_rate() -> Formula:
    return Formula(
        name="deeplinear.arora_singular_value_rate",
        expr=_depth_n_rate(),
        params=(N, s, sigma),
        source=_ARORA,
        derived=True,
        derivation="d/dt a^N with da/dt = -d/da_j 1/2 (s - a_j a^(N-1))^2 at a_j = a, sigma = a^N "
                   "(sympy diff, powsimp)",
        conditions=("balanced, aligned init; gradient flow with unit learning rate (t = lr * steps)",),
        description="d sigma/dt for a singular value of the end-to-end map of a depth-N linear network",
    )


@functools.cache
def _antiderivative_time(depth: sp.Expr) -> sp.Expr:
    """int d sigma / rate(sigma) by sympy.integrate, real on 0 < sigma < s.

    Constants of integration are dropped where sympy's primitive is complex on that
    interval: log(sigma - s) -> log(s - sigma) (a shift by i pi), and the polar factor
    exp_polar(2 i pi) of the Lerch Phi argument -> 1 (the branch is irrelevant for
    sigma / s < 1). Lerch Phi(z, 1, c) is rewritten as 2F1(1, c; c + 1; z) / c.
    """
    rate = _derive_arora_rate().expr.subs(N, depth)
    primitive = sp.integrate(1 / rate, sigma)
    primitive = primitive.replace(sp.exp_polar, lambda *args: sp.Integer(1))
    primitive = sp.expand_log(sp.unpolarify(primitive), force=True)
    primitive = primitive.subs(sp.log(sigma - s), sp.log(s - sigma))
    # Phi(z, 1, a) = sum_k z^k / (k + a) = 2F1(1, a; a + 1; z) / a
    primitive = primitive.replace(
        lambda e: isinstance(e, sp.lerchphi) and e.args[1] == 1,
        lambda e: hyp2f1_one(e.args[2], e.args[0]) / e.args[2])
    return sp.simplify(sp.gammasimp(primitive))


@formula_builder(FORMULAS, "arora_learning_time")
def _derive_arora_learning_time() -> Formula:
    general = _antiderivative_time(N)
    two = _antiderivative_time(sp.Integer(2))
    time = sp.Piecewise(
        (sp.together(sp.expand_log(two.subs(sigma, sigmaf) - two.subs(sigma, sigma0), force=True)),
         sp.Eq(N, 2)),
        (general.subs(sigma, sigmaf) - general.subs(sigma, sigma0), True))
    return Formula(
        name="deeplinear.arora_learning_time",
        expr=time,
        params=(N, s, sigma0, sigmaf),
        source=_ARORA,
        derived=True,
        derivation="sympy.integrate of 1 / (N sigma^(2-2/N) (s - sigma)) d sigma (a Lerch Phi, "
                   "rewritten as 2F1(1, c; c+1; sigma/s) / c with c = 2/N - 1); N = 2 separately (log)",
        conditions=("0 < sigma0 < sigmaf < s; t = lr * steps", "N = 2 equals saxe_learning_time with tau = 1"),
        description="time for a depth-N end-to-end singular value to grow from sigma0 to sigmaf",
        constraints=(sp.StrictLessThan(sigma0, sigmaf), sp.StrictLessThan(sigmaf, s)),
    )


@formula_builder(FORMULAS, "symmetric_eigenvalue")
def _derive_symmetric_eigenvalue() -> Formula:
    # dB/dt = -sqrt(B) grad L(B) sqrt(B), L = 1/2 ||B - S||^2, grad L = B - S; with B and S
    # sharing eigenvectors each eigenvalue b sees db/dt = -sqrt(b) (b - s) sqrt(b).
    b = sp.Function("b")
    grad = sp.diff(_mode_loss(s, (b(t),)), b(t))
    ode = sp.Eq(b(t).diff(t), -sp.sqrt(b(t)) * grad * sp.sqrt(b(t)))
    solution = sp.dsolve(ode, b(t), ics={b(0): sigma0}, hint="Bernoulli").rhs  # logistic
    return Formula(
        name="deeplinear.symmetric_eigenvalue",
        expr=sp.simplify(solution),
        params=(s, sigma0, t),
        source=_ARORA + "; symmetric case B = A^2 (N = 2 with equal symmetric factors)",
        derived=True,
        derivation="sympy.dsolve of db/dt = -sqrt(b) (b - s) sqrt(b), b(0) = sigma0 (an eigenvalue "
                   "of B commuting with the target S)",
        conditions=("B(0) commutes with S (e.g. B(0) = sigma0 I); GD on a symmetric A with step lr "
                    "and L(A^2) = 1/2 ||A^2 - S||^2 follows this flow at t = 4 lr steps",
                    "growth rate b (s - b) proportional to b: the big get bigger"),
        description="an eigenvalue of B = A^2 under dB/dt = -sqrt(B) grad L(B) sqrt(B)",
    )


# --- composite: the depth-N singular value at time t --------------------------------------
def arora_singular_value(N, s, sigma0, t):
    r"""Singular value $\sigma(t)$ of a depth-$N$ linear network's end-to-end map.

    Solves $\dot\sigma = N\sigma^{2-2/N}(s-\sigma)$, $\sigma(0) = \sigma_0$ (gradient flow,
    unit learning rate: $t = \eta\cdot\text{steps}$ for GD with step $\eta$). $N = 1$ and
    $N = 2$ use the closed forms ``linear_mode_strength`` and ``saxe_mode_strength``
    ($\tau = 1$). For $N \ge 3$ the closed-form time ``arora_learning_time``
    $T(\sigma_0 \to \sigma)$ is inverted in the log-odds $z = \log(\sigma/(s-\sigma))$,
    where $T$ is increasing and concave with $dT/dz = s^{2/N-2}(\sigma/s)^{2/N-1}/N
    \ge s^{2/N-2}/N$: bisection on $[z_0, z_0 + tNs^{2-2/N}]$, then one Newton step from
    the (gradient-stopped) bisection point, which makes the result differentiable in
    ``s``, ``sigma0`` and ``t`` with the implicit-function gradient.

    All four arguments broadcast (``N`` an integer or integer array, compiled once for
    all depths). Needs ``N >= 1``, ``0 < sigma0 < s`` and ``t >= 0``; float64 when enabled.

    Source: Arora, Cohen, Hazan 2018, arXiv:1802.06509v2 (Theorem 1 and its singular-value form).

    Example:
        >>> arora_singular_value(3, s=1.0, sigma0=0.01, t=[0.0, 1.0, 3.768])   # ~[0.01, 0.0205, 0.5]
    """
    depth = np.asarray(N)
    if depth.dtype == bool or not np.issubdtype(depth.dtype, np.number) or np.iscomplexobj(depth) \
            or not np.all(np.isfinite(depth)) or not np.all(depth == np.round(depth)) or np.any(depth < 1):
        raise ValueError(f"arora_singular_value: depth N must be an integer >= 1, got {N!r}")
    s, sigma0, t = (jnp.asarray(v) for v in (s, sigma0, t))
    if not any(isinstance(v, jax.core.Tracer) for v in (s, sigma0, t)):
        _derive_linear_mode_strength().check_arguments(s=s, sigma0=sigma0, t=t)
        a, b = np.broadcast_arrays(np.asarray(sigma0, float), np.asarray(s, float))
        if not np.all(a < b):
            i = int(np.argmax(~(a < b)))
            raise ValueError(f"arora_singular_value: needs 0 < sigma0 < s, got sigma0 = "
                             f"{a.ravel()[i]!r}, s = {b.ravel()[i]!r}")
    depth = jnp.asarray(depth, jnp.result_type(s, sigma0, t, float))
    if any(isinstance(v, jax.core.Tracer) for v in (s, sigma0, t)):
        return _arora_singular_value(depth, s, sigma0, t)
    return _in_chunks(depth, s, sigma0, t)


_CHUNK = 2048


def _in_chunks(*args):
    """Evaluate concrete inputs in fixed-size chunks: one compilation serves every shape."""
    args = jnp.broadcast_arrays(*args)
    shape, size = args[0].shape, args[0].size
    padded = -(-max(size, 1) // _CHUNK) * _CHUNK
    # pad with a harmless point (N = 1, s = 1, sigma0 = 1/2, t = 0)
    flat = [jnp.concatenate([a.ravel(), jnp.full(padded - size, fill, a.dtype)])
            for a, fill in zip(args, (1.0, 1.0, 0.5, 0.0))]
    pieces = [_arora_singular_value(*(f[i:i + _CHUNK] for f in flat)) for i in range(0, padded, _CHUNK)]
    return jnp.concatenate(pieces)[:size].reshape(shape)


@functools.cache
def _primitive():
    """T(sigma) up to a constant, JAX function of (N, s, sigma): the N != 2 branch, real on sigma < s."""
    return sp.lambdify((N, s, sigma), _antiderivative_time(N), modules="jax")


@jax.jit
def _arora_singular_value(depth, s, sigma0, t):
    depth, s, sigma0, t = jnp.broadcast_arrays(depth, s, sigma0, t)
    dtype = jnp.result_type(depth, s, sigma0, t, float)
    depth, s, sigma0, t = (x.astype(dtype) for x in (depth, s, sigma0, t))
    shallow = _derive_linear_mode_strength().jax(s, sigma0, t)
    two_layer = _derive_saxe_mode_strength().jax(s, sigma0, jnp.ones_like(s), t)
    deep = _invert_learning_time(jnp.where(depth >= 3, depth, 3.0), s, sigma0, t)
    return jnp.select([depth == 1, depth == 2], [shallow, two_layer], deep)


def _invert_learning_time(depth, s, sigma0, t):
    primitive = _primitive()
    c = 2.0 / depth - 1.0
    z0 = jnp.log(sigma0) - jnp.log(s - sigma0)

    def excess(z):  # T(sigma0 -> s sigmoid(z)) - t; +inf once sigmoid(z) rounds to 1
        both = primitive(depth, s, jnp.stack([sigma0, s * jax.nn.sigmoid(z)]))
        return both[1] - both[0] - t

    def bisect(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = ~(excess(mid) < 0)
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    hi0 = z0 + t * depth * s ** (1 - c) + 1.0  # dT/dz >= s^(c-1)/N bounds the root
    lo, hi = jax.lax.fori_loop(0, 100, bisect, (z0, hi0))
    z = jax.lax.stop_gradient(0.5 * (lo + hi))
    gap = excess(z)
    slope = s ** (c - 1) * jax.nn.sigmoid(z) ** c / depth  # dT/dz
    z = z - jnp.where(jnp.isfinite(gap), gap, 0.0) / slope
    return jnp.where(t == 0, sigma0, s * jax.nn.sigmoid(z))


__getattr__ = lazy_attributes(__name__, FORMULAS)
