r"""Kernel matrices of deep fully-connected networks: :func:`fc_kernels`.

Conventions (public contract). ``depth`` = L is the number of hidden layers; the
returned kernels are those of the scalar output, $K^{L+1}$ and $\Theta^{L+1}$. The
input layer is $K^1 = \sigma_w^2\, x\cdot x'/d + \sigma_b^2 = \Theta^1$; ``sigma_w`` and
``sigma_b`` are standard deviations. Each layer applies
$$K^{l+1} = \sigma_w^2 E_{K^l}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
\Theta^{l+1} = K^{l+1} + \sigma_w^2 E_{K^l}[\phi'(u)\phi'(v)]\,\Theta^l$$
(NTK parameterisation; Lee et al. 2019, arXiv:1902.06720v4, eq. (10) and App. E).

Standard parameterisation (weights $N(0, \sigma_w^2/n_{l})$, biases $N(0,\sigma_b^2)$,
all hidden widths n, one learning rate): the NNGP is the same, the empirical NTK grows
like n, and ``parameterization="standard"`` returns $\lim_n \Theta_{SP}/n$, the kernel
that governs training with learning rate $\eta/n$ (Sohl-Dickstein et al. 2020,
arXiv:2001.07301v1, sec. 2; Lee et al. 2019, App. D). Only the last-layer
weights survive the 1/n: $\tilde\Theta^1 = 0$,
$\tilde\Theta^{l+1} = E_{K^l}[\phi\phi] + \sigma_w^2 E_{K^l}[\phi'\phi']\,\tilde\Theta^l$.

Numerics (scale-free form). The state per layer is the standard deviation
$\sqrt{K_{ii}}$ of every point and, for every pair, $w = \tan(\theta/4) \in [0, 1]$ of the
angle $\theta_{ij}$ between them, never $K_{ij}$ recovered from a difference. It is formed
from the gap $g = 1 - \cos\theta$ and $p = 1 + \cos\theta$ (each computed without
cancellation) by the half-angle formula $w = \sqrt g / (\sqrt p + \sqrt{g + p})$, well
conditioned at $\theta = 0$ and $\pi$; $\sin$ and $\cos$ of $\theta/2$ are rational in $w$,
and $\theta = 4\arctan w$ (needed by ReLU only). For ReLU the next gap is formed without
cancellation from ``kernels.relu_nngp_deficit`` ($1/2 - J(\theta)$) and
$\sqrt{(a_i^2+b)(a_j^2+b)} - a_ia_j - b = b(a_i-a_j)^2/(\sqrt{\cdot}+a_ia_j+b)$; erf keeps
$\sin^2\theta$ apart from $1-\cos^2\theta$: its pair state is not w but
$(\cos\theta, \sin^2\theta)$, the cosine formed as $\alpha_i\alpha_j c + \sin\phi_i\sin\phi_j$
(relatively accurate where erf kernels cross zero; recovered from w it had an absolute error
~eps, i.e. 1.3e-7 relative at entries 1e-7 of the largest in float64, now 7e-16 against a
40-digit reference) and $\sin^2\theta = g\,p$ (relatively accurate at 0 and $\pi$).
Products of variances are formed as products of standard deviations (no overflow before
the output itself overflows).

Speed. Per pair and layer only +, *, /, sqrt and two short polynomials are evaluated:
arctan and arcsin come from a three-point argument reduction and an odd Taylor series
(sympy's coefficients; as many terms as the dtype needs), because XLA:CPU evaluates
``jnp.arctan2``/``arcsin``/``arccos``/``sin`` (and ``lax.rsqrt``) one element at a
time, 10-60x slower than a vectorised division. Per-point quantities are algebraic too
(XLA fuses them into the N x N loops). For K(X, X) only the blocks on and above the
diagonal are computed and mirrored. The layers run as a rolled ``lax.scan`` (unrolled,
XLA fused the whole NTK recursion into the final assembly and evaluated it several times)
and the NNGP is formed in the last layer only (``lax.cond``).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from analytic.formula import Formula
from analytic.kernels._duals import ACTIVATIONS, FORMULAS
from analytic.kernels._quadrature import (
    ACCURATE, DEFAULT_ORDER, QuadratureMap, _checked_order, activation_function, check_layer_variances,
    gaussian_expectation,
)
from analytic.kernels._safe_math import (
    _angle, _hypot, _outer, _pair_gap, _points, _quarter_tangent, _relu_deficit, _row_norms,
    _safe_arcsin, _safe_arcsin_pairs, _safe_div, _safe_sqrt,
)

__all__ = ["Duals", "Kernels", "catalogue_duals", "fc_kernels", "variance_fixed_point", "PARAMETERIZATIONS",
           "quadrature_duals", "quadrature_fc_kernels"]

PARAMETERIZATIONS = ("ntk", "standard")
_HIGHEST = jax.lax.Precision.HIGHEST


class Kernels(NamedTuple):
    """NNGP and NTK matrices of the network output, each (n1, n2)."""

    nngp: jax.Array
    ntk: jax.Array


class Duals(NamedTuple):
    """The per-layer Formulas of one activation, each in (k11, k22, k12): the NNGP map
    E[phi(u) phi(v)] and the derivative kernel E[phi'(u) phi'(v)]."""

    nngp: Formula
    derivative: Formula


def catalogue_duals(activation: str) -> Duals:
    """``Duals(kernels.<activation>_nngp, kernels.<activation>_derivative)`` from the catalogue."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    return Duals(FORMULAS[f"{activation}_nngp"](), FORMULAS[f"{activation}_derivative"]())


def _formula(name: str) -> Formula:
    return FORMULAS[name]()


# --- one layer of each activation: state (sd per point; per pair (w,) or (cos, sin^2)) ----
def _relu_layer(sd1, sd2, pair, ntk, sigma_w, sigma_b, standard):
    (w,) = pair
    float64 = w.dtype == jnp.float64
    # sigma_w^2 E = a_i a_j (2 J): the "correlation" 2 J has 1 - 2J = 2 * deficit.
    p1 = _points(sigma_w * sd1 / math.sqrt(2), sigma_b)
    p2 = _points(sigma_w * sd2 / math.sqrt(2), sigma_b)
    theta, sin_half, cos_half = _angle(w, float64)
    slope = _formula("relu_derivative_angular").jax(theta)
    deficit = _relu_deficit(theta, 2 * sin_half * cos_half, sin_half**2, float64)
    expectation = _outer(sd1, sd2) * (0.5 - deficit)  # relu_nngp_angular J = 1/2 - deficit
    nngp = sigma_w**2 * expectation + sigma_b**2
    new_w = _quarter_tangent(*_pair_gap(p1, p2, 2 * deficit, 2 - 2 * deficit))
    new_ntk = (expectation if standard else nngp) + sigma_w**2 * slope * ntk
    return p1.sd, p2.sd, (new_w,), new_ntk, nngp


def _erf_points(sd, sigma_w, sigma_b):
    """Per point: u = sqrt(1 + 2q), r = sqrt(2q / (1 + 2q)), sqrt(E[erf(z)^2]), next points."""
    u = _hypot(jnp.ones_like(sd), math.sqrt(2) * sd)
    root_r = math.sqrt(2) * sd / u
    root_e = _safe_sqrt((2 / jnp.pi) * _safe_arcsin(root_r**2))
    return u, root_r, root_e, _points(sigma_w * root_e, sigma_b)


def _erf_layer(sd1, sd2, pair, ntk, sigma_w, sigma_b, standard):
    cos_theta, sin2 = pair  # cos(theta) (relative accuracy near pi/2), sin^2(theta) (near 0, pi)
    float64 = cos_theta.dtype == jnp.float64
    u1, r1, root_e1, new1 = _erf_points(sd1, sigma_w, sigma_b)
    u2, r2, root_e2, new2 = _erf_points(sd2, sigma_w, sigma_b)
    rr = _outer(r1, r2)
    expectation = (2 / jnp.pi) * _safe_arcsin_pairs(jnp.clip(rr * cos_theta, -1, 1), float64)
    # (1+2q1)(1+2q2) - 4 k12^2 = u1^2 u2^2 (1 - r1 r2 cos^2) = u1^2 u2^2 [p1^2 + p2^2 - p1^2 p2^2
    # + r1 r2 sin^2] with p = 1/u; divided through by u_max^2 u_min^2 / u_min^2 so that no
    # term (nor its derivative) over- or underflows for huge q.
    u_max = jnp.maximum(u1[..., :, None], u2[..., None, :])
    u_min = jnp.minimum(u1[..., :, None], u2[..., None, :])
    rest = 1 + (u_min / u_max) ** 2 - 1 / u_max**2 + (rr * u_min) ** 2 * sin2
    slope = (4 / jnp.pi) / (u_max * jnp.sqrt(rest))  # (lax.rsqrt is a scalar loop on XLA:CPU)
    nngp = sigma_w**2 * expectation + sigma_b**2
    corr = _safe_div(expectation, _outer(root_e1, root_e2))
    gap, plus = _pair_gap(new1, new2, 1 - corr, 1 + corr)
    new_ntk = (expectation if standard else nngp) + sigma_w**2 * slope * ntk
    return new1.sd, new2.sd, (_pair_cosine(new1, new2, corr), gap * plus), new_ntk, nngp


def _pair_cosine(p1, p2, c):
    """cos(theta) of K_ij = a_i a_j c_ij + sigma_b^2: alpha_i alpha_j c + sin(phi_i) sin(phi_j)."""
    bias1, bias2 = 2 * p1.sin_half * p1.cos_half, 2 * p2.sin_half * p2.cos_half
    return jnp.clip(_outer(p1.alpha, p2.alpha) * c + _outer(bias1, bias2), -1, 1)


_LAYERS = {"relu": _relu_layer, "erf": _erf_layer}


def _block_count(n: int) -> int:
    """Blocks per side for K(X, X): only the B (B + 1) / 2 blocks on and above the diagonal
    are computed (saving up to half the work); blocks of >= 128 rows, at most 16 per side."""
    return max(1, min(16, n // 128))


def _symmetric_blocks(x, sigma_w, precision=_HIGHEST):
    """Per-point vectors (P, m) of the rows and columns of the upper-triangle blocks, their
    cosines (P, m, m) (the B diagonal blocks first, symmetrised, cos_ii = 1), and B."""
    n, d = x.shape
    blocks = _block_count(n)
    m = -(-n // blocks)
    x = jnp.pad(x, ((0, blocks * m - n), (0, 0)))  # zero rows: valid points, sliced off at the end
    norm, unit = _row_norms(x)
    a = (sigma_w * norm / math.sqrt(d)).reshape(blocks, m)
    unit = unit.reshape(blocks, m, d)
    upper = [(i, j) for i in range(blocks) for j in range(i + 1, blocks)]
    diag = jnp.einsum("bmd,bnd->bmn", unit, unit, precision=precision)
    diag = jnp.where(jnp.eye(m, dtype=bool), 1, (diag + jnp.swapaxes(diag, 1, 2)) / 2)
    rows = np.array(list(range(blocks)) + [i for i, _ in upper], dtype=np.int32)
    cols = np.array(list(range(blocks)) + [j for _, j in upper], dtype=np.int32)
    if upper:
        off = jnp.einsum("bmd,bnd->bmn", unit[rows[blocks:]], unit[cols[blocks:]], precision=precision)
        cos = jnp.concatenate([diag, off])
    else:
        cos = diag
    return a[rows], a[cols], jnp.clip(cos, -1, 1), blocks


def _assemble(upper, blocks: int, n: int):
    """The full (n, n) symmetric matrix from its upper-triangle blocks (as _symmetric_blocks)."""
    if blocks == 1:
        return upper[0, :n, :n]
    m = upper.shape[-1]
    index = {}
    for i in range(blocks):
        index[i, i] = i
    for k, (i, j) in enumerate((i, j) for i in range(blocks) for j in range(i + 1, blocks)):
        index[i, j] = index[j, i] = blocks + k
    grid = np.array([[index[i, j] for j in range(blocks)] for i in range(blocks)], dtype=np.int32)
    lower = np.tril(np.ones((blocks, blocks), dtype=bool), -1)[:, :, None, None]
    full = upper[grid]  # (B, B, m, m)
    full = jnp.where(lower, jnp.swapaxes(full, 2, 3), full)
    return full.transpose(0, 2, 1, 3).reshape(blocks * m, blocks * m)[:n, :n]


def _input_layer(a1, a2, cos, sigma_b, activation):
    """Standard deviations and pair states of K^1 = a_i a_j cos_ij + sigma_b^2
    (a = sigma_w |x| / sqrt d): (w,) for ReLU, (cos theta, sin^2 theta) for erf; the values
    of those states at coincident points; K^1."""
    p1, p2 = _points(a1, sigma_b), _points(a2, sigma_b)
    gap, plus = _pair_gap(p1, p2, 1 - cos, 1 + cos)
    if activation == "erf":
        pair, coincident = (_pair_cosine(p1, p2, cos), gap * plus), (1, 0)
    else:
        pair, coincident = (_quarter_tangent(gap, plus),), (0,)
    return p1.sd, p2.sd, pair, coincident, _outer(a1, a2) * cos + sigma_b**2


@functools.partial(jax.jit, static_argnames=("depth", "activation", "parameterization", "symmetric", "precision"))
def _fc_kernels(x1, x2, sigma_w, sigma_b, *, depth, activation, parameterization, symmetric, precision=_HIGHEST):
    standard = parameterization == "standard"
    if symmetric:
        a1, a2, cos, blocks = _symmetric_blocks(x1, sigma_w, precision)
    else:
        d = x1.shape[1]
        n1, u1 = _row_norms(x1)
        n2, u2 = _row_norms(x2)
        # Coincident pairs (equal rows, detected per pair): angle exactly 0, as on the diagonal
        # of K(X, X). Their cosine from the matmul is 1 - O(eps), an angle O(sqrt(eps)), and
        # the angle is not differentiable there (|x - x'|-like): pinning it to 0 gives the
        # symmetric (central) derivative, as the x2 = None path does.
        eye = jnp.all(x1[:, None, :] == x2[None, :, :], axis=-1)[None]
        cos = jnp.where(eye, 1, jnp.clip(jnp.matmul(u1, u2.T, precision=precision), -1, 1)[None])
        a1, a2 = (sigma_w * n1 / math.sqrt(d))[None], (sigma_w * n2 / math.sqrt(d))[None]
    if symmetric:  # the diagonal of the diagonal blocks: i = j, angle exactly 0
        shape = cos.shape
        eye = ((jax.lax.broadcasted_iota(jnp.int32, shape, 0) < blocks)
               & (jax.lax.broadcasted_iota(jnp.int32, shape, 1) == jax.lax.broadcasted_iota(jnp.int32, shape, 2)))
    nngp, ntk = layer_recursion(a1, a2, cos, eye, sigma_w, sigma_b, depth=depth, activation=activation,
                                standard=standard)
    if symmetric:
        n = x1.shape[0]
        return Kernels(_assemble(nngp, blocks, n), _assemble(ntk, blocks, n))
    return Kernels(nngp[0], ntk[0])


def layer_recursion(a1, a2, cos, eye, sigma_w, sigma_b, *, depth, activation, standard):
    """(NNGP, NTK) after ``depth`` layers from the input layer's scales ``a`` and cosines, with
    the pairs where ``eye`` holds pinned to coincidence (angle exactly 0) in every layer.
    Shared by :func:`fc_kernels` and the blocked, sharded kernels (``_blocked``)."""
    layer = _LAYERS[activation]
    sd1, sd2, pair, coincident, k1 = _input_layer(a1, a2, cos, sigma_b, activation)
    ntk = jnp.zeros_like(k1) if standard else k1

    def pin(pair):
        return tuple(jnp.where(eye, value, state) for value, state in zip(coincident, pair))

    def step(carry, index):
        sd1, sd2, pair, ntk, nngp = carry
        sd1, sd2, pair, ntk, new_nngp = layer(sd1, sd2, pair, ntk, sigma_w, sigma_b, standard)
        pair = pin(pair)
        # The NNGP is only returned for the last layer: computing it there alone (lax.cond)
        # saves a pass per layer; a rolled loop (unroll=1) keeps XLA from fusing the whole
        # recursion into the final assembly of the output.
        nngp = jax.lax.cond(index == depth - 1, lambda: new_nngp, lambda: nngp)
        return (sd1, sd2, pair, ntk, nngp), None

    carry = (sd1, sd2, pin(pair), ntk, k1)
    (*_, ntk, nngp), _ = jax.lax.scan(step, carry, jnp.arange(depth))
    return nngp, ntk


# --- argument checking -------------------------------------------------------------
def _checked_precision(precision):
    if precision is None or isinstance(precision, jax.lax.Precision):
        return precision
    raise ValueError(f"precision = {precision!r} must be a jax.lax.Precision or None")


def _traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_sigma(name: str, value, what: str = "a standard deviation") -> None:
    """A real, finite scalar >= 0 (left to the caller when traced); ``what`` names the quantity."""
    if _traced(value):
        return
    v = np.asarray(value)
    if v.shape != () or not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
        raise ValueError(f"{name} must be a real scalar, got {value!r}")
    v = float(v)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} = {v!r} is outside its valid range [0, oo) ({what})")


def _check_inputs(name: str, x) -> jax.Array:
    a = jnp.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (points, features), got shape {a.shape}")
    if a.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature, got shape {a.shape}")
    if not _traced(a) and not np.all(np.isfinite(np.asarray(a))):  # numpy: a concrete array
        # closed over by a jitted function would be staged out by jnp
        bad = np.asarray(a)[~np.isfinite(np.asarray(a))].flat[0]
        raise ValueError(f"{name} contains a non-finite value ({bad}); inputs must be finite")
    return a


def check_arguments(x1, x2, depth, activation, sigma_w, sigma_b, parameterization) -> None:
    """Raise ValueError/TypeError naming the first bad argument (used by fc_kernels)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization = {parameterization!r} is unknown; valid: {PARAMETERIZATIONS}")
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"depth must be an integer number of hidden layers, got {depth!r}")
    if depth < 1:
        raise ValueError(f"depth = {depth} is outside its valid range (integers >= 1: hidden layers)")
    _check_sigma("sigma_w", sigma_w)
    _check_sigma("sigma_b", sigma_b)
    a1 = _check_inputs("x1", x1)
    if x2 is not None:
        a2 = _check_inputs("x2", x2)
        if a2.shape[1] != a1.shape[1]:
            raise ValueError(f"x2 has {a2.shape[1]} features but x1 has {a1.shape[1]}; they must match")


def checked_duals(duals, activation: str):
    """``duals`` validated; None when absent or equal to the catalogue's maps of ``activation``."""
    if duals is None:
        return None
    if not isinstance(duals, Duals) or not all(isinstance(f, Formula) for f in duals):
        raise TypeError(f"duals must be Duals(nngp, derivative) of two Formulas, got {duals!r}")
    return None if duals == catalogue_duals(activation) else duals


def common_inputs(x1, x2, sigma_w, sigma_b):
    """(x1, x2, sigma_w, sigma_b) in one floating dtype, and whether it is K(X, X) (x2 None or x1)."""
    symmetric = x2 is None or x2 is x1
    x1 = jnp.asarray(x1)
    x2 = x1 if symmetric else jnp.asarray(x2)
    dtype = jnp.result_type(x1, x2)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    return (x1.astype(dtype), x2.astype(dtype), jnp.asarray(sigma_w, dtype), jnp.asarray(sigma_b, dtype),
            symmetric)


def fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
               duals: Duals | None = None, order: int | None = None,
               precision: jax.lax.Precision | None = _HIGHEST) -> Kernels:
    r"""NNGP and NTK matrices $K^{L+1}(x_1, x_2)$, $\Theta^{L+1}(x_1, x_2)$ of a deep FC network.

    Args:
        x1: (n1, d) inputs. x2: (n2, d) inputs, or None (or x1 itself) for K(x1, x1);
            then the norms are computed once, only the blocks on and above the diagonal
            are computed (for n1 >= 256; mirrored, so those blocks are exactly symmetric),
            the input Gram is symmetrised, the diagonal angles are exactly 0, and the
            diagonal blocks are symmetric to within an ulp.
        depth: number of hidden layers L >= 1. activation: "relu" or "erf" (exact scale-free
            path), or any other elementwise activation, by name ("tanh", "gelu", "silu", "sin",
            "softplus", ...) or as a JAX function: Gauss-Hermite dual maps (``_quadrature``).
        sigma_w, sigma_b: weight and bias standard deviations (>= 0).
        parameterization: "ntk" (default) or "standard" (see the module docstring).
        duals: the per-layer Formulas, ``Duals(nngp, derivative)``; None (default) or the
            catalogue's (:func:`catalogue_duals`) selects the scale-free path described in
            the module docstring. Any other pair (a new activation's dual maps, or a
            deliberately wrong one in a negative control) is applied directly to
            $(K_{ii}, K_{jj}, K_{ij})$ each layer, with $K_{ij}$ kept a hair inside
            $\pm\sqrt{K_{ii}K_{jj}}$ (accurate to ~sqrt(eps) relative at coincident points).
        order: Gauss-Hermite nodes per dimension for the quadrature activations (default 64;
            relu and erf take none). Steep maps need more as the pre-activation variance k
            grows: for erf at a first-layer variance of 8.3 the NTK is off by 2.3e-2 at 64
            nodes, 5.4e-4 at 128, 3.0e-7 at 256 (cost ~ order^2 per pair and layer).
            ``order="accurate"``: the transition-adapted rule, 1e-10 relative for smooth
            activations up to variance 1e3 (a ValueError beyond), at ~40x the cost of 64 nodes.
        precision: the ``jax.lax.Precision`` of the input-layer dot product of the closed-form
            path (default HIGHEST: full float32 on GPUs/TPUs, whose default is bf16-like
            passes); None uses the platform's default. Pinned here rather than by a global
            ``jax.default_matmul_precision``.

    Returns ``Kernels(nngp, ntk)``, each (n1, n2), in the floating dtype of the inputs
    (float32 stays float32). Built from ``kernels.relu_derivative_angular`` and
    ``kernels.relu_nngp_deficit`` (ReLU; $J = 1/2 -$ deficit is ``kernels.relu_nngp_angular``,
    tested equal) and the scale-free form of ``kernels.erf_nngp`` / ``kernels.erf_derivative`` (erf, tested
    equal), applied by a ``lax.scan`` over layers inside one ``jax.jit``.
    Differentiable in x1, x2, sigma_w, sigma_b (finite gradients at coincident points).

    Example:
        >>> x = jax.random.normal(jax.random.key(0), (4, 10))
        >>> nngp, ntk = fc_kernels(x, None, depth=3, activation="relu", sigma_w=1.4, sigma_b=0.1)
    """
    if (callable(activation) or activation not in ACTIVATIONS) and duals is None:
        # any other elementwise activation (a name or a JAX function): quadrature dual maps
        return quadrature_fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization,
                                     order=DEFAULT_ORDER if order is None else order)
    if order is not None:
        raise ValueError(f"order = {order!r} applies only to quadrature activations; activation = "
                         f"{activation!r} uses its closed form (pass order=None)")
    check_arguments(x1, x2, depth, activation, sigma_w, sigma_b, parameterization)
    duals = checked_duals(duals, activation)
    x1, x2, sigma_w, sigma_b, symmetric = common_inputs(x1, x2, sigma_w, sigma_b)
    if duals is not None:
        return _fc_kernels_direct(x1, x2, sigma_w, sigma_b, depth=int(depth), duals=duals,
                                  parameterization=parameterization)
    return _fc_kernels(x1, x2, sigma_w, sigma_b, depth=int(depth), activation=activation,
                       parameterization=parameterization, symmetric=symmetric, precision=_checked_precision(precision))


@functools.partial(jax.jit, static_argnames=("depth", "duals", "parameterization"))
def _fc_kernels_direct(x1, x2, sigma_w, sigma_b, *, depth, duals, parameterization):
    """The textbook recursion on (K_ii, K_jj, K_ij), each layer evaluating ``duals`` as given."""
    standard = parameterization == "standard"
    d = x1.shape[1]
    k = sigma_w**2 * jnp.matmul(x1, x2.T, precision=_HIGHEST) / d + sigma_b**2
    q1 = sigma_w**2 * jnp.sum(x1**2, axis=1) / d + sigma_b**2
    q2 = sigma_w**2 * jnp.sum(x2**2, axis=1) / d + sigma_b**2
    ntk = jnp.zeros_like(k) if standard else k
    inside = 1 - 4 * jnp.finfo(k.dtype).eps  # |k12| < sqrt(k11 k22): no sqrt/acos of round-off past 1

    def expectations(k11, k22, k12):
        bound = jnp.sqrt(k11 * k22) * inside
        k12 = jnp.clip(k12, -bound, bound)
        return duals.nngp.jax(k11, k22, k12), duals.derivative.jax(k11, k22, k12)

    def layer(carry, _):
        k, ntk, q1, q2 = carry
        expectation, slope = expectations(q1[:, None], q2[None, :], k)
        k = sigma_w**2 * expectation + sigma_b**2
        ntk = (expectation if standard else k) + sigma_w**2 * slope * ntk
        q1 = sigma_w**2 * expectations(q1, q1, q1)[0] + sigma_b**2
        q2 = sigma_w**2 * expectations(q2, q2, q2)[0] + sigma_b**2
        return (k, ntk, q1, q2), None

    # a rolled loop: the layer (with the quadrature maps inlined) is compiled once, not depth times
    (k, ntk, _, _), _ = jax.lax.scan(layer, (k, ntk, q1, q2), None, length=depth)
    return Kernels(k, ntk)


# The iteration of the quadrature variance map (any activation; q0 given for relu/erf too).
FIXED_POINT_ORDER = 200  # Gauss-Hermite nodes (cheap; accurate for steep saturating maps up to q ~ 30)
_ITERATIONS = 3000  # the cap where q* is approached slowly or runs away
_RUNAWAY = 1e8  # a variance above this after the iterations: no finite q* (reported as inf)


def variance_fixed_point(activation, sigma_w, sigma_b, *, formula: Formula | None = None, q0=None):
    r"""Fixed point $q^* = \sigma_w^2 E_{z\sim N(0,q^*)}[\phi(z)^2] + \sigma_b^2$ of the variance map.

    The one variance fixed point of the toolkit (``signal.variance_fixed_point``, ``signal.chi1``,
    ``signal.depth_scales`` and ``signal.critical_init`` call it with ``q0``). Two paths:

    * ``activation`` "relu" or "erf" and ``q0=None``: the closed form. ReLU:
      ``kernels.relu_variance_fixed_point`` (exists for $\sigma_w^2 < 2$; a ValueError otherwise).
      erf: the map ``kernels.erf_variance_map`` is increasing, concave and bounded by
      $\sigma_w^2 + \sigma_b^2$, so Newton's method from that bound converges monotonically to the
      largest fixed point (0 when $\sigma_b = 0$ and $\sigma_w^2 \le \pi/4$). ``formula``
      replaces that Formula (the fixed point for ReLU, the variance map for erf).
    * any other activation (a name of ``kernels.NAMED_ACTIVATIONS`` or an elementwise JAX
      function, as :func:`fc_kernels` accepts), or any activation with ``q0`` given: the fixed
      point reached from ``q0`` (default 1.0) by iterating the variance map with
      ``FIXED_POINT_ORDER``-node Gauss-Hermite quadrature, until it leaves q unchanged to a few
      ulps (at most 3000 steps, in one jitted ``lax.while_loop``). ``inf`` where q runs away
      (above 1e8, e.g. ReLU with $\sigma_w^2 > 2$) or still moves by more than 1e-6 relative after
      the iterations (ReLU at $\sigma_w^2 = 2$, $\sigma_b > 0$ grows by $\sigma_b^2$ per layer).
      ``q0`` picks the fixed point where there are several (erf and tanh at $\sigma_b = 0$:
      $q^0 = 0$ stays at 0).

    Returns a 0-d array.
    Schoenholz et al. 2017, arXiv:1611.01232v2, sec. 3; Poole et al. 2016, arXiv:1606.05340v2, eq. (3).
    """
    if not isinstance(activation, str) and not callable(activation):
        raise ValueError(f"activation = {activation!r} is unknown; valid: a name of kernels.NAMED_ACTIVATIONS "
                         "or an elementwise JAX function")
    closed_form = activation in ACTIVATIONS and q0 is None
    phi = None if closed_form else activation_function(activation)
    _check_sigma("sigma_w", sigma_w)
    _check_sigma("sigma_b", sigma_b)
    if formula is not None and not isinstance(formula, Formula):
        raise TypeError(f"formula must be a Formula, got {formula!r}")
    if not closed_form:
        if formula is not None:
            raise ValueError(f"formula = {formula!r} applies only to the closed forms (activation 'relu' or "
                             f"'erf' with q0=None); got activation = {activation!r}, q0 = {q0!r}")
        q0 = 1.0 if q0 is None else q0
        _check_sigma("q0", q0, "a variance")
        dtype = jnp.result_type(float)
        return _iterated_fixed_point(phi, jnp.asarray(sigma_w, dtype), jnp.asarray(sigma_b, dtype),
                                     jnp.asarray(q0, dtype))
    if activation == "relu":
        formula = _formula("relu_variance_fixed_point") if formula is None else formula
        return formula(sigma_w=sigma_w, sigma_b=sigma_b)
    formula = _formula("erf_variance_map") if formula is None else formula
    return _erf_fixed_point(jnp.asarray(sigma_w, float), jnp.asarray(sigma_b, float), variance_map=formula)


@functools.partial(jax.jit, static_argnames=("variance_map",))
def _erf_fixed_point(sigma_w, sigma_b, *, variance_map):
    def residual(q):
        return variance_map.jax(q, sigma_w, sigma_b) - q

    def newton(_, q):
        slope = jax.grad(residual)(q)
        step = _safe_div(residual(q), slope)
        return jnp.maximum(q - step, 0)

    return jax.lax.fori_loop(0, 200, newton, sigma_w**2 + sigma_b**2)


@functools.partial(jax.jit, static_argnames=("phi",))
def _iterated_fixed_point(phi, sigma_w, sigma_b, q0):
    """q after iterating the quadrature variance map from q0 until it leaves q unchanged to a few
    ulps or for ``_ITERATIONS`` steps (q clamped at ``2 * _RUNAWAY``); inf where q ran away or
    still moves (by more than 1e-6 relative)."""
    eps = 4 * jnp.finfo(q0.dtype).eps

    def variance_map(q):
        return sigma_w**2 * gaussian_expectation(lambda u: phi(u) ** 2, q, FIXED_POINT_ORDER) + sigma_b**2

    def step(state):
        i, q, _ = state
        new = jnp.minimum(variance_map(q), 2 * _RUNAWAY)
        return i + 1, new, jnp.abs(new - q) > eps * jnp.maximum(new, 1.0)

    _, q, _ = jax.lax.while_loop(lambda s: (s[0] < _ITERATIONS) & s[2], step,
                                 (jnp.asarray(0), q0, jnp.asarray(True)))
    moved = jnp.abs(variance_map(q) - q)
    return jnp.where((q > _RUNAWAY) | (moved > 1e-6 * jnp.maximum(q, 1.0)), jnp.inf, q)


# -- any elementwise activation: quadrature dual maps (analytic.kernels._quadrature) --
def quadrature_duals(activation, order: int | str = DEFAULT_ORDER):
    """``Duals(nngp, derivative)`` of any elementwise activation, as :class:`QuadratureMap` s."""
    phi = activation_function(activation)
    _checked_order(order)
    return Duals(QuadratureMap(phi, False, order), QuadratureMap(phi, True, order))


def quadrature_fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization="ntk",
                          order: int | str = DEFAULT_ORDER):
    """:func:`fc_kernels` for any elementwise activation: the depth recursion on
    $(K_{ii}, K_{jj}, K_{ij})$ with the quadrature dual maps (same conventions).
    ``order="accurate"``: the 1e-10 rule, after :func:`check_layer_variances`."""
    duals = quadrature_duals(activation, order)
    # (the activation is validated above; check the other arguments as fc_kernels does)
    check_arguments(x1, x2, depth, ACTIVATIONS[0], sigma_w, sigma_b, parameterization)
    x1 = jnp.asarray(x1)
    x2 = x1 if x2 is None else jnp.asarray(x2)
    dtype = jnp.result_type(x1, x2)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    x1, x2 = x1.astype(dtype), x2.astype(dtype)
    if order == ACCURATE:
        check_layer_variances(x1, None if x2 is x1 else x2, depth, activation, sigma_w, sigma_b,
                              phi=duals.nngp.phi)
    return _fc_kernels_direct(x1, x2, jnp.asarray(sigma_w, dtype), jnp.asarray(sigma_b, dtype),
                              depth=int(depth), duals=duals, parameterization=parameterization)
