r"""Infinite-width prediction without the N x N kernel matrix: :func:`matrix_free_mean`.

The mean prediction of :func:`infinite_width_mean` (Lee et al. 2019,
arXiv:1902.06720v4, eqs. (9), (15)-(16); summed MSE loss, $f_0 = 0$) is
$$f_t(X) = Y - m_t(\Theta)\,Y,\qquad f_t(x) = \Theta(x, X)\,g_t(\Theta)\,Y,\qquad
g_t(\lambda) = \frac{1 - m_t(\lambda)}{\lambda},$$
with $m_t(\lambda) = e^{-\lambda t}$ (gradient flow, ``linreg.gf_mode_error``) or
$(1-\eta\lambda)^t$ (GD, ``linreg.gd_mode_error``). Only products $\Theta v$ are needed:

* **Kernel mat-vecs** (:func:`kernel_matvec`): $\Theta$ is cut into blocks of
  ``block`` x ``block``; the $B(B+1)/2$ blocks on and above the diagonal are shared
  out over the devices of a mesh (``shard_map``), each block is *recomputed* by the
  per-layer recursion of :func:`fc_kernels` (``_blocked.pair_block_kernels``) and
  contributes $\Theta_{IJ} v_J$ and $\Theta_{IJ}^T v_I$; the partial vectors are summed
  over devices (``psum``). Memory per device O(N k + block^2), never O(N^2); every
  product recomputes the N^2 / 2 entries.
* **t = infinity** (both flow and stable GD): $g_\infty(\Theta)Y = \Theta^{-1}Y$ by
  conjugate gradients (:func:`kernel_cg`), started at 0; train outputs $Y - r_k$. With
  ``preconditioner_rank`` k > 0, CG is preconditioned by $LL^T + D$ from a rank-k pivoted
  Cholesky factor of $\Theta$ (``_preconditioner``: k kernel columns, O(n k) memory).
* **finite t**: $k$ steps of Lanczos with full reorthogonalisation from $q_1 = Y/|Y|$
  give $\Theta Q_k \approx Q_k T_k$ and $h(\Theta)Y \approx |Y|\,Q_k\,h(T_k)\,e_1$
  (Saad 1992, "Analysis of some Krylov subspace approximations to the matrix
  exponential operator", SIAM J. Numer. Anal. 29, eq. (3.3)), for $h = m_t$ and
  $g_t$ at every requested time from one Krylov basis; the Ritz values also give
  $2/\theta_{max} \approx$ :func:`max_learning_rate`.

Accuracy (float64, against the dense eigendecomposition of :func:`infinite_width_mean`;
N = 400 points in d = 5, depth-2 ReLU NTK with $\lambda_{max} = 623$,
cond $= 1.3\times10^4$; max test-output error relative to the largest output). Lanczos,
20 steps: 2e-15 at $\lambda_{max}t = 6$, 1e-4 at 620, 6e-2 at 6200; 40 steps: 2e-14,
3e-5, 2.5e-3. The error falls geometrically once $k \gtrsim \sqrt{\lambda_{max}t}$ and,
for large t, like CG. CG at $t=\infty$ is governed by the condition number: 20 steps 13 %
(relative residual 9 %), 40 steps 0.9 %; ``cg_residual`` reports it, ``tol`` stops it.
Preconditioned (``preconditioner_rank``), 20 steps reach relative residuals of 1e-4 to 1e-3
at n = 4096-24,000 (numbers in ``_preconditioner``); at n = 50,000 see ``benchmarks/RESULTS.md``.
With as many steps as points both agree with the dense path to < 1e-8
(``tests/test_scale_out.py``). Mat-vecs themselves agree with ``fc_kernels(...) @ v`` to
~1e-15 relative.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import NamedSharding, PartitionSpec

from analytic.formula import Formula
from analytic.kernels._blocked import (_axes, _check_block, _prepare, kernel_index, pair_block_kernels,
                                       resolve_mesh)
from analytic.kernels._preconditioner import low_rank_preconditioner, pivoted_cholesky
from analytic.kernels._training import _linreg

__all__ = ["kernel_matvec", "kernel_cg", "MatrixFreePrediction", "matrix_free_mean"]

_HIGHEST = jax.lax.Precision.HIGHEST


@functools.partial(jax.jit, static_argnames=("spec", "which", "symmetric", "mesh"))
def _block_matvec(pair_rows, pair_cols, valid, x_rows, x_cols, v, sigma_w, sigma_b, *, spec, which,
                  symmetric, mesh):
    """sum over the (sharded) block pairs of K_IJ v_J (and K_IJ^T v_I off the diagonal when
    symmetric); x_rows (B1, m, d), x_cols (B2, m, d), v (B2, m, k) -> (B1, m, k), replicated."""
    axes = _axes(mesh)
    m = x_rows.shape[1]

    def local(pair_rows, pair_cols, valid, x_rows, x_cols, v, sigma_w, sigma_b):
        def add(acc, pair):
            i, j, ok = pair
            block = pair_block_kernels(x_rows[i], x_cols[j], i * m, j * m, sigma_w, sigma_b, spec,
                                       symmetric)[which]
            acc = acc.at[i].add(jnp.where(ok, jnp.matmul(block, v[j], precision=_HIGHEST), 0))
            if symmetric:
                mirrored = jnp.matmul(block.T, v[i], precision=_HIGHEST)
                acc = acc.at[j].add(jnp.where(ok & (i != j), mirrored, 0))
            return acc, None

        acc = jnp.zeros((x_rows.shape[0],) + v.shape[1:], v.dtype)
        acc, _ = jax.lax.scan(add, acc, (pair_rows, pair_cols, valid))
        return jax.lax.psum(acc, axes)

    sharded, replicated = PartitionSpec(axes), PartitionSpec()
    fn = jax.shard_map(local, mesh=mesh, in_specs=(sharded,) * 3 + (replicated,) * 5,
                       out_specs=replicated, check_vma=False)
    return fn(pair_rows, pair_cols, valid, x_rows, x_cols, v, sigma_w, sigma_b)


class _Operator:
    """v -> K(x_rows, x_cols) v, blockwise over a mesh (inputs laid out once)."""

    def __init__(self, x_rows, x_cols, sigma_w, sigma_b, spec, symmetric, which, mesh, block):
        self.mesh, self.spec, self.which, self.symmetric = mesh, spec, which, symmetric
        self.n_rows, self.n_cols = x_rows.shape[0], x_cols.shape[0]
        rows, cols = -(-self.n_rows // block), -(-self.n_cols // block)
        if symmetric:
            pairs = [(i, j) for i in range(rows) for j in range(i, rows)]
        else:
            pairs = [(i, j) for i in range(rows) for j in range(cols)]
        extra = -len(pairs) % mesh.size  # padded with a real pair marked invalid
        valid = np.array([True] * len(pairs) + [False] * extra)
        pairs = np.array(pairs + [pairs[0]] * extra, dtype=np.int32).reshape(-1, 2)
        put = functools.partial(jax.device_put, device=NamedSharding(mesh, PartitionSpec(_axes(mesh))))
        self.pair_rows, self.pair_cols, self.valid = put(pairs[:, 0]), put(pairs[:, 1]), put(valid)
        self.block = block
        self.x_rows = self.replicate(self._blocks(x_rows, rows))
        self.x_cols = self.x_rows if symmetric else self.replicate(self._blocks(x_cols, cols))
        self.sigma_w, self.sigma_b = self.replicate(sigma_w), self.replicate(sigma_b)
        self.dtype = x_rows.dtype

    def replicate(self, x):
        """``x`` placed on every device of the mesh."""
        return jax.device_put(x, NamedSharding(self.mesh, PartitionSpec()))

    def _blocks(self, x, count):
        """(n, ...) -> (count, block, ...), padded with zeros (zero points / zero weights)."""
        pad = count * self.block - x.shape[0]
        x = jnp.pad(x, ((0, pad),) + ((0, 0),) * (x.ndim - 1))
        return x.reshape((count, self.block) + x.shape[1:])

    def __call__(self, v):
        v = jnp.asarray(v, self.dtype)
        vector = v.ndim == 1
        v = v[:, None] if vector else v
        blocks = self.replicate(self._blocks(v, -(-self.n_cols // self.block)))
        out = _block_matvec(self.pair_rows, self.pair_cols, self.valid, self.x_rows, self.x_cols, blocks,
                            self.sigma_w, self.sigma_b, spec=self.spec, which=self.which,
                            symmetric=self.symmetric, mesh=self.mesh)
        out = out.reshape((-1, v.shape[1]))[: self.n_rows]
        return out[:, 0] if vector else out


def _operator(x_rows, x_cols, depth, activation, sigma_w, sigma_b, parameterization, kernel, mesh, block):
    which = kernel_index(kernel)
    mesh = resolve_mesh(mesh)
    block = _check_block("block", block)
    x_rows, x_cols, sigma_w, sigma_b, symmetric, spec = _prepare(
        x_rows, x_cols, depth, activation, sigma_w, sigma_b, parameterization, None)
    block = min(block, max(x_rows.shape[0], x_cols.shape[0]))
    return _Operator(x_rows, x_cols, sigma_w, sigma_b, spec, symmetric, which, mesh, block)


def kernel_matvec(x_rows, x_cols, v, depth, activation, sigma_w, sigma_b, parameterization="ntk", *,
                  kernel: str = "ntk", mesh=None, block: int = 512) -> jax.Array:
    r"""$K(x_{rows}, x_{cols})\,v$ (``kernel`` "ntk" or "nngp") without forming K.

    ``x_cols`` None means K(x_rows, x_rows): only the blocks on and above the diagonal are
    computed, each used twice. ``v``: (n_cols,) or (n_cols, k). Blocks of ``block`` x
    ``block`` are shared out over ``mesh`` (a Mesh, a device count, or None for every
    device) and recomputed on every call; the result is replicated on every device.

    Example:
        >>> from analytic.kernels import fc_kernels
        >>> x = jax.random.normal(jax.random.key(0), (30, 3))
        >>> v = jnp.arange(30.0)
        >>> dense = fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk @ v
        >>> bool(jnp.allclose(kernel_matvec(x, None, v, 2, "relu", 1.4, 0.1, mesh=1, block=8), dense))
        True
    """
    op = _operator(x_rows, x_cols, depth, activation, sigma_w, sigma_b, parameterization, kernel, mesh, block)
    v = jnp.asarray(v)
    if v.ndim not in (1, 2) or v.shape[0] != op.n_cols:
        raise ValueError(f"v must be ({op.n_cols},) or ({op.n_cols}, k), got shape {v.shape}")
    return op(v)


def kernel_cg(matvec, b, iterations: int, tol: float = 0.0, preconditioner=None):
    r"""Conjugate gradients for $A x = b$, $A$ symmetric positive definite, from $x_0 = 0$.

    ``matvec(v) = A v``; ``preconditioner(r) = P^{-1} r`` for a symmetric positive definite
    $P \approx A$ (preconditioned CG; e.g. :func:`low_rank_preconditioner`), None for plain CG.
    Stops after ``iterations`` products or when $|r_k| \le$ ``tol`` $|b|$. Returns
    ``(x, r, relative_residuals)`` with the recursively updated residual $r = b - A x$ and
    $|r_k|/|b|$ (unpreconditioned 2-norm) for k = 0..steps.
    """
    apply = (lambda r: r) if preconditioner is None else preconditioner
    x = jnp.zeros_like(b)
    r = b
    z = apply(r)
    p = z
    rz = jnp.vdot(r, z)
    norm_b = float(jnp.linalg.norm(b))
    history = [1.0]
    if norm_b == 0:
        return x, r, np.array(history)
    for _ in range(iterations):
        ap = matvec(p)
        alpha = rz / jnp.vdot(p, ap)
        x = x + alpha * p
        r = r - alpha * ap
        history.append(float(jnp.linalg.norm(r)) / norm_b)
        if history[-1] <= tol:
            break
        z = apply(r)
        new = jnp.vdot(r, z)
        p = z + (new / rz) * p
        rz = new
    return x, r, np.array(history)


def _lanczos(matvec, b, steps: int):
    """Q (n, k), the tridiagonal T (k, k) and |b|: k <= steps Lanczos steps, full
    reorthogonalisation (twice), stopping early when the Krylov space is exhausted. The
    basis lives in one (n, steps) array (unused columns zero), so every step runs the same
    compiled programs."""
    norm_b = jnp.linalg.norm(b)
    q = b / norm_b
    basis = jax.device_put(jnp.zeros((b.shape[0], steps), b.dtype), b.sharding)
    basis = _store(basis, q, 0)
    alphas, betas = [], []
    for k in range(steps):
        w = matvec(q)
        alphas.append(float(jnp.vdot(q, w)))
        w = _orthogonalise(basis, w)
        beta = float(jnp.linalg.norm(w))
        if k == steps - 1 or beta <= 1e-12 * max(abs(a) for a in alphas):
            break
        betas.append(beta)
        q = w / beta
        basis = _store(basis, q, k + 1)
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    return basis[:, : len(alphas)], t, float(norm_b)


@jax.jit
def _store(basis, q, k):
    return basis.at[:, k].set(q)


@jax.jit
def _orthogonalise(basis, w):
    """w minus its projection on the basis' columns, twice (zero columns project nothing)."""
    for _ in range(2):
        w = w - jnp.matmul(basis, jnp.matmul(basis.T, w, precision=_HIGHEST), precision=_HIGHEST)
    return w


def _residual_and_gain(mode_error: Formula, lam, t, eta):
    """m_t(lam) and g_t(lam) = (1 - m_t(lam)) / lam (-> eta t or t as lam -> 0), float64 numpy."""
    lam, t = np.maximum(np.asarray(lam, float), 0)[None, :], np.asarray(t, float)[:, None]
    if eta is None:
        residual = np.asarray(mode_error.jax(lam, t, 1.0), float)
        gain = np.where(lam > 0, -np.expm1(-lam * t) / np.where(lam > 0, lam, 1), t)
    else:
        residual = np.asarray(mode_error.jax(eta, lam, t, 1.0), float)
        contracting = eta * lam < 1
        stable = -np.expm1(t * np.log1p(-np.where(contracting, eta * lam, 0)))
        gain = np.where(lam > 0, np.where(contracting, stable, 1 - residual) / np.where(lam > 0, lam, 1),
                        eta * t)
    return np.broadcast_to(residual, gain.shape), gain


class MatrixFreePrediction(NamedTuple):
    """Mean outputs ``train`` (T, n) and ``test`` (T, m) at the requested times, with
    diagnostics: Lanczos steps and Ritz values (finite times), CG steps and relative
    residuals |Y - Theta alpha_k| / |Y| (infinite times)."""

    train: jax.Array
    test: jax.Array
    lanczos_steps: int
    ritz_values: np.ndarray
    cg_steps: int
    cg_residual: np.ndarray


def matrix_free_mean(x_train, y_train, x_test, times, eta=None, *, depth, activation, sigma_w, sigma_b,
                     parameterization="ntk", iterations: int = 20, tol: float = 0.0, mesh=None,
                     block: int = 512, mode_error: Formula | None = None,
                     preconditioner_rank: int = 0) -> MatrixFreePrediction:
    r"""The mean prediction of :func:`infinite_width_mean` from inputs, without the N x N NTK.

    Args:
        x_train (n, d), y_train (n,), x_test (m, d) or None; times: 1-D, GD step counts
            (``eta`` given) or flow times (``eta`` None); ``inf`` selects the t -> infinity
            limit $\Theta(x,X)\Theta^{-1}Y$ (for GD, valid when eta < 2/lambda_max).
        depth, activation, sigma_w, sigma_b, parameterization: the network, as :func:`fc_kernels`.
        iterations: kernel mat-vecs for Lanczos (finite times) and, separately, for CG (infinite
            times); tol: CG stops at relative residual <= tol. mesh, block: as :func:`kernel_matvec`.
        mode_error: replaces ``linreg.gf_mode_error`` / ``linreg.gd_mode_error``.
        preconditioner_rank: 0 for plain CG; k > 0 preconditions CG (t = inf only) with the
            rank-k pivoted Cholesky factor of Theta (:func:`pivoted_cholesky`, n k kernel
            entries, O(n k) memory; :func:`low_rank_preconditioner`). At n = 50,000 plain CG
            is far from converged after 20 steps; see the module docstring for measurements.

    Memory O((n + m) (block + T) + block^2) per device; each mat-vec recomputes the kernel.
    Cost: ``lanczos_steps + cg_steps`` products with $\Theta(X, X)$ (n^2 / 2 entries
    each) plus one with $\Theta(x, X)$ for all times together.

    Example:
        >>> from analytic.kernels import fc_kernels, infinite_width_mean
        >>> x = jax.random.normal(jax.random.key(0), (40, 3)); y = jnp.sin(x[:, 0])
        >>> p = matrix_free_mean(x, y, x[:5], jnp.array([0.5, jnp.inf]), depth=2, activation="relu",
        ...                      sigma_w=1.4, sigma_b=0.1, iterations=40, mesh=1, block=16)
        >>> ntk = fc_kernels(x, None, 2, "relu", 1.4, 0.1).ntk
        >>> dense = infinite_width_mean(ntk, ntk[:5], y, jnp.array([0.5]))
        >>> bool(jnp.allclose(p.test[0], dense.test[0], rtol=1e-8, atol=1e-10))
        True
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations = {iterations!r} is outside its valid range (integers >= 1)")
    if isinstance(preconditioner_rank, bool) or not isinstance(preconditioner_rank, int) \
            or preconditioner_rank < 0:
        raise ValueError(f"preconditioner_rank = {preconditioner_rank!r} is outside its valid range "
                         "(integers >= 0)")
    op = _operator(x_train, None, depth, activation, sigma_w, sigma_b, parameterization, "ntk", mesh, block)
    y = jnp.asarray(y_train, op.dtype)
    if y.shape != (op.n_rows,):
        raise ValueError(f"y_train must have shape ({op.n_rows},), got {y.shape}")
    if not bool(jnp.all(jnp.isfinite(y))):
        raise ValueError("y_train contains NaN or inf")
    y = op.replicate(y)  # every vector lives on the mesh (also across processes)
    times = np.asarray(times, float)
    if times.ndim != 1 or np.any(np.isnan(times)) or np.any(times < 0):
        raise ValueError(f"times must be 1-D and >= 0 (inf allowed), got {times!r}")
    if eta is not None:
        e = np.asarray(eta, dtype=float)
        if e.shape != () or not np.isfinite(e) or e <= 0:
            raise ValueError(f"eta = {eta!r} is outside its valid range (0, oo)")
        finite_t = times[np.isfinite(times)]
        if not np.all(finite_t == np.round(finite_t)):
            raise ValueError("times must be integer step counts when eta is given (GD)")
        eta = float(eta)
    mode_error = _linreg("gf_mode_error" if eta is None else "gd_mode_error", mode_error)
    finite = np.isfinite(times)
    train = [None] * times.shape[0]
    coefficients = [None] * times.shape[0]  # g_t(Theta) Y per time, for the test pass
    lanczos_steps, ritz, cg_steps, cg_residual = 0, np.zeros(0), 0, np.zeros(0)
    if finite.any():
        basis, tri, norm_y = _lanczos(op, y, iterations)
        lanczos_steps = tri.shape[0]
        ritz, vectors = np.linalg.eigh(tri)
        residual, gain = _residual_and_gain(mode_error, ritz, times[finite], eta)
        first = vectors[0]  # e_1 in the Ritz basis
        train_coef = basis @ op.replicate(np.asarray(norm_y * vectors @ (residual * first).T, op.dtype))
        gain_coef = basis @ op.replicate(np.asarray(norm_y * vectors @ (gain * first).T, op.dtype))
        for k, index in enumerate(np.flatnonzero(finite)):
            train[index] = y - train_coef[:, k]
            coefficients[index] = gain_coef[:, k]
    if (~finite).any():
        preconditioner = None
        if preconditioner_rank:
            low = pivoted_cholesky(x_train, preconditioner_rank, depth, activation, sigma_w, sigma_b,
                                   parameterization)
            preconditioner = low_rank_preconditioner(low._replace(factor=op.replicate(low.factor)))
        alpha, r, cg_residual = kernel_cg(op, y, iterations, tol, preconditioner)
        cg_steps = cg_residual.shape[0] - 1
        for index in np.flatnonzero(~finite):
            train[index] = y - r
            coefficients[index] = alpha
    train = jnp.stack(train)
    if x_test is None:
        test = jnp.zeros((times.shape[0], 0), op.dtype)
    else:
        cross = _operator(x_test, x_train, depth, activation, sigma_w, sigma_b, parameterization, "ntk",
                          op.mesh, op.block)
        test = cross(jnp.stack(coefficients, axis=1)).T
    return MatrixFreePrediction(train, test, lanczos_steps, ritz, cg_steps, cg_residual)
