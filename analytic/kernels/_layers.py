r"""Plain-data layer records of an architecture (no widths, no jax, no sympy).

These records describe a network; :func:`analytic.kernels.serial` turns them into its
infinite-width kernels and ``numeric/architectures.py`` into finite networks of a given
width. This module imports nothing from the toolkit, so that both sides read the same
objects (``numeric`` never imports it: it reads the records by class name and fields).

Conventions (public contract): inputs are ``(N, *spatial, channels)``, channels last;
a ``Conv`` has weights of variance ``sigma_w**2 / (C_in * prod(filter_shape))`` and bias
variance ``sigma_b**2``; ``Dense`` acts on the channels of every position (a 1x1 conv), and
after ``Flatten`` has fan-in ``C * positions``; ``SAME`` pads with zeros (as
``lax.conv_general_dilated``: ``lo = total // 2``), ``CIRCULAR`` wraps around with the same
amounts; ``AvgPool`` with ``SAME`` divides by the full window (padding counted);
``GlobalAvgPool`` is the mean over positions; ``Flatten`` concatenates positions;
``Residual(*branch, scale)`` outputs ``x + scale * branch(x)``; ``LayerNorm`` normalises
over channels at each position, without learnable affine.
"""

from __future__ import annotations

import dataclasses
import math
import numbers

__all__ = ["Dense", "Conv", "Activation", "AvgPool", "GlobalAvgPool", "Flatten", "Residual", "LayerNorm",
           "PADDINGS", "LAYER_TYPES"]

PADDINGS = ("SAME", "VALID", "CIRCULAR")


def _sigma(layer: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{layer}: {name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{layer}: {name} = {value!r} is outside its valid range [0, oo) (a standard deviation)")
    return value


def _sizes(layer: str, name: str, value, allow_none: bool = False):
    """An int or a tuple of ints >= 1 (one per spatial dimension)."""
    if value is None and allow_none:
        return None
    items = (value,) if isinstance(value, numbers.Integral) and not isinstance(value, bool) else value
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{layer}: {name} must be an int or a tuple of ints, got {value!r}") from None
    if not items or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1 for v in items):
        raise ValueError(f"{layer}: {name} = {value!r} must be positive integers (one per spatial dimension)")
    items = tuple(int(v) for v in items)
    return items[0] if isinstance(value, numbers.Integral) else items


def _padding(layer: str, value) -> str:
    if value not in PADDINGS:
        raise ValueError(f"{layer}: padding = {value!r} is unknown; valid: {PADDINGS}")
    return value


@dataclasses.dataclass(frozen=True)
class Dense:
    """Fully-connected layer over channels (at every position): ``W ~ sigma_w / sqrt(fan_in)``, ``b ~ sigma_b``."""

    sigma_w: float
    sigma_b: float

    def __post_init__(self):
        object.__setattr__(self, "sigma_w", _sigma("Dense", "sigma_w", self.sigma_w))
        object.__setattr__(self, "sigma_b", _sigma("Dense", "sigma_b", self.sigma_b))


@dataclasses.dataclass(frozen=True)
class Conv:
    """Convolution with ``filter_shape`` (one size per spatial dimension, or an int)."""

    filter_shape: int | tuple
    sigma_w: float
    sigma_b: float
    strides: int | tuple = 1
    padding: str = "SAME"

    def __post_init__(self):
        object.__setattr__(self, "filter_shape", _sizes("Conv", "filter_shape", self.filter_shape))
        object.__setattr__(self, "sigma_w", _sigma("Conv", "sigma_w", self.sigma_w))
        object.__setattr__(self, "sigma_b", _sigma("Conv", "sigma_b", self.sigma_b))
        object.__setattr__(self, "strides", _sizes("Conv", "strides", self.strides))
        object.__setattr__(self, "padding", _padding("Conv", self.padding))


@dataclasses.dataclass(frozen=True)
class Activation:
    """Elementwise nonlinearity: "relu", "erf", "step" (closed forms), any other name the
    quadrature path knows, or a JAX callable; ``order`` = Gauss-Hermite nodes (quadrature only)."""

    activation: object
    order: int | None = None

    def __post_init__(self):
        if not (isinstance(self.activation, str) or callable(self.activation)):
            raise TypeError(f"Activation: activation must be a name or a callable, got {self.activation!r}")


@dataclasses.dataclass(frozen=True)
class AvgPool:
    """Average over windows of ``window`` positions (``strides`` default: the window)."""

    window: int | tuple
    strides: int | tuple | None = None
    padding: str = "VALID"

    def __post_init__(self):
        object.__setattr__(self, "window", _sizes("AvgPool", "window", self.window))
        object.__setattr__(self, "strides", _sizes("AvgPool", "strides", self.strides, allow_none=True))
        object.__setattr__(self, "padding", _padding("AvgPool", self.padding))


@dataclasses.dataclass(frozen=True)
class GlobalAvgPool:
    """Mean over all positions."""


@dataclasses.dataclass(frozen=True)
class Flatten:
    """Concatenate positions and channels (the next Dense has fan-in C * positions)."""


@dataclasses.dataclass(frozen=True)
class LayerNorm:
    """Normalise over channels at each position (mean 0, variance 1), no learnable affine."""


@dataclasses.dataclass(frozen=True, init=False)
class Residual:
    """``x + scale * branch(x)``; the branch must end in Dense or Conv and keep the shape."""

    branch: tuple
    scale: float = 1.0

    def __init__(self, *branch, scale: float = 1.0):
        if not branch:
            raise ValueError("Residual: the branch is empty; it must end in Dense or Conv")
        for i, layer in enumerate(branch):
            if not isinstance(layer, LAYER_TYPES):
                raise TypeError(f"Residual: branch layer {i} = {layer!r} is not a layer record")
        if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
            raise ValueError(f"Residual: scale = {scale!r} must be a finite real number")
        object.__setattr__(self, "branch", tuple(branch))
        object.__setattr__(self, "scale", float(scale))


LAYER_TYPES = (Dense, Conv, Activation, AvgPool, GlobalAvgPool, Flatten, LayerNorm, Residual)
