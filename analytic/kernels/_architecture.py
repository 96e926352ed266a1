r"""Infinite-width kernels of compositional architectures: :func:`serial`.

One recursion engine. The state is the pair of covariance tensors of the current layer,
NNGP $K$ and NTK $\Theta$, between the two sets of inputs, indexed by (sample, sample,
positions...); each layer record (``_layers``) is a map on that state
(Novak et al. 2019, arXiv:1810.05148v4, sec. 3 and App. C; Garriga-Alonso et al. 2019,
arXiv:1808.05587v2, eq. (7); Arora et al. 2019, arXiv:1904.11955v2, sec. 4; Yang 2019,
arXiv:1910.12478v3). For inputs $x \in \mathbb R^{N\times S\times C}$:

* input: $K^0(p, p') = x(p)\cdot x'(p')/C$, $\Theta^0 = 0$;
* Conv (filter offsets $o \in F$, $|F| = \prod$ filter_shape, zero or wrap-around padding):
  $K'(p, p') = \frac{\sigma_w^2}{|F|}\sum_{o\in F} K(sp+o, sp'+o) + \sigma_b^2$,
  $\Theta'(p,p') = \frac{\sigma_w^2}{|F|}\sum_o \Theta(sp+o, sp'+o) + K'(p,p')$;
  Dense is the case $|F| = 1$;
* Activation: $K' = E_K[\phi(u)\phi(v)]$, $\Theta' = E_K[\phi'(u)\phi'(v)]\,\Theta$ with
  $(u, v)$ Gaussian of covariance $[[K(p,p), K(p,p')],[K(p,p'), K'(p',p')]]$ (the pair's
  variances are the position-diagonal of each sample's own covariance);
* AvgPool: $K'(p,p') = |W|^{-2}\sum_{i,j\in W} K(sp+i, sp'+j)$ (the same for $\Theta$);
  GlobalAvgPool: the mean over all pairs of positions; Flatten: the mean over coincident
  positions $K' = P^{-1}\sum_p K(p, p)$ (the next Dense then has fan-in $CP$);
* Residual $x + s\,g(x)$, $g$ ending in Dense/Conv: $K' = K + s^2 K_g$, $\Theta' = \Theta + s^2
  \Theta_g$ (the branch's last weights are zero-mean and independent of $x$, so the cross
  terms vanish);
* LayerNorm (input a zero-mean Gaussian): $K'(p,p') = K(p,p')/\sqrt{K(p,p)K'(p',p')}$ and the
  same for $\Theta$ (the mean over channels vanishes, the norm concentrates).

"standard" parameterisation returns $\lim \Theta_{SP}/n$ (n channels), as ``fc_kernels``:
only hidden weights survive; a Dense/Conv layer whose input is a hidden layer adds
$\sum_{o} K(sp+o, sp'+o)$ (``|F|`` times the mean; after Flatten, $P$ times), the first
layer and all biases add 0.

Cost. A layer that mixes positions (AvgPool, GlobalAvgPool) needs covariances over all
pairs of positions: $N_1 N_2 P^2$ entries. Everything else maps the position-diagonal to
itself, so the engine tracks all pairs only up to the last pooling layer and only the
diagonal ($N_1 N_2 P$) elsewhere, e.g. everywhere in a flattened CNN. For $K(X, X)$ only the
$N(N+1)/2$ sample pairs $i \le j$ are computed (each pair's recursion depends on the others only
through the variances, the $i = j$ rows, whose coincident cosine is then exactly 1) and the
output is mirrored; otherwise each side's own covariances (N P^2 or N P) travel along.
A Conv on pairs of positions is, per spatial dimension, one 2-D convolution over the
$(p, p')$ plane with the $k\times k$ identity filter, the other axes in its batch.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from analytic.kernels._fc import PARAMETERIZATIONS, Kernels
from analytic.kernels._layers import (LAYER_TYPES, Activation, AvgPool, Conv, Dense, Flatten, GlobalAvgPool,
                                      LayerNorm, Residual)

__all__ = ["Architecture", "serial", "CLOSED_FORM_ACTIVATIONS"]

_HIGHEST = jax.lax.Precision.HIGHEST
CLOSED_FORM_ACTIVATIONS = ("relu", "erf", "step")


# --- dual maps (k11, k22, k12) -> (E[phi phi], E[phi' phi']) ----------------------------
def _cosine(k11, k22, k12):
    prod = jnp.sqrt(k11 * k22)  # sqrt(k*k) == k exactly: coincident pairs get c = 1 exactly
    safe = jnp.where(prod > 0, prod, 1)
    return prod, jnp.clip(jnp.where(prod > 0, k12 / safe, 0), -1, 1)


def _relu_duals(k11, k22, k12):
    """Cho & Saul 2009, eq. (6) with n = 1 (``kernels.relu_nngp``) and its Price derivative."""
    prod, c = _cosine(k11, k22, k12)
    theta = jnp.arccos(c)
    sin = jnp.sqrt((1 - c) * (1 + c))
    return prod / (2 * jnp.pi) * (sin + (jnp.pi - theta) * c), (jnp.pi - theta) / (2 * jnp.pi)


def _step_duals(k11, k22, k12):
    """E[step(u) step(v)] = (pi - theta) / (2 pi) (Cho & Saul 2009, eq. (6), n = 0); phi' = 0 a.e."""
    _, c = _cosine(k11, k22, k12)
    value = (jnp.pi - jnp.arccos(c)) / (2 * jnp.pi)
    return value, jnp.zeros_like(value)


def _erf_duals(k11, k22, k12):
    """Williams 1997, eq. (11) (``kernels.erf_nngp``) and its Price derivative
    4/pi / sqrt((1+2k11)(1+2k22) - 4k12^2), the radicand formed as
    1 + 2(k11 + k22) + 4 k11 k22 (1 - c)(1 + c) (no cancellation at coincident points)."""
    prod, c = _cosine(k11, k22, k12)
    norm = jnp.sqrt((1 + 2 * k11) * (1 + 2 * k22))
    nngp = (2 / jnp.pi) * jnp.arcsin(jnp.clip(2 * k12 / norm, -1, 1))
    radicand = 1 + 2 * (k11 + k22) + 4 * prod**2 * (1 - c) * (1 + c)
    return nngp, (4 / jnp.pi) / jnp.sqrt(radicand)


_CLOSED = {"relu": _relu_duals, "erf": _erf_duals, "step": _step_duals}


def _activations(layers):
    for layer in layers:
        if isinstance(layer, Activation):
            yield layer
        elif isinstance(layer, Residual):
            yield from _activations(layer.branch)


def _quadrature_table(layers) -> tuple:
    """((activation, order), Duals) for every quadrature activation of ``layers``: the maps are
    built (and the activation validated on concrete probe points) before tracing."""
    from analytic.kernels._fc import DEFAULT_ORDER, quadrature_duals

    table = {}
    for layer in _activations(layers):
        if not (isinstance(layer.activation, str) and layer.activation in _CLOSED):
            key = (layer.activation, layer.order)
            if key not in table:
                table[key] = quadrature_duals(layer.activation, DEFAULT_ORDER if layer.order is None else layer.order)
        elif layer.order is not None:
            raise ValueError(f"{layer!r}: order = {layer.order!r} applies only to quadrature activations; "
                             f"{layer.activation!r} uses its closed form (order=None)")
    return tuple(table.items())


def _dual_function(layer: Activation, table: tuple):
    if isinstance(layer.activation, str) and layer.activation in _CLOSED:
        return _CLOSED[layer.activation]
    duals = dict(table)[(layer.activation, layer.order)]

    def quadrature(k11, k22, k12):
        return duals.nngp.jax(k11, k22, k12), duals.derivative.jax(k11, k22, k12)

    return quadrature


# --- shapes: a static pass that validates and plans ----------------------------------------
@dataclasses.dataclass(frozen=True)
class _Shape:
    spatial: tuple | None  # None: no positions left
    gaussian: bool  # a zero-mean Gaussian process in the limit (output of Dense/Conv, ...)
    hidden: bool  # a hidden layer (some Dense/Conv before): its weights' gradients count in "standard"
    fan: int = 1  # fan-in multiplier of the next Dense (positions after Flatten)


def _name(path: str, layer) -> str:
    return f"layer {path} ({layer!r})"


def _tuple(value, d: int, what: str, where: str) -> tuple:
    if isinstance(value, int):
        return (value,) * d
    if len(value) != d:
        raise ValueError(f"{where}: {what} {value} has {len(value)} dimensions but the input to it has "
                         f"{d} spatial dimensions")
    return tuple(value)


def _window_plan(size, window, strides, padding, where, what):
    """Per spatial dim: (window, stride, pad_lo, pad_hi, out) as lax.conv_general_dilated pads."""
    plan = []
    for length, k, s in zip(size, window, strides):
        if padding == "VALID":
            if k > length:
                raise ValueError(f"{where}: {what} {tuple(window)} is larger than its VALID input of spatial "
                                 f"shape {tuple(size)}")
            plan.append((k, s, 0, 0, (length - k) // s + 1))
        else:
            out = -(-length // s)
            total = max((out - 1) * s + k - length, 0)
            plan.append((k, s, total // 2, total - total // 2, out))
    return tuple(plan)


def _walk(layers, shape: _Shape, prefix: str = "") -> tuple:
    """Validate ``layers`` from ``shape``; the list of (layer, in_shape, out_shape, extra) steps."""
    steps = []
    for i, layer in enumerate(layers):
        path = f"{prefix}{i}"
        where = _name(path, layer)
        if not isinstance(layer, LAYER_TYPES):
            raise TypeError(f"layer {path} = {layer!r} is not a layer record (kernels.Dense, Conv, ...)")
        extra = None
        spatial = shape.spatial
        needs_positions = isinstance(layer, (Conv, AvgPool, GlobalAvgPool))
        if needs_positions and not spatial:
            raise ValueError(f"{where} needs positions but its input has none (input shape: "
                             f"{'(N, channels)' if spatial is None else spatial}; after GlobalAvgPool or Flatten, "
                             "or 2-D inputs)")
        if isinstance(layer, (Dense, Conv)):
            if isinstance(layer, Conv):
                d = len(spatial)
                window = _tuple(layer.filter_shape, d, "filter_shape", where)
                strides = _tuple(layer.strides, d, "strides", where)
                extra = _window_plan(spatial, window, strides, layer.padding, where, "filter_shape")
                spatial = tuple(p[-1] for p in extra)
            out = _Shape(spatial, True, True)
        elif isinstance(layer, Activation):
            if not shape.gaussian:
                raise ValueError(f"{where}: its input is not a Gaussian process in the limit (input shape "
                                 f"{spatial}); put a Dense or Conv before every Activation")
            out = dataclasses.replace(shape, gaussian=False)
        elif isinstance(layer, AvgPool):
            d = len(spatial)
            window = _tuple(layer.window, d, "window", where)
            strides = window if layer.strides is None else _tuple(layer.strides, d, "strides", where)
            extra = _window_plan(spatial, window, strides, layer.padding, where, "window")
            out = _Shape(tuple(p[-1] for p in extra), shape.gaussian, shape.hidden)
        elif isinstance(layer, GlobalAvgPool):
            out = _Shape(None, shape.gaussian, shape.hidden)
        elif isinstance(layer, Flatten):
            fan = math.prod(spatial) if spatial else 1
            out = _Shape(None, shape.gaussian, shape.hidden, fan * shape.fan)
        elif isinstance(layer, LayerNorm):
            if not shape.gaussian:
                raise ValueError(f"{where}: its input must be a zero-mean Gaussian in the limit (after Dense, "
                                 "Conv, pooling or a Residual of those), not an activation's output, whose "
                                 "channel mean does not vanish")
            out = shape
        else:  # Residual
            if not isinstance(layer.branch[-1], (Dense, Conv)):
                raise ValueError(f"{where}: the branch must end in Dense or Conv (a zero-mean Gaussian "
                                 f"independent of the input), it ends in {layer.branch[-1]!r}")
            inner = _walk(layer.branch, dataclasses.replace(shape, fan=1), prefix=f"{path}.")
            end = inner[-1][2] if inner else shape
            if end.spatial != spatial or (end.fan != shape.fan):
                raise ValueError(f"{where}: the branch changes the shape from spatial {spatial} to "
                                 f"{end.spatial}; a residual branch must keep it")
            extra = inner
            out = _Shape(spatial, shape.gaussian, True, shape.fan)
        if isinstance(layer, (Dense, Conv)) and out.fan != 1:
            out = dataclasses.replace(out, fan=1)
        steps.append((layer, shape, out, extra))
        shape = out
    return tuple(steps)


def _needs_pairs(steps, after: bool) -> tuple[bool, tuple]:
    """Backward pass: whether each step's input must carry all pairs of positions (True) or only
    the diagonal, given whether the output must (``after``). Returns (input need, per-step needs)."""
    needs = []
    for layer, _, _, extra in reversed(steps):
        if isinstance(layer, (AvgPool, GlobalAvgPool)):
            before = True
        elif isinstance(layer, Flatten):
            before = False
        elif isinstance(layer, Residual):
            branch_before, branch_needs = _needs_pairs(extra, after)
            before = after or branch_before
            needs.append((after, branch_needs))
            after = before
            continue
        else:
            before = after
        needs.append((after, None))
        after = before
    return after, tuple(reversed(needs))


# --- the state and its maps -------------------------------------------------------------
@dataclasses.dataclass
class _State:
    k: jax.Array  # (N1, N2, *pos) NNGP between the two input sets
    t: jax.Array | None  # the NTK, same shape (None: still exactly 0, before the first Dense/Conv)
    s1: jax.Array | None  # (N1, *pos) each x1 sample with itself (None: K(X, X), read off k)
    s2: jax.Array | None
    d: int  # spatial dimensions (0 once positions are gone)
    pairs: bool  # pos = (*S, *S) all pairs of positions, else (*S,) the diagonal
    packed: tuple | None = None  # K(X, X): (i, j) static index arrays of the sample pairs i <= j; then
    # k and t are (B, pos), one row per pair (each pair's recursion is independent of the others
    # given the variances, so the mirrored half is never computed); None: (N1, N2, pos)

    def tensors(self):
        return [a for a in (self.k, self.t, self.s1, self.s2) if a is not None]

    def replace(self, k, t, s1, s2, **changes):
        return dataclasses.replace(self, k=k, t=t, s1=s1, s2=s2, **changes)

    def map(self, f, **changes):
        """Apply the same linear map of the position axes to every tensor."""
        return self.replace(f(self.k), None if self.t is None else f(self.t), None if self.s1 is None else f(self.s1),
                            None if self.s2 is None else f(self.s2), **changes)

    def position_axes(self, a):
        """Per spatial dim: the axes of (p, p') (pairs) or of p (diagonal) in tensor ``a``."""
        n, d = a.ndim, self.d
        if self.pairs:
            return [(n - 2 * d + i, n - d + i) for i in range(d)]
        return [(n - d + i,) for i in range(d)]


def _position_diagonal(a, d: int):
    """(..., *S, *S) -> (..., *S): the coincident pairs of positions."""
    if d == 0:
        return a
    spatial = a.shape[-d:]
    p = math.prod(spatial)
    flat = a.reshape(a.shape[:-2 * d] + (p, p))
    return jnp.diagonal(flat, axis1=-2, axis2=-1).reshape(a.shape[:-2 * d] + spatial)


def _to_diagonal(state: _State) -> _State:
    return state.map(lambda a: _position_diagonal(a, state.d), pairs=False)


def _variances(state: _State):
    """(v1, v2): each sample's variance at each position, (N1, *S) and (N2, *S)."""
    if state.packed is not None:
        i, j = state.packed
        k = state.k[np.flatnonzero(i == j)]
        v = _position_diagonal(k, state.d) if state.pairs else k
        return v, v
    if state.s1 is None:
        k = jnp.moveaxis(jnp.diagonal(state.k, axis1=0, axis2=1), -1, 0)
        v = _position_diagonal(k, state.d) if state.pairs else k
        return v, v
    if state.pairs:
        return _position_diagonal(state.s1, state.d), _position_diagonal(state.s2, state.d)
    return state.s1, state.s2


def _broadcast(v1, v2, state: _State, cross: bool):
    """Variances shaped to pair with a cross (N1, N2, pos) or a self (N, pos) tensor."""
    d = state.d
    if cross and state.packed is not None:
        v1, v2 = v1[state.packed[0]], v2[state.packed[1]]
    elif cross:
        v1, v2 = v1[:, None], v2[None, :]
    if state.pairs:
        v1 = v1.reshape(v1.shape + (1,) * d)
        v2 = v2.reshape(v2.shape[:v2.ndim - d] + (1,) * d + v2.shape[v2.ndim - d:])
    return v1, v2


def _pointwise(state: _State, f_cross, f_self):
    """Apply f(k, t, va, vb) to the cross tensors and f_self(s, va, vb) to the self tensors."""
    v1, v2 = _variances(state)
    va, vb = _broadcast(v1, v2, state, cross=True)
    k, t = f_cross(state.k, state.t, va, vb)
    s1 = s2 = None
    if state.s1 is not None:
        s1 = f_self(state.s1, *_broadcast(v1, v1, state, cross=False))
        s2 = f_self(state.s2, *_broadcast(v2, v2, state, cross=False))
    return state.replace(k, t, s1, s2)


def _pair_conv(a, axes, plan_dim, circular: bool):
    """Sum over window offsets o of a[..., s p + o, ..., s p' + o, ...] on the pair of ``axes``
    (p, p'): a 2-D convolution over the (p, p') plane with the k x k identity filter (the same
    offset moves p and p' together), every other axis folded into its batch, so that XLA runs
    one convolution rather than k padded, shifted copies of the whole tensor."""
    k, s, lo, hi, out = plan_dim
    ax_p, ax_q = axes
    rest = [ax for ax in range(a.ndim) if ax not in axes]
    moved = jnp.transpose(a, rest + [ax_p, ax_q])
    lead = moved.shape[:-2]
    pads = ((lo, hi), (lo, hi))
    if circular and (lo or hi):
        moved = jnp.pad(moved, [(0, 0)] * len(lead) + list(pads), mode="wrap")
        pads = ((0, 0), (0, 0))
    flat = moved.reshape((-1,) + moved.shape[-2:] + (1,))
    eye = jnp.eye(k, dtype=a.dtype)[:, :, None, None]
    conv = jax.lax.conv_general_dilated(flat, eye, (s, s), pads, dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                        precision=_HIGHEST)
    conv = conv.reshape(lead + (out, out))
    return jnp.transpose(conv, tuple(int(i) for i in np.argsort(rest + [ax_p, ax_q])))


def _box_sum(a, axes, plans, circular: bool):
    """sum over window offsets on each of ``axes`` independently (one lax.reduce_window)."""
    window, strides, pads = [1] * a.ndim, [1] * a.ndim, [(0, 0)] * a.ndim
    for ax, (k, s, lo, hi, _) in zip(axes, plans):
        window[ax], strides[ax], pads[ax] = k, s, (lo, hi)
    if circular:
        a = jnp.pad(a, pads, mode="wrap")
        pads = [(0, 0)] * a.ndim
    return jax.lax.reduce_window(a, jnp.zeros((), a.dtype), jax.lax.add, window, strides, pads)


def _conv_linear(state: _State, plan, circular: bool):
    """Mean over filter offsets: (1/|F|) sum_o a(sp+o, sp'+o), every tensor. On the diagonal of
    positions this is a box sum over the spatial axes (one reduce_window); on pairs of positions
    the same offset moves p and p' together: per spatial dimension a 2-D convolution over the
    (p, p') plane with the identity filter (``_pair_conv``)."""
    size = math.prod(p[0] for p in plan)

    def f(a):
        if not state.pairs:
            axes = [axes[0] for axes in state.position_axes(a)]
            return _box_sum(a, axes, plan, circular) / size
        for dim, plan_dim in enumerate(plan):
            a = _pair_conv(a, state.position_axes(a)[dim], plan_dim, circular)
        return a / size

    return state.map(f), size


def _pool_linear(state: _State, plan):
    size = math.prod(p[0] for p in plan) ** 2

    def f(a):  # a box sum over p and p' independently
        axes = [ax for dim in range(len(plan)) for ax in state.position_axes(a)[dim]]
        plans = [plan_dim for plan_dim in plan for _ in range(2)]
        return _box_sum(a, axes, plans, False) / size

    return state.map(f)


def _affine(state: _State, layer, shape_in: _Shape, factor: int, standard: bool) -> _State:
    """K' = sigma_w^2 L(K) + sigma_b^2; Theta' = sigma_w^2 L(Theta) + (K' | factor L(K) | 0)."""
    w2, b2 = layer.sigma_w**2, layer.sigma_b**2
    k = w2 * state.k + b2
    t = 0 if state.t is None else w2 * state.t
    if standard:
        if shape_in.hidden:
            t = t + factor * state.k
        elif state.t is None:
            t = None  # still exactly 0: no constant tensor for XLA to fold through later layers
    else:
        t = t + k
    s1 = None if state.s1 is None else w2 * state.s1 + b2
    s2 = None if state.s2 is None else w2 * state.s2 + b2
    return state.replace(k, t, s1, s2)


def _run(steps, needs, state: _State, standard: bool, table: tuple) -> _State:
    for (layer, shape_in, shape_out, extra), (pairs_after, branch_needs) in zip(steps, needs):
        if isinstance(layer, Conv):
            linear, size = _conv_linear(state, extra, layer.padding == "CIRCULAR")
            state = _affine(linear, layer, shape_in, size, standard)
        elif isinstance(layer, Dense):
            state = _affine(state, layer, shape_in, shape_in.fan, standard)
        elif isinstance(layer, Activation):
            duals = _dual_function(layer, table)

            def cross(k, t, va, vb, duals=duals):
                e, de = duals(va, vb, k)
                return e, None if t is None else de * t

            state = _pointwise(state, cross, lambda s, va, vb, duals=duals: duals(va, vb, s)[0])
        elif isinstance(layer, LayerNorm):
            def cross(k, t, va, vb):
                scale = jnp.sqrt(va * vb)
                return k / scale, None if t is None else t / scale

            state = _pointwise(state, cross, lambda s, va, vb: s / jnp.sqrt(va * vb))
        elif isinstance(layer, AvgPool):
            state = _pool_linear(state, extra)
        elif isinstance(layer, GlobalAvgPool):
            d = state.d
            state = state.map(lambda a: jnp.mean(a, axis=tuple(range(a.ndim - 2 * d, a.ndim))), d=0, pairs=False)
        elif isinstance(layer, Flatten):
            d = state.d
            if state.pairs:
                state = _to_diagonal(state)
            state = state.map(lambda a: jnp.mean(a, axis=tuple(range(a.ndim - d, a.ndim))) if d else a,
                              d=0, pairs=False)
        else:  # Residual
            branch = _run(extra, branch_needs, state, standard, table)
            if state.pairs and not branch.pairs:
                state = _to_diagonal(state)
            s = layer.scale**2
            state = state.replace(*(None if b is None else (s * b if a is None else a + s * b)
                                    for a, b in zip((state.k, state.t, state.s1, state.s2),
                                                    (branch.k, branch.t, branch.s1, branch.s2))))
        if state.pairs and not pairs_after and state.d:
            state = _to_diagonal(state)
    return state


def _input_state(x1, x2, symmetric: bool, pairs: bool, precision) -> _State:
    n1, *spatial, c = x1.shape
    d, p = len(spatial), math.prod(spatial)
    f1, f2 = x1.reshape(n1, p, c), x2.reshape(x2.shape[0], p, c)
    if symmetric:  # one row per pair i <= j
        i, j = np.triu_indices(n1)
        a, b = f1[i], f1[j]
        if pairs:
            k = jnp.einsum("nac,nbc->nab", a, b, precision=precision).reshape((len(i),) + tuple(spatial) * 2) / c
        else:
            k = (jnp.einsum("nac,nac->na", a, b, precision=precision) / c).reshape((len(i), *spatial))
        return _State(k, None, None, None, d, pairs, (i, j))
    if pairs:
        k = jnp.einsum("nac,mbc->nmab", f1, f2, precision=precision) / c
        k = k.reshape(k.shape[:2] + tuple(spatial) * 2)
        selves = [jnp.einsum("nac,nbc->nab", f, f, precision=precision).reshape((f.shape[0],) + tuple(spatial) * 2) / c
                  for f in (f1, f2)]
    else:
        k = (jnp.einsum("nac,mac->nma", f1, f2, precision=precision) / c).reshape((n1, x2.shape[0], *spatial))
        selves = [(jnp.sum(f * f, axis=-1) / c).reshape((f.shape[0], *spatial)) for f in (f1, f2)]
    return _State(k, None, selves[0], selves[1], d, pairs)


@functools.partial(jax.jit, static_argnames=("architecture", "symmetric", "precision", "table"))
def _architecture_kernels(x1, x2, *, architecture, symmetric, precision, table):
    steps = architecture._plan(x1.shape[1:-1])
    first_pairs, needs = _needs_pairs(steps, False)
    state = _input_state(x1, x2, symmetric, first_pairs and len(x1.shape) > 2, precision)
    state = _run(steps, needs, state, architecture.parameterization == "standard", table)
    k, t = state.k, jnp.zeros_like(state.k) if state.t is None else state.t
    if state.packed is not None:
        i, j = state.packed
        n = x1.shape[0]
        k, t = (jnp.zeros((n, n), a.dtype).at[i, j].set(a).at[j, i].set(a) for a in (k, t))
    return Kernels(k, t)


# --- the public object ----------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Architecture:
    """A network as a sequence of layer records; see :func:`serial`."""

    layers: tuple
    parameterization: str = "ntk"

    def _plan(self, spatial: tuple):
        shape = _Shape(tuple(spatial) if spatial else (), gaussian=False, hidden=False)
        steps = _walk(self.layers, shape)
        end = steps[-1][2]
        if end.spatial:
            raise ValueError(f"serial(...) ends with positions (spatial shape {end.spatial} after layer "
                             f"{len(steps) - 1}, {self.layers[-1]!r}); end with Flatten or GlobalAvgPool "
                             "(then Dense)")
        return steps

    def _checked(self, x1, x2):
        from analytic.kernels._fc import _check_inputs  # finite values, a clear message

        x1 = jnp.asarray(x1)
        if x1.ndim < 2:
            raise ValueError(f"x1 must be (N, *spatial, channels), got shape {x1.shape}")
        _check_inputs("x1", x1.reshape(x1.shape[0], -1))
        if x1.shape[-1] < 1 or x1.shape[0] < 1:
            raise ValueError(f"x1 must have at least one sample and one channel, got shape {x1.shape}")
        symmetric = x2 is None or x2 is x1
        if not symmetric:
            x2 = jnp.asarray(x2)
            if x2.ndim != x1.ndim or x2.shape[1:] != x1.shape[1:]:
                what = "channels" if x2.shape[1:-1] == x1.shape[1:-1] and x2.ndim == x1.ndim else "shape"
                raise ValueError(f"x2 has shape {x2.shape} but x1 has {x1.shape}: the {what} must match "
                                 "(all but the number of samples)")
            _check_inputs("x2", x2.reshape(x2.shape[0], -1))
        self._plan(x1.shape[1:-1])  # validates the layers against the shapes
        dtype = jnp.result_type(x1, x1 if symmetric else x2)
        if not jnp.issubdtype(dtype, jnp.floating):
            dtype = jnp.result_type(float)
        x1 = x1.astype(dtype)
        return x1, (x1 if symmetric else x2.astype(dtype)), symmetric

    def _fc_spec(self, ndim: int):
        """(depth, activation, sigma_w, sigma_b) when this is fc_kernels' network, else None."""
        layers = self.layers
        if ndim != 2 or len(layers) < 3 or len(layers) % 2 == 0:
            return None
        dense, acts = layers[0::2], layers[1::2]
        if not all(type(layer) is Dense and layer == dense[0] for layer in dense):
            return None
        if not all(type(a) is Activation and a.activation in ("relu", "erf") and a.order is None and a == acts[0]
                   for a in acts):
            return None
        return len(acts), acts[0].activation, dense[0].sigma_w, dense[0].sigma_b

    def kernels(self, x1, x2=None, *, precision=_HIGHEST) -> Kernels:
        r"""``Kernels(nngp, ntk)`` of the output, each (N1, N2), dtype following the inputs.

        ``x1`` (N1, *spatial, channels), ``x2`` likewise or None (K(x1, x1)). ``precision``
        is passed to the input-layer dot products. A Dense-only network (Dense, Activation
        relu/erf, ..., Dense with equal sigmas, 2-D inputs) is evaluated by
        :func:`fc_kernels`' scale-free path (the same numbers)."""
        x1, x2, symmetric = self._checked(x1, x2)
        spec = self._fc_spec(x1.ndim)
        if spec is not None:
            from analytic.kernels._fc import fc_kernels
            depth, activation, sigma_w, sigma_b = spec
            return fc_kernels(x1, None if symmetric else x2, depth, activation, sigma_w, sigma_b,
                              self.parameterization, precision=precision)
        return _architecture_kernels(x1, x2, architecture=self, symmetric=symmetric, precision=precision,
                                     table=_quadrature_table(self.layers))

    def latex(self) -> str:
        """The per-layer maps of the recursion, one LaTeX line per layer."""
        from analytic.kernels._architecture_latex import layer_latex
        lines = [r"K^{0}(p,p') = \frac{x(p)\cdot x'(p')}{C},\ \Theta^{0} = 0"]
        lines += [layer_latex(layer, i + 1, self.parameterization) for i, layer in enumerate(self.layers)]
        return " \\\\\n".join(lines)


def serial(*layers, parameterization: str = "ntk") -> Architecture:
    r"""An architecture from layer records (``kernels.Dense``, ``Conv``, ``Activation``, ``AvgPool``,
    ``GlobalAvgPool``, ``Flatten``, ``Residual``, ``LayerNorm``), applied in order.

    ``.kernels(x1, x2=None)`` returns the output layer's ``Kernels(nngp, ntk)`` (see the module
    docstring for the per-layer maps and conventions); ``.latex()`` prints the recursion.
    ``parameterization``: "ntk" (default) or "standard" ($\lim \Theta_{SP}/n$, as ``fc_kernels``).
    The layers are validated against the input's shape at ``.kernels`` (a ValueError names the
    layer's index and the shapes).

    Example:
        >>> from analytic import kernels
        >>> net = kernels.serial(kernels.Conv(3, 1.4, 0.1), kernels.Activation("relu"),
        ...                      kernels.GlobalAvgPool(), kernels.Dense(1.4, 0.1))
        >>> x = jax.random.normal(jax.random.key(0), (4, 8, 3))    # 4 signals, 8 positions, 3 channels
        >>> net.kernels(x).ntk.shape
        (4, 4)
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization = {parameterization!r} is unknown; valid: {PARAMETERIZATIONS}")
    if not layers:
        raise ValueError("serial() needs at least one layer")
    for i, layer in enumerate(layers):
        if not isinstance(layer, LAYER_TYPES):
            raise TypeError(f"layer {i} = {layer!r} is not a layer record (kernels.Dense, Conv, ...)")
    return Architecture(tuple(layers), parameterization)
