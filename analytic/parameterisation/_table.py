r"""The named parameterisations as abc exponents per layer (SGD), and the conditions on them.

Each entry maps a layer (``"in"``, ``"hid"``, ``"out"``) to its exponents ``(a, b, c)``: multiplier
``width^-a``, initialisation standard deviation ``width^-b``, learning rate
``learning_rate * width^-c``. An abc-parameterisation is defined up to the symmetry
$(a, b, c) \to (a + \theta, b - \theta, c - 2\theta)$ of one layer, which leaves SGD's function
space dynamics unchanged (Yang & Hu, arXiv:2011.14522v3, sec. 3, eq. (5) and the text around it;
equation number unconfirmed); we write each as in Yang & Hu's Table 1 (version v3; the
mean-field row is the two-layer scaling of Mei, Montanari & Nguyen, arXiv:1804.06561v2, and
Tensor Programs V, arXiv:2203.03466v2, Table 3 gives muP with all a = 0, which is this row
moved by the symmetry; numbers of the tables unconfirmed).

* ``standard``: PyTorch's default; stable only for ``learning_rate ~ width^-1``;
* ``ntk``: Jacot et al.'s; the kernel regime;
* ``mup``: the maximal-update parameterisation (every layer's features move by Theta(1));
* ``mup_adam``: muP for Adam (learning-rate exponents differ: Adam's update does not scale with the
  gradient); Tensor Programs V's Table 3 writes it with all a = 0 (Adam's symmetry is
  $(a, b, c) \to (a + \theta, b - \theta, c - \theta)$);
* ``ntk_adam`` (two-layer): the NTK parameterisation trained by Adam at its largest stable
  scaling, learning rate ``~ width^-1/2`` in every layer (``adam_max_learning_rate_exponent``);
* ``mean_field``: ``f = (1/width) sum_i a_i phi(w_i . x)`` with ``learning_rate ~ width``
  (two-layer networks: no hidden-to-hidden layer; at depth one it is muP moved by the symmetry);
* ``standard_inverse_width_lr``: the standard parameterisation at its largest stable scaling,
  learning rate ``~ 1/width`` in every layer (Yang & Hu: in the kernel regime, r = 1/2);
* ``standard_readout_lr_width`` and ``standard_readout_lr_width2`` (two-layer): the standard
  parameterisation with the readout's learning rate multiplied by the width, or its square
  (deliberately badly scaled: the largest stable learning rate falls as ``width^-2``, ``width^-3``;
  they test the exponents away from the named parameterisations).

Example:
    >>> PARAMETERISATIONS["mup"]["out"]
    (1/2, 1/2, 0)
"""

from __future__ import annotations

import sympy as sp

from analytic.parameterisation._symbols import a_hid, a_in, a_out, b_hid, b_in, b_out, c_hid, c_in, c_out

_HALF = sp.Rational(1, 2)
_0 = sp.Integer(0)
PARAMETERISATIONS: dict[str, dict[str, tuple]] = {
    "standard": {"in": (_0, _0, _0), "hid": (_0, _HALF, _0), "out": (_0, _HALF, _0)},
    "ntk": {"in": (_0, _0, _0), "hid": (_HALF, _0, _0), "out": (_HALF, _0, _0)},
    "mup": {"in": (-_HALF, _HALF, _0), "hid": (_0, _HALF, _0), "out": (_HALF, _HALF, _0)},
    "mup_adam": {"in": (-_HALF, _HALF, _HALF), "hid": (_0, _HALF, sp.Integer(1)), "out": (_HALF, _HALF, _HALF)},
    "ntk_adam": {"in": (_0, _0, _HALF), "out": (_HALF, _0, _HALF)},
    "mean_field": {"in": (_0, _0, -sp.Integer(1)), "out": (sp.Integer(1), _0, -sp.Integer(1))},
    "standard_inverse_width_lr": {"in": (_0, _0, sp.Integer(1)), "hid": (_0, _HALF, sp.Integer(1)),
                                  "out": (_0, _HALF, sp.Integer(1))},
    "standard_readout_lr_width": {"in": (_0, _0, _0), "hid": (_0, _HALF, _0), "out": (_0, _HALF, -sp.Integer(1))},
    "standard_readout_lr_width2": {"in": (_0, _0, _0), "out": (_0, _HALF, -sp.Integer(2))},
}

LAYER_SYMBOLS = {"in": (a_in, b_in, c_in), "hid": (a_hid, b_hid, c_hid), "out": (a_out, b_out, c_out)}


def values(name: str) -> dict[sp.Symbol, sp.Rational]:
    """``{a_in: ..., b_in: ..., ...}`` of a named parameterisation (its layers only)."""
    if name not in PARAMETERISATIONS:
        raise ValueError(f"parameterisation = {name!r} is unknown; valid: {tuple(PARAMETERISATIONS)}")
    return {s: v for layer, abc in PARAMETERISATIONS[name].items() for s, v in zip(LAYER_SYMBOLS[layer], abc)}


def table() -> sp.Matrix:
    """The parameterisations as a sympy Matrix, one row per name: a, b, c of input, hidden, readout
    (``nan`` where a two-layer parameterisation has no hidden layer)."""
    header = [sp.Symbol("name")] + [s for layer in ("in", "hid", "out") for s in LAYER_SYMBOLS[layer]]
    rows = [header]
    for name, layers in PARAMETERISATIONS.items():
        row = [sp.Symbol(name)]
        for layer in ("in", "hid", "out"):
            row += list(layers.get(layer, (sp.nan,) * 3))
        rows.append(row)
    return sp.Matrix(rows)
