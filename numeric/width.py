r"""Finite-width networks at initialisation: the output and the empirical NTK over random draws.

Independent of ``analytic``. A bias-free fully-connected network of depth $L$ (weight
matrices) and width $n$ in NTK parameterisation, scalar output:
$$z^1 = \sigma_w W^1 x/\sqrt{n_0},\qquad z^{l+1} = \sigma_w W^{l+1}\phi(z^l)/\sqrt n,\qquad
f = z^L,\qquad W^l_{ij}\sim N(0, 1),$$
with $\sigma_w^2 = 2$ for ReLU (He) and $\sigma_w^2 = 1$ for the linear network, so that the
forward variance neither grows nor shrinks with depth. The empirical NTK at one input is
$\Theta(x, x) = \lVert\nabla_\theta f(x)\rVert^2$, taken here by ``jax.jacrev`` (no formula).

One draw serves every depth $2, \dots, L_{\max}$ at once: the hidden layers are shared and
the depth-$L$ network reads its output from hidden layer $L-1$ through its own readout
vector (independent across depths). Each depth's marginal law is exactly the depth-$L$
network's; values at different depths of one draw are correlated, which is why the
statistics of a sweep are bootstrapped over draws (whole rows), never per cell.

Example:
    >>> run = init_fluctuations(0, "linear", width=8, max_depth=3, inits=4)
    >>> run.ntk.shape, [int(d) for d in run.depth]
    ((4, 2), [2, 3])
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric import taylor
from numeric.run_bound import RUN_BOUND

__all__ = ["ACTIVATIONS", "InitFluctuations", "init_fluctuations", "relative_variance", "excess_kurtosis",
           "kurtosis_from_variance",
           "bootstrap"]

ACTIVATIONS = {"relu": 2.0, "linear": 1.0}  # the activation's sigma_w^2 (He for ReLU; 1 for linear)


class InitFluctuations(NamedTuple):
    """Draws of a depth sweep at initialisation (one row per random initialisation)."""

    depth: np.ndarray  # (D,) the depths 2 .. max_depth
    outputs: np.ndarray  # (inits, D) the network output f(x) of each depth
    ntk: np.ndarray  # (inits, D) the empirical NTK Theta(x, x) of each depth
    output_variance: np.ndarray  # (inits, D) E[f^2 | hidden layers] = sigma_w^2 |a^(L-1)|^2 / n (readout averaged)


def _check(activation, width, max_depth, inits, in_dim, chunk, padded_width):
    if activation not in ACTIVATIONS:
        raise ValueError(f"init_fluctuations: activation = {activation!r} is unknown; valid: {tuple(ACTIVATIONS)}")
    for name, value, low in (("width", width, 1), ("max_depth", max_depth, 2), ("inits", inits, 2),
                             ("in_dim", in_dim, 1), ("chunk", chunk, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"init_fluctuations: {name} = {value!r} must be an integer >= {low}")
    if padded_width is not None and (int(padded_width) != padded_width or padded_width < width):
        raise ValueError(f"init_fluctuations: padded_width = {padded_width!r} must be an integer >= width = {width}")


def _forward(params, x, relu, width, shifts):
    """f(x) of every depth 2 .. max_depth, and |a^k|^2 / n_k of the input to every layer.

    ``relu`` (1.0 or 0.0) picks ReLU or the identity; ``width`` is the true width (the arrays
    may be zero-padded beyond it: a padded unit has zero weights in and out, so it stays 0).
    ``shifts`` (max_depth - 1, padded width) is added to the hidden pre-activations z^1, z^2, ...
    (zero: its gradient is the backpropagated delta^l = df/dz^l).
    """
    scale = jnp.sqrt(1.0 + relu)  # sigma_w^2 = 2 for ReLU, 1 for linear

    def phi(z):
        return jnp.where(relu > 0, jax.nn.relu(z), z)

    first, hidden, readouts = params
    a = phi(scale * first @ x / jnp.sqrt(x.shape[0]) + shifts[0])
    norm = jnp.sqrt(width)

    def layer(a, weights):
        matrix, readout, shift = weights
        nxt = phi(scale * matrix @ a / norm + shift)
        return nxt, (scale * readout @ nxt / norm, jnp.sum(nxt**2) / width)

    _, (deeper, sizes) = jax.lax.scan(layer, a, (hidden, readouts[1:], shifts[1:]))
    outputs = jnp.concatenate([(scale * readouts[0] @ a / norm)[None], deeper])
    sizes = jnp.concatenate([jnp.stack([jnp.mean(x**2), jnp.sum(a**2) / width]), sizes])
    return outputs, sizes


def _ntk_and_outputs(params, x, relu, width):
    r"""Outputs and $\Theta(x,x)$ of every depth, from the backpropagated $\delta^l = \partial f/\partial z^l$.

    A dense layer's weight gradient is an outer product, $\partial f/\partial W^l_{ij} =
    \sigma_w \delta^l_i a^{l-1}_j/\sqrt{n_{l-1}}$, so $\lVert\partial f/\partial W^l\rVert^2 =
    \sigma_w^2\lVert\delta^l\rVert^2\lVert a^{l-1}\rVert^2/n_{l-1}$ (the readout's: $\sigma_w^2
    \lVert a^{L-1}\rVert^2/n$); tests/test_width.py checks this against ``jax.jacrev`` in all
    the weights. ``jax.jacrev`` in the shifts gives every depth's deltas at once.
    """
    depths, padded = params[2].shape
    shifts = jnp.zeros((depths, padded), x.dtype)
    deltas = jax.jacrev(lambda s: _forward(params, x, relu, width, s)[0])(shifts)  # (depth, layer, unit)
    outputs, sizes = _forward(params, x, relu, width, shifts)
    backward = jnp.sum(deltas**2, axis=2) @ sizes[:-1]  # sum_l |delta^l|^2 |a^(l-1)|^2 / n
    return outputs, (1.0 + relu) * (backward + sizes[1:]), (1.0 + relu) * sizes[1:]


def _weights_ntk(params, x, relu, width):
    """Theta(x, x) of every depth by ``jax.jacrev`` in all the weights (the definition; for tests)."""
    depths, padded = params[2].shape
    shifts = jnp.zeros((depths, padded), x.dtype)
    jac = jax.jacrev(lambda p: _forward(p, x, relu, width, shifts)[0])(params)
    return sum(jnp.sum(j.reshape(depths, -1) ** 2, axis=1) for j in jac)


@functools.partial(jax.jit, compiler_options=RUN_BOUND)
def _chunk(params, x, relu, width):
    return jax.vmap(_ntk_and_outputs, in_axes=(0, None, None, None))(params, x, relu, width)


def init_fluctuations(seed: int, activation: str, width: int, max_depth: int, inits: int, in_dim: int = 4,
                      chunk: int = 100, padded_width: int | None = None, dtype=None) -> InitFluctuations:
    """Outputs and empirical NTKs of ``inits`` random networks, every depth 2 .. ``max_depth``.

    ``activation`` is ``"relu"`` (sigma_w^2 = 2) or ``"linear"`` (sigma_w^2 = 1); the input is
    ``x = (1, ..., 1)`` of dimension ``in_dim``. The weights are drawn by numpy from ``seed``
    (cheaper to compile than a vmapped ``jax.random``), ``chunk`` networks per jitted call
    (``inits`` is rounded up to a multiple of it); float64 when x64 is enabled. With
    ``padded_width`` the arrays are zero-padded to that width, so that one compiled function
    serves every width of a sweep (and both activations). ``dtype`` defaults to JAX's default float
    (float64 under x64); float32 halves the cost where Monte Carlo error dominates round-off.
    """
    _check(activation, width, max_depth, inits, in_dim, chunk, padded_width)
    chunk, width = min(int(chunk), int(inits)), int(width)
    padded = width if padded_width is None else int(padded_width)
    rng = np.random.default_rng(seed)
    dtype = jnp.result_type(float) if dtype is None else jnp.dtype(dtype)
    x = jnp.ones(int(in_dim), dtype=dtype)
    outputs, ntk, variance = [], [], []
    for _ in range(-(-int(inits) // chunk)):
        draw = np.float32 if dtype == jnp.float32 else np.float64
        first = rng.standard_normal((chunk, width, in_dim), dtype=draw)
        hidden = rng.standard_normal((chunk, max_depth - 2, width, width), dtype=draw)
        readouts = rng.standard_normal((chunk, max_depth - 1, width), dtype=draw)
        params = (np.zeros((chunk, padded, in_dim), dtype), np.zeros((chunk, max_depth - 2, padded, padded), dtype),
                  np.zeros((chunk, max_depth - 1, padded), dtype))
        params[0][:, :width], params[1][:, :, :width, :width], params[2][:, :, :width] = first, hidden, readouts
        out, theta, var = _chunk(params, x, jnp.asarray(ACTIVATIONS[activation] - 1.0, dtype), jnp.asarray(width, dtype))
        outputs.append(np.asarray(out))
        ntk.append(np.asarray(theta))
        variance.append(np.asarray(var))
    return InitFluctuations(np.arange(2, max_depth + 1), np.concatenate(outputs), np.concatenate(ntk),
                          np.concatenate(variance))


def relative_variance(samples, axis=0):
    """Var / mean^2 along ``axis`` (the population estimator)."""
    samples = np.asarray(samples)
    return np.var(samples, axis=axis) / np.mean(samples, axis=axis) ** 2


def kurtosis_from_variance(variance, axis=0):
    """Excess kurtosis of a mixture of centred Gaussians: 3 E[s^2] / E[s]^2 - 3 for conditional variances s.

    The readout is Gaussian given the hidden layers, so f = sqrt(s) g with g ~ N(0, 1) independent of
    s = E[f^2 | hidden layers]: E f^4 = 3 E s^2 and E f^2 = E s. Averaging the readout out analytically
    (Rao-Blackwell) removes the heavy-tailed f^4 sampling noise; ``excess_kurtosis`` is the plain estimator.
    """
    variance = np.asarray(variance)
    return 3 * np.mean(variance**2, axis=axis) / np.mean(variance, axis=axis) ** 2 - 3.0


def excess_kurtosis(samples, axis=0):
    """E[f^4] / E[f^2]^2 - 3 along ``axis`` (f has mean zero by symmetry: moments about 0)."""
    samples = np.asarray(samples)
    return np.mean(samples**4, axis=axis) / np.mean(samples**2, axis=axis) ** 2 - 3.0


def bootstrap(statistic, rows, resamples: int = 200, seed: int = 0):
    """``statistic(rows)`` and its bootstrap standard error, resampling whole rows (draws).

    ``statistic`` maps an array ``(draws, ...)`` to an array; resampling rows keeps the
    correlation between the depths (columns) of one draw.
    """
    rows = np.asarray(rows)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, rows.shape[0], size=(resamples, rows.shape[0]))
    values = np.stack([np.asarray(statistic(rows[p])) for p in picks])
    return np.asarray(statistic(rows)), values.std(axis=0, ddof=1), values


# --- kernel motion: a two-layer network, its linearised and second-order Taylor models, trained by GD ----------

TRAINED_ACTIVATIONS = ("sin", "tanh", "relu")


class KernelMotion(NamedTuple):
    """Draws of trained two-layer networks and their Taylor models, one column per width.

    Every array but the first three is ``(variants, draws, widths)``: variant ``k`` is the
    activation ``activations[k]`` trained at ``learning_rates[k]``. Draw ``i`` and draw
    ``i + draws/2`` share the first-layer weights and have opposite readouts (antithetic pairs:
    ``f_0`` changes sign, the NTK does not); every variant starts from the same draws.
    """

    widths: np.ndarray  # (widths,)
    activations: tuple  # (variants,)
    learning_rates: np.ndarray  # (variants,)
    ntk_initial: np.ndarray  # Theta(x, x) at initialisation
    ntk_final: np.ndarray  # Theta(x, x) of the network after training
    initial_output: np.ndarray  # f(x) at initialisation
    output: np.ndarray  # the network's f(x) after training
    linear: np.ndarray  # the linearised model's f(x) after the same gradient descent
    quadratic: np.ndarray  # the second-order Taylor model's f(x) after the same gradient descent


_ACTIVATION_FUNCTIONS = {"sin": jnp.sin, "tanh": jnp.tanh, "relu": jax.nn.relu}


def _packed_two_layer(mixture, names, segments, widths):
    """f(params, x) of several independent two-layer networks packed along one unit axis (one output each).

    The activation is ``sum_k mixture[k] * names[k](z)`` with a one-hot ``mixture`` (traced), so that
    several activations share one compiled function. ``segments`` (networks, units) is one-hot:
    network k owns its units and nothing else, so the gradient, the Hessian and the NTK of the packed
    model are block-diagonal and gradient descent on the summed loss trains every network as if alone.
    """
    def apply(params, x):
        z = params["w"] @ x / jnp.sqrt(x.shape[0])
        hidden = sum(mixture[k] * _ACTIVATION_FUNCTIONS[name](z) for k, name in enumerate(names))
        return segments @ (params["a"] * hidden) / jnp.sqrt(widths)

    return apply


@functools.partial(jax.jit, static_argnames=("names", "steps"))
def _train_draws(params, x, segments, widths, target, schedules, mixtures, names, steps):
    targets = jnp.full(widths.shape, target)

    def one(p0, schedule, mixture):
        apply = _packed_two_layer(mixture, names, segments, widths)
        runs = [taylor.gradient_descent(model, p0, x, targets, schedule, steps)
                for model in (apply, taylor.taylor_model(apply, p0, 1), taylor.taylor_model(apply, p0, 2))]
        return (jnp.diag(taylor.empirical_ntk(apply, p0, x)), jnp.diag(runs[0].ntk), apply(p0, x),
                runs[0].outputs, runs[1].outputs, runs[2].outputs)

    over_draws = jax.vmap(one, in_axes=(0, None, None))
    return jax.vmap(over_draws, in_axes=(None, 0, 0))(params, schedules, mixtures)


def kernel_motion(seed: int, widths, draws: int, variants=(("sin", 0.1),), target: float = 2.0, time: float = 2.0,
                  in_dim: int = 3) -> KernelMotion:
    r"""Train ``draws`` two-layer networks of each width on one datum, with their linearised and second-order models.

    The network (NTK parameterisation): $f(x) = n^{-1/2}\sum_{i=1}^n a_i\,\phi(w_i\cdot x/\sqrt{d})$,
    $a_i, w_{ij} \sim N(0, 1)$, one training input $x = (1, \dots, 1) \in \mathbb R^d$ (``in_dim``),
    target $y$ = ``target``, trained by full-batch gradient descent on $\tfrac12(f(x) - y)^2$ up to
    gradient-flow time ``time``: the network and, from the same initialisation by the same steps, its
    Taylor models of order 1 and 2 (``numeric.taylor``). ``variants`` lists ``(activation,
    learning_rate)`` pairs ($\phi$ one of ``"sin"``, ``"tanh"``, ``"relu"``; ``round(time /
    learning_rate)`` steps), all from the same draws. Weights drawn by numpy from ``seed``; draws come
    in antithetic pairs (the readout negated), so ``draws`` must be even. Everything shares one
    compiled function: the widths packed side by side, the learning rates as zero-padded step
    schedules, the activations as a one-hot mixture.

    Example:
        >>> run = kernel_motion(0, widths=(4, 8), draws=4, variants=(("sin", 0.5),), time=1.0)
        >>> run.output.shape, bool(abs(run.output - run.linear).max() < 0.5)
        ((1, 4, 2), True)
    """
    widths, variants = tuple(widths), tuple(tuple(v) for v in variants)
    if not widths or not variants:
        raise ValueError(f"kernel_motion: widths = {widths!r} and variants = {variants!r} must not be empty")
    for name, value, low in (("draws", draws, 2), ("in_dim", in_dim, 1)) + tuple(("widths", n, 1) for n in widths):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"kernel_motion: {name} = {value!r} must be an integer >= {low}")
    if draws % 2:
        raise ValueError(f"kernel_motion: draws = {draws!r} must be even (antithetic pairs)")
    for variant in variants:
        if len(variant) != 2 or variant[0] not in TRAINED_ACTIVATIONS:
            raise ValueError(f"kernel_motion: variant {variant!r} must be (activation, learning_rate) with an "
                             f"activation in {TRAINED_ACTIVATIONS}")
    rates = np.asarray([v[1] for v in variants], float)
    if not np.all(np.isfinite(rates) & (rates > 0)):
        raise ValueError(f"kernel_motion: learning rates {tuple(rates)} must be finite numbers > 0")
    if not (np.isfinite(time) and time > 0):
        raise ValueError(f"kernel_motion: time = {time!r} must be a finite number > 0")
    if not np.isfinite(target):
        raise ValueError(f"kernel_motion: target = {target!r} must be finite")
    counts = np.rint(time / rates).astype(int)
    if np.any(counts < 1) or np.any(np.abs(counts * rates - time) > 1e-9 * time):
        raise ValueError(f"kernel_motion: time = {time!r} must be a whole number of steps of every learning rate "
                         f"{tuple(rates)}")
    steps = int(counts.max())
    schedules = np.where(np.arange(steps)[None, :] < counts[:, None], rates[:, None], 0.0)
    activations = tuple(v[0] for v in variants)
    names = tuple(a for a in TRAINED_ACTIVATIONS if a in activations)
    mixtures = np.asarray([[float(a == name) for name in names] for a in activations])
    dtype = jnp.result_type(float)
    rng = np.random.default_rng(seed)
    half, units = int(draws) // 2, int(sum(widths))
    a = rng.standard_normal((half, units))
    w = rng.standard_normal((half, units, int(in_dim)))
    params = {"a": jnp.asarray(np.concatenate([a, -a]), dtype), "w": jnp.asarray(np.concatenate([w, w]), dtype)}
    owner = np.repeat(np.arange(len(widths)), widths)
    segments = jnp.asarray(owner[None, :] == np.arange(len(widths))[:, None], dtype)
    out = _train_draws(params, jnp.ones(int(in_dim), dtype), segments, jnp.asarray(widths, dtype),
                       jnp.asarray(target, dtype), jnp.asarray(schedules, dtype), jnp.asarray(mixtures, dtype),
                       names, steps)
    return KernelMotion(np.asarray(widths), activations, rates, *(np.asarray(o) for o in out))
