r"""Each layer's per-pair map as a sympy expression and its LaTeX (for :meth:`Architecture.latex`).

Built on demand (never at import); the activation maps are the catalogue's Formulas
(``kernels.relu_nngp``, ``kernels.erf_nngp`` and their Price derivatives) where they exist.
"""

from __future__ import annotations

import sympy as sp

from analytic.kernels._layers import (Activation, AvgPool, Conv, Dense, Flatten, GlobalAvgPool, LayerNorm,
                                      Residual)

__all__ = ["layer_equations", "layer_latex"]


def _symbols(index: int):
    k_in, t_in = sp.Function(f"K^{{{index - 1}}}"), sp.Function(rf"\Theta^{{{index - 1}}}")
    k_out, t_out = sp.Function(f"K^{{{index}}}"), sp.Function(rf"\Theta^{{{index}}}")
    return k_in, t_in, k_out, t_out


def layer_equations(layer, index: int, parameterization: str = "ntk") -> tuple[sp.Eq, sp.Eq]:
    """(NNGP map, NTK map) of ``layer`` as sympy equations between layer ``index - 1`` and ``index``."""
    p, q, o, i, j = sp.symbols("p p' o i j")
    k_in, t_in, k_out, t_out = _symbols(index)
    standard = parameterization == "standard"
    if isinstance(layer, (Dense, Conv)):
        w, b = sp.Float(layer.sigma_w, 4), sp.Float(layer.sigma_b, 4)
        if isinstance(layer, Conv):
            size = sp.Symbol("|F|")
            k_lin = sp.Sum(k_in(p + o, q + o), (o, sp.Symbol("F_{lo}"), sp.Symbol("F_{hi}"))) / size
            t_lin = sp.Sum(t_in(p + o, q + o), (o, sp.Symbol("F_{lo}"), sp.Symbol("F_{hi}"))) / size
        else:
            size = 1
            k_lin, t_lin = k_in(p, q), t_in(p, q)
        k_new = w**2 * k_lin + b**2
        extra = size * k_lin if standard else k_out(p, q)
        return sp.Eq(k_out(p, q), k_new), sp.Eq(t_out(p, q), w**2 * t_lin + extra)
    if isinstance(layer, Activation):
        from analytic.kernels._symbols import k11, k12, k22
        name = layer.activation if isinstance(layer.activation, str) else getattr(layer.activation, "__name__", "phi")
        if name in ("relu", "erf"):
            from analytic.kernels._duals import FORMULAS
            nngp = FORMULAS[f"{name}_nngp"]().expr
            slope = FORMULAS[f"{name}_derivative"]().expr
        else:
            u = sp.Symbol("u")
            phi = sp.Function(rf"\phi_{{\mathrm{{{name}}}}}")
            nngp = sp.Function("E")(phi(u) * phi(sp.Symbol("v")))
            slope = sp.Function("E")(sp.Derivative(phi(u), u) * sp.Derivative(phi(sp.Symbol("v")), sp.Symbol("v")))
        subs = {k11: k_in(p, p), k22: k_in(q, q), k12: k_in(p, q)}
        return (sp.Eq(k_out(p, q), nngp.subs(subs)),
                sp.Eq(t_out(p, q), slope.subs(subs) * t_in(p, q)))
    if isinstance(layer, LayerNorm):
        scale = sp.sqrt(k_in(p, p) * k_in(q, q))
        return sp.Eq(k_out(p, q), k_in(p, q) / scale), sp.Eq(t_out(p, q), t_in(p, q) / scale)
    if isinstance(layer, AvgPool):
        w = sp.Symbol("|W|")
        wl, wh = sp.Symbol("W_{lo}"), sp.Symbol("W_{hi}")
        return tuple(sp.Eq(out(p, q), sp.Sum(f(p + i, q + j), (i, wl, wh), (j, wl, wh)) / w**2)
                     for out, f in ((k_out, k_in), (t_out, t_in)))
    if isinstance(layer, GlobalAvgPool):
        n = sp.Symbol("P")
        return tuple(sp.Eq(out(), sp.Sum(f(p, q), (p, 1, n), (q, 1, n)) / n**2)
                     for out, f in ((k_out, k_in), (t_out, t_in)))
    if isinstance(layer, Flatten):
        n = sp.Symbol("P")
        return tuple(sp.Eq(out(), sp.Sum(f(p, p), (p, 1, n)) / n) for out, f in ((k_out, k_in), (t_out, t_in)))
    if isinstance(layer, Residual):
        s = sp.Float(layer.scale, 4)
        branch_k, branch_t = sp.Function("K_{g}"), sp.Function(r"\Theta_{g}")
        return (sp.Eq(k_out(p, q), k_in(p, q) + s**2 * branch_k(p, q)),
                sp.Eq(t_out(p, q), t_in(p, q) + s**2 * branch_t(p, q)))
    raise TypeError(f"{layer!r} is not a layer record")


def layer_latex(layer, index: int, parameterization: str = "ntk") -> str:
    """LaTeX of :func:`layer_equations`, NNGP and NTK maps on one line (a Residual lists its branch)."""
    nngp, ntk = layer_equations(layer, index, parameterization)
    line = rf"\text{{{type(layer).__name__}}}:\ {sp.latex(nngp)},\quad {sp.latex(ntk)}"
    if isinstance(layer, Residual):
        inner = [layer_latex(b, index, parameterization) for b in layer.branch]
        line += r" \\ \quad g:\ " + r" \\ \quad ".join(inner)
    return line
