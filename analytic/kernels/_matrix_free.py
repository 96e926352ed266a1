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
  contributes $\Theta_{IJ} v_J$ and $\Theta_{IJ}^T v_I$ (an architecture's blocks:
  ``_blocked.pair_block_kernels`` with ``architecture=``); the partial vectors are summed
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
from analytic.kernels._blocked import (_axes, _check_block, kernel_index, pad_rows, pair_block_kernels,
                                       prepare_network, resolve_mesh)
from analytic.kernels._preconditioner import LowRankFactor, _pivoted_cholesky, low_rank_preconditioner
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
    """v -> K(x_rows, x_cols) v, blockwise over a mesh (inputs prepared and laid out once)."""

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
        self.x_rows = self.replicate(_point_blocks(x_rows, count=rows, block=block, spec=spec))
        self.x_cols = self.x_rows if symmetric else self.replicate(_point_blocks(x_cols, count=cols, block=block,
                                                                                  spec=spec))
        self.sigma_w, self.sigma_b = self.replicate(sigma_w), self.replicate(sigma_b)
        self.dtype = x_rows.dtype

    def replicate(self, x):
        """``x`` placed on every device of the mesh."""
        return jax.device_put(x, NamedSharding(self.mesh, PartitionSpec()))

    def __call__(self, v, transpose: bool = False):
        """K v for v (n_cols,) or (n_cols, k); ``transpose``: (K v)^T (one compiled program)."""
        v = self.replicate(jnp.asarray(v, self.dtype))
        return _apply(self.pair_rows, self.pair_cols, self.valid, self.x_rows, self.x_cols, v, self.sigma_w,
                      self.sigma_b, spec=self.spec, which=self.which, symmetric=self.symmetric, mesh=self.mesh,
                      n_rows=self.n_rows, transpose=transpose)


@functools.partial(jax.jit, static_argnames=("count", "block", "spec"))
def _point_blocks(x, *, count, block, spec):
    """(n, ...) points -> (count, block, ...), padded (``_blocked.pad_rows``)."""
    x = pad_rows(x, count * block - x.shape[0], spec)
    return x.reshape((count, block) + x.shape[1:])


@functools.partial(jax.jit, static_argnames=("spec", "which", "symmetric", "mesh", "n_rows", "transpose"))
def _apply(pair_rows, pair_cols, valid, x_rows, x_cols, v, sigma_w, sigma_b, *, spec, which, symmetric, mesh,
           n_rows, transpose):
    """The whole product in one program: v laid out in blocks (zero-padded), the block
    mat-vecs, the padding cut off."""
    count, block = x_cols.shape[:2]
    vector = v.ndim == 1
    v2 = v[:, None] if vector else v
    blocks = jnp.pad(v2, ((0, count * block - v2.shape[0]), (0, 0))).reshape(count, block, v2.shape[1])
    out = _block_matvec(pair_rows, pair_cols, valid, x_rows, x_cols, blocks, sigma_w, sigma_b, spec=spec,
                        which=which, symmetric=symmetric, mesh=mesh)
    out = out.reshape((-1, v2.shape[1]))[:n_rows]
    out = out[:, 0] if vector else out
    return out.T if transpose else out


def _prepared_operator(x_rows, x_cols, sigma_w, sigma_b, spec, symmetric, kernel, mesh, block):
    """The operator of inputs already validated and prepared (``_blocked.prepare_network``)."""
    which = kernel_index(kernel)
    mesh = resolve_mesh(mesh)
    block = _check_block("block", block)
    block = min(block, max(x_rows.shape[0], x_cols.shape[0]))
    return _Operator(x_rows, x_cols, sigma_w, sigma_b, spec, symmetric, which, mesh, block)


def _operator(x_rows, x_cols, depth, activation, sigma_w, sigma_b, parameterization, kernel, mesh, block, *,
              architecture=None):
    kernel_index(kernel)
    x_rows, x_cols, sigma_w, sigma_b, symmetric, spec = prepare_network(
        x_rows, x_cols, architecture, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
        parameterization=parameterization)
    return _prepared_operator(x_rows, x_cols, sigma_w, sigma_b, spec, symmetric, kernel, mesh, block)


def kernel_matvec(x_rows, x_cols, v, depth=None, activation=None, sigma_w=None, sigma_b=None, parameterization=None,
                  *, kernel: str = "ntk", mesh=None, block: int = 512, architecture=None) -> jax.Array:
    r"""$K(x_{rows}, x_{cols})\,v$ (``kernel`` "ntk" or "nngp") without forming K.

    The network: ``depth, activation, sigma_w, sigma_b, parameterization`` as
    :func:`fc_kernels` (``parameterization`` None means "ntk"), or instead
    ``architecture=kernels.serial(...)`` (inputs (n, *spatial, channels)).
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
    op = _operator(x_rows, x_cols, depth, activation, sigma_w, sigma_b, parameterization, kernel, mesh, block,
                   architecture=architecture)
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
    x, norm_b = _cg_start(b)
    r = b
    z = apply(r)
    p = z
    rz = _vdot(r, z)
    norm_b = float(norm_b)
    history = [1.0]
    if norm_b == 0:
        return x, r, np.array(history)
    for _ in range(iterations):
        ap = matvec(p)
        x, r, norm_r = _cg_update(x, r, p, ap, rz)
        history.append(float(norm_r) / norm_b)
        if history[-1] <= tol:
            break
        z = apply(r)
        p, rz = _cg_direction(r, z, p, rz)
    return x, r, np.array(history)


# CG's and Lanczos' vector glue, each step one compiled program (eager jnp would compile each
# small operation separately: about 36 compilations per matrix_free_mean call, measured).
@jax.jit
def _cg_start(b):
    return jnp.zeros_like(b), jnp.linalg.norm(b)


@jax.jit
def _vdot(a, b):
    return jnp.vdot(a, b)


@jax.jit
def _cg_update(x, r, p, ap, rz):
    alpha = rz / jnp.vdot(p, ap)
    r = r - alpha * ap
    return x + alpha * p, r, jnp.linalg.norm(r)


@jax.jit
def _cg_direction(r, z, p, rz):
    new = jnp.vdot(r, z)
    return z + (new / rz) * p, new


def _lanczos(matvec, b, steps: int):
    """Q (n, k), the tridiagonal T (k, k) and |b|: k <= steps Lanczos steps, full
    reorthogonalisation (twice), stopping early when the Krylov space is exhausted. The
    basis lives in one (n, steps) array (unused columns zero), so every step runs the same
    compiled programs. Q is returned with all ``steps`` columns; the first k are the basis."""
    q, basis, norm_b = _lanczos_start(b, steps=steps)
    alphas, betas = [], []
    for k in range(steps):
        w = matvec(q)
        alpha, beta, q_next, new_basis = _lanczos_step(basis, q, w, k)
        alphas.append(float(alpha))
        beta = float(beta)
        if k == steps - 1 or beta <= 1e-12 * max(abs(a) for a in alphas):
            break
        betas.append(beta)
        q, basis = q_next, new_basis
    t = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
    return basis, t, float(norm_b)


@functools.partial(jax.jit, static_argnames=("steps",))
def _lanczos_start(b, *, steps):
    norm_b = jnp.linalg.norm(b)
    q = b / norm_b
    return q, jnp.zeros((b.shape[0], steps), b.dtype).at[:, 0].set(q), norm_b


@jax.jit
def _lanczos_step(basis, q, w, k):
    """alpha_k = q.w, beta_k = |w orthogonalised|, q_{k+1} and the basis with it stored (a
    column beyond the last is dropped)."""
    alpha = jnp.vdot(q, w)
    w = _orthogonalise(basis, w)
    beta = jnp.linalg.norm(w)
    q_next = w / beta
    return alpha, beta, q_next, basis.at[:, k + 1].set(q_next, mode="drop")


@jax.jit
def _orthogonalise(basis, w):
    """w minus its projection on the basis' columns, twice (zero columns project nothing)."""
    for _ in range(2):
        w = w - jnp.matmul(basis, jnp.matmul(basis.T, w, precision=_HIGHEST), precision=_HIGHEST)
    return w


@functools.partial(jax.jit, static_argnames=("used",))
def _krylov_outputs(basis, y, train_coef, gain_coef, *, used):
    """Train outputs Y - Q c (T, n) and the test-pass coefficients Q g (T, n), Q's first ``used`` columns."""
    q = basis[:, :used]
    return y[None, :] - (q @ train_coef).T, (q @ gain_coef).T


@functools.partial(jax.jit, static_argnames=("order",))
def _stack_times(finite_train, finite_gain, y, r, alpha, *, order):
    """(train (T, n), coefficients (n, T)) in the order of the times: ``order[i]`` is the row
    of the finite-time arrays, or -1 for t = inf (Y - r, alpha)."""
    train = [y - r if i < 0 else finite_train[i] for i in order]
    coefficients = [alpha if i < 0 else finite_gain[i] for i in order]
    return jnp.stack(train), jnp.stack(coefficients, axis=1)


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


def matrix_free_mean(x_train, y_train, x_test, times, eta=None, *, depth=None, activation=None, sigma_w=None,
                     sigma_b=None, parameterization=None, iterations: int = 20, tol: float = 0.0, mesh=None,
                     block: int = 512, mode_error: Formula | None = None,
                     preconditioner_rank: int = 0, architecture=None) -> MatrixFreePrediction:
    r"""The mean prediction of :func:`infinite_width_mean` from inputs, without the N x N NTK.

    Args:
        x_train (n, d), y_train (n,), x_test (m, d) or None; times: 1-D, GD step counts
            (``eta`` given) or flow times (``eta`` None); ``inf`` selects the t -> infinity
            limit $\Theta(x,X)\Theta^{-1}Y$ (for GD, valid when eta < 2/lambda_max).
        depth, activation, sigma_w, sigma_b, parameterization: the network, as :func:`fc_kernels`
            (``parameterization`` None means "ntk"); or instead ``architecture=kernels.serial(...)``
            with inputs (n, *spatial, channels). The inputs are validated and prepared once.
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
    x_train, x_test_, sigma_w, sigma_b, same, spec = prepare_network(
        x_train, x_test, architecture, depth=depth, activation=activation, sigma_w=sigma_w, sigma_b=sigma_b,
        parameterization=parameterization)
    op = _prepared_operator(x_train, x_train, sigma_w, sigma_b, spec, True, "ntk", mesh, block)
    y = np.asarray(y_train)
    if y.shape != (op.n_rows,):
        raise ValueError(f"y_train must have shape ({op.n_rows},), got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y_train contains NaN or inf")
    y = op.replicate(y.astype(op.dtype))  # every vector lives on the mesh (also across processes)
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
    order = np.full(times.shape[0], -1)
    order[finite] = np.arange(int(finite.sum()))
    finite_train = finite_gain = r = alpha = y  # placeholders where a branch does not run
    lanczos_steps, ritz, cg_steps, cg_residual = 0, np.zeros(0), 0, np.zeros(0)
    if finite.any():
        basis, tri, norm_y = _lanczos(op, y, iterations)
        lanczos_steps = tri.shape[0]
        ritz, vectors = np.linalg.eigh(tri)
        residual, gain = _residual_and_gain(mode_error, ritz, times[finite], eta)
        first = vectors[0]  # e_1 in the Ritz basis
        finite_train, finite_gain = _krylov_outputs(
            basis, y, op.replicate(np.asarray(norm_y * vectors @ (residual * first).T, op.dtype)),
            op.replicate(np.asarray(norm_y * vectors @ (gain * first).T, op.dtype)), used=lanczos_steps)
    if (~finite).any():
        preconditioner = None
        if preconditioner_rank:
            factor, pivots, residual_diagonal = _pivoted_cholesky(
                x_train, sigma_w, sigma_b, rank=min(preconditioner_rank, op.n_rows), spec=spec, which=kernel_index("ntk"))
            preconditioner = low_rank_preconditioner(LowRankFactor(op.replicate(factor), pivots, residual_diagonal))
        alpha, r, cg_residual = kernel_cg(op, y, iterations, tol, preconditioner)
        cg_steps = cg_residual.shape[0] - 1
    train, coefficients = _stack_times(finite_train, finite_gain, y, r, alpha, order=tuple(int(i) for i in order))
    if x_test is None:
        test = jnp.zeros((times.shape[0], 0), op.dtype)
    else:
        cross = _prepared_operator(x_test_, x_train, sigma_w, sigma_b, spec, same, "ntk", op.mesh,
                                   op.block)
        test = cross(coefficients, transpose=True)
    return MatrixFreePrediction(train, test, lanczos_steps, ritz, cg_steps, cg_residual)
