"""palm4MSA and hierarchical palm4MSA: a matrix as a product of sparse factors.

Le Magoarou & Gribonval (IEEE JSTSP 2016) approximate ``A`` by
``lam * S[0] @ S[1] @ ... @ S[J-1]`` where every factor ``S[j]`` lies in a
constraint set (``k`` nonzeros per row, per column, in total, ...). palm4MSA is
proximal alternating linearized minimization: each factor in turn takes one
gradient step on ``||A - lam * L @ S @ R||_F^2`` (``L`` and ``R`` the products of
the factors on either side) with step ``1 / c``, ``c`` just above the Lipschitz
constant ``lam^2 ||L||_2^2 ||R||_2^2``, then is projected back onto its set;
after each sweep the scalar ``lam`` is refitted in closed form.

The hierarchical variant peels one factor at a time off the right: it splits the
current residual ``T`` into ``T' @ S`` with a two-factor palm4MSA, then runs a
global palm4MSA over all factors found so far to approximate ``A`` itself.

Everything here is plain NumPy/SciPy. Factors, residuals and gradients are held
as CSR when large and sparse enough and as dense arrays otherwise (projections
work on either, so a deep level of a butterfly factorization never touches an
``n x n`` dense array); the partial products ``S[0] ... S[j-1]`` and
``S[j+1] ... S[J-1]`` are built once per sweep, and each three-term product is
evaluated in its cheaper order.
"""

import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
from tqdm.auto import tqdm

from structlab._validate import as_csr, as_matrix, check_float, check_int, check_shape
from structlab.structures.sparse_product import SparseProduct

KINDS = ("sp", "splin", "spcol", "splincol", "dense")

# A factor goes to the products as CSR below this density: SciPy's sparse kernels
# run several times slower per multiply-add than BLAS, so denser factors stay dense.
SPARSE_BELOW = 0.15
# ... and matrices this small stay dense whatever their density: SciPy's sparse
# calls cost tens of microseconds each, BLAS on them a few.
DENSE_UP_TO = 128 * 128
# How much slower a sparse multiply-add is than a dense (BLAS) one, for picking
# the cheaper order of a three-term product.
SPARSE_COST = 4.0
# The step is 1 / (LIPSCHITZ_MARGIN * Lipschitz constant): strictly below 1/L, as
# PALM's descent guarantee needs, and as FAµST does.
LIPSCHITZ_MARGIN = 1.001
# Sweeps over which ``min_gain`` judges that a run has stalled.
PATIENCE = 5
# A two-factor split stops at SPLIT_TOL * tol: the error it leaves is what the global
# pass inherits, and levels add up. Measured on Hadamard 1024 (tol 1e-12, round-off
# floor of a split about 2e-13): 1/4 -> 24.5 s, final 4.5e-13; 1/1 -> 31.5 s, the
# global passes mopping up; 1/10 -> 29.9 s, the splits stalling at the floor.
SPLIT_TOL = 0.25
# Fitted entries at most this fraction of their factor's largest are dropped.
NEGLIGIBLE = 1e-12
# Limits on what is asked for: beyond them a run would not end in any useful time.
MAX_FACTORS = 64
MAX_SWEEPS = 100_000


# --------------------------------------------------------------------------- projections

_AXES = {"sp": (None,), "splin": (1,), "spcol": (0,), "splincol": (1, 0)}


def _top_k_dense(magnitude, k, axis):
    """Mask of the ``k`` largest entries of ``magnitude`` per row (axis 1), per column (0) or overall (None).

    Ties at the threshold go to the lowest index, the same rule as :func:`_top_k_sparse`:
    matrices such as Hadamard's are all ties, and the rule decides which of many
    equally good supports the factorization starts from.
    """
    if axis == 0:
        return _top_k_dense(magnitude.T, k, 1).T
    rows = magnitude.reshape(1, -1) if axis is None else magnitude
    k = min(k, rows.shape[1])
    # The k-th largest by a full sort: np.partition's introselect slows down up to
    # tenfold on rows made of a few repeated values (butterfly residuals).
    n = rows.shape[1]
    threshold = np.sort(rows, axis=1)[:, n - k:n - k + 1]
    keep = rows >= threshold
    surplus = keep.sum(axis=1, keepdims=True) - k  # tied entries beyond k
    if surplus.any():
        at = rows == threshold
        keep &= ~at | (np.cumsum(at, axis=1) <= at.sum(axis=1, keepdims=True) - surplus)
    return keep.reshape(magnitude.shape)


def _top_k_sparse(values, groups, k):
    """Mask of the ``k`` largest ``|values|`` within each group (ties: first stored entry)."""
    order = np.lexsort((-np.abs(values), groups))
    sorted_groups = groups[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order)) - np.searchsorted(sorted_groups, sorted_groups)
    return rank < k


def _checked_projection(M, kind, k):
    """What the public projections do: check ``M`` and ``k``, then :func:`_project`."""
    M = as_csr(M, "M") if scipy.sparse.issparse(M) else as_matrix(M, "M")
    return _project(M, kind, check_int(k, "k", low=1))


def _project(M, kind, k, compact=False):
    """Keep the entries ``kind`` selects; sparse in, CSR out; dense in, dense out
    (or, with ``compact``, the form :func:`_compact` would choose, built without a dense pass)."""
    if kind == "dense":
        return M.copy()
    if not scipy.sparse.issparse(M):
        magnitude = np.abs(M)
        keep = np.logical_or.reduce([_top_k_dense(magnitude, k, axis) for axis in _AXES[kind]])
        if not compact:
            return np.where(keep, M, 0.0)
        per_row = keep.sum(axis=1)
        if M.size <= DENSE_UP_TO or per_row.sum() >= SPARSE_BELOW * M.size:
            return np.where(keep, M, 0.0)
        indptr = np.concatenate([[0], np.cumsum(per_row)])
        return scipy.sparse.csr_array((M[keep], np.nonzero(keep)[1], indptr), shape=M.shape)
    C = scipy.sparse.coo_array(M)
    C.sum_duplicates()
    groups = {None: np.zeros_like(C.row), 1: C.row, 0: C.col}
    keep = np.logical_or.reduce([_top_k_sparse(C.data, groups[axis], k) for axis in _AXES[kind]])
    out = scipy.sparse.csr_array((C.data[keep], (C.row[keep], C.col[keep])), shape=M.shape)
    return _compact(out) if compact else out


def project_splin(M, k):
    """Keep the ``k`` largest-magnitude entries of each row of ``M``, zero the rest.

    ``M`` may be a dense array or a SciPy sparse matrix (then a CSR array is
    returned). Among ties the choice is arbitrary but deterministic.

    Examples
    --------
    >>> project_splin(np.array([[1.0, -3.0, 2.0], [0.5, 0.0, 0.1]]), 1)
    array([[ 0. , -3. ,  0. ],
           [ 0.5,  0. ,  0. ]])
    """
    return _checked_projection(M, "splin", k)


def project_spcol(M, k):
    """Keep the ``k`` largest-magnitude entries of each column of ``M``.

    Examples
    --------
    >>> project_spcol(np.array([[1.0, -3.0], [2.0, 0.5]]), 1)
    array([[ 0., -3.],
           [ 2.,  0.]])
    """
    return _checked_projection(M, "spcol", k)


def project_splincol(M, k):
    """Union of the supports kept by :func:`project_splin` and :func:`project_spcol`.

    This is FAµST's ``splincol``: every row and every column keeps at least its
    ``k`` largest entries (some keep more), and a matrix with at most ``k``
    nonzeros in every row and column is left unchanged. It is not an exact
    projection onto "at most k per row and column" (that is a b-matching problem).

    Examples
    --------
    >>> project_splincol(np.array([[3.0, 2.0], [1.0, 0.5]]), 1)  # 2 is the top of its column
    array([[3., 2.],
           [1., 0.]])
    """
    return _checked_projection(M, "splincol", k)


def project_sp(M, k):
    """Keep the ``k`` largest-magnitude entries of the whole matrix.

    Examples
    --------
    >>> project_sp(np.array([[1.0, -3.0], [2.0, 0.5]]), 2)
    array([[ 0., -3.],
           [ 2.,  0.]])
    """
    return _checked_projection(M, "sp", k)


@dataclass(frozen=True)
class Constraint:
    """The set a factor must lie in, and the projection onto it.

    Parameters
    ----------
    kind : {"sp", "splin", "spcol", "splincol", "dense"}
        ``k`` nonzeros in total, per row, per column, per row and column
        (:func:`project_splincol`), or no sparsity at all.
    shape : (int, int)
        Shape of the factor.
    k : int
        Nonzeros (in total for ``sp``, per row / column otherwise); ignored for ``dense``.
    normalized : bool
        Scale the projection to unit Frobenius norm (the scale lives in ``lam``).
    pos : bool
        Zero the negative entries before selecting (nonnegative factors).

    Examples
    --------
    >>> c = Constraint("splin", (2, 3), 1, normalized=False)
    >>> c.project(np.array([[1.0, -3.0, 2.0], [0.5, 0.0, 0.1]]))
    array([[ 0. , -3. ,  0. ],
           [ 0.5,  0. ,  0. ]])
    >>> c.max_nnz
    2
    """

    kind: str
    shape: tuple
    k: int = 1
    normalized: bool = True
    pos: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        m, n = check_shape(self.shape, "shape")
        object.__setattr__(self, "shape", (m, n))
        limit = {"sp": m * n, "splin": n, "spcol": m, "splincol": min(m, n), "dense": None}
        if self.kind != "dense":
            check_int(self.k, f"k of a {self.kind} constraint on a {m}x{n} factor",
                      low=1, high=limit[self.kind])

    @property
    def max_nnz(self):
        """Nonzeros a projected factor can hold at most (``splincol``: its rows' and columns' top k)."""
        m, n = self.shape
        return {"sp": self.k, "splin": m * self.k, "spcol": n * self.k,
                "splincol": min(m * n, (m + n) * self.k), "dense": m * n}[self.kind]

    def project(self, M, compact=False):
        """Projection of ``M`` onto the constraint set.

        Dense in, dense out; sparse in, CSR out. With ``compact`` the result is
        CSR whenever it is sparse enough (what palm4MSA iterates on).
        """
        if M.shape != self.shape:
            raise ValueError(f"the factor must have shape {self.shape}, got {M.shape}")
        if self.pos:
            M = M.maximum(0) if scipy.sparse.issparse(M) else np.maximum(M, 0)
        out = _project(M, self.kind, self.k, compact)
        norm = _fro(out)
        if self.normalized and norm > 0:
            out /= norm
        return out


def check_chain(constraints, shape):
    """Check that the factor shapes chain into ``shape``; return the constraints as a list."""
    constraints = list(constraints)
    if not constraints or not all(isinstance(c, Constraint) for c in constraints):
        raise TypeError("constraints must be a non-empty sequence of Constraint")
    for j, (left, right) in enumerate(zip(constraints, constraints[1:])):
        if left.shape[1] != right.shape[0]:
            raise ValueError(f"constraints do not chain: factor {j} is {left.shape[0]}x"
                             f"{left.shape[1]} but factor {j + 1} is {right.shape[0]}x"
                             f"{right.shape[1]}")
    product = (constraints[0].shape[0], constraints[-1].shape[1])
    if product != tuple(shape):
        raise ValueError(f"the factors multiply to {product[0]}x{product[1]} but the matrix is "
                         f"{shape[0]}x{shape[1]}")
    return constraints


# --------------------------------------------------------------------------- products
# Factors, residuals and gradients travel as CSR when sparse enough and as dense
# arrays otherwise; every helper below accepts either, ``None`` meaning identity.

def _compact(M):
    """``M`` as CSR if it is large and its density below ``SPARSE_BELOW``, else dense."""
    size = np.prod(M.shape)
    nnz = M.nnz if scipy.sparse.issparse(M) else np.count_nonzero(M)
    if size > DENSE_UP_TO and nnz < SPARSE_BELOW * size:
        return scipy.sparse.csr_array(M)
    return M.toarray() if scipy.sparse.issparse(M) else M


def _dense(M):
    return M.toarray() if scipy.sparse.issparse(M) else np.asarray(M)


def _mul(A, B):
    """``A @ B``; a product of two sparse operands is compacted, any other is dense."""
    if A is None or B is None:
        return B if A is None else A
    out = A @ B
    return _compact(out) if scipy.sparse.issparse(out) else out


def _cost(A, B):
    """Estimated cost of ``A @ B`` in dense multiply-adds (sparse ones weigh more)."""
    if scipy.sparse.issparse(A):
        per_row_of_B = B.nnz / B.shape[0] if scipy.sparse.issparse(B) else B.shape[1]
        return SPARSE_COST * A.nnz * per_row_of_B
    if scipy.sparse.issparse(B):
        return SPARSE_COST * B.nnz * A.shape[0]
    return float(A.shape[0]) * A.shape[1] * B.shape[1]


def _mul3(A, B, C):
    """``A @ B @ C`` in the cheaper of the two orders."""
    if A is None or B is None or C is None:
        return _mul(_mul(A, B), C)
    # Stand-ins for the intermediate products (taken as dense; no memory is used).
    AB = np.broadcast_to(0.0, (A.shape[0], B.shape[1]))
    BC = np.broadcast_to(0.0, (B.shape[0], C.shape[1]))
    left_first = _cost(A, B) + _cost(AB, C) <= _cost(B, C) + _cost(A, BC)
    return _mul(_mul(A, B), C) if left_first else _mul(A, _mul(B, C))


def _combine(a, X, b, Y, scratch=False):
    """``a * X + b * Y``: sparse when both are, dense otherwise.

    With ``scratch``, a dense ``X`` is a temporary whose memory is reused:
    these run on every factor update, and each saved pass over an ``m x n``
    array counts.
    """
    if scipy.sparse.issparse(X) and scipy.sparse.issparse(Y):
        return _compact(a * X + b * Y)
    if scratch and not scipy.sparse.issparse(X):
        X *= a
    else:
        X = a * _dense(X)
    if scipy.sparse.issparse(Y):  # touch only the stored entries
        Y = scipy.sparse.coo_array(Y)
        X[Y.row, Y.col] += b * Y.data
    elif b == -1.0:
        X -= Y
    else:
        X += b * Y
    return X


def _fro(M):
    return float(np.linalg.norm(M.data if scipy.sparse.issparse(M) else M))


def _inner(A, B):
    """Frobenius inner product ``<A, B>``."""
    if scipy.sparse.issparse(A) or scipy.sparse.issparse(B):
        sparse, other = (A, B) if scipy.sparse.issparse(A) else (B, A)
        return float(scipy.sparse.csr_array(sparse).multiply(other).sum())
    return float(np.vdot(A, B))


def _transpose(M):
    return None if M is None else M.T


def _norm2_squared(M, v):
    """Largest eigenvalue of the smaller Gram matrix of ``M`` (its squared spectral norm).

    Power iteration, applied implicitly (``M.T @ (M @ v)`` or ``M @ (M.T @ v)``),
    warm-started from ``v``; returns the estimate and the vector to start from
    next time. It stops when the estimate moves by less than ``1e-6`` of itself.
    That does not bound its error, and power iteration approaches from below:
    with a nearly flat spectrum the estimate can fall short by more than
    ``LIPSCHITZ_MARGIN``, and a step then slightly exceed ``1 / L``. The tests
    check that the error never rises over whole runs rather than assume it.
    """
    if M is None:
        return 1.0, v
    inner, outer = (M.T, M) if M.shape[0] < M.shape[1] else (M, M.T)
    if scipy.sparse.issparse(M):
        inner, outer = scipy.sparse.csr_array(inner), scipy.sparse.csr_array(outer)
    estimate = 0.0
    for _ in range(300):
        w = outer @ (inner @ v)
        new = float(np.linalg.norm(w))
        if new == 0.0:
            return 0.0, v
        v = w / new
        if abs(new - estimate) <= 1e-6 * new:
            break
        estimate = new
    return new, v


# --------------------------------------------------------------------------- palm4MSA

@dataclass
class Fit:
    """What :func:`palm4msa` and :func:`hierarchical` return.

    Attributes
    ----------
    product : SparseProduct
        ``lam * S[0] @ ... @ S[J-1]`` with CSR factors.
    errors : list of float
        Relative Frobenius error ``||A - product||_F / ||A||_F`` after each sweep
        (for :func:`hierarchical`, after each level's global pass).
    seconds : float
        Wall time of the fit.
    """

    product: SparseProduct
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def error(self):
        """The final relative Frobenius error."""
        return self.errors[-1]


def _product(factors, lam):
    """The fitted factors as a :class:`SparseProduct`, negligible entries dropped.

    Entries below ``NEGLIGIBLE`` times their factor's largest change the product
    by less than round-off, yet would count as stored numbers (and underflow to
    zero in float32: a trained layer's weights on always-blank MNIST pixels decay
    to 1e-30 and below).
    """
    kept = []
    for F in factors:
        F = scipy.sparse.csr_array(F)
        F.data[np.abs(F.data) <= NEGLIGIBLE * np.abs(F.data).max(initial=0.0)] = 0.0
        F.eliminate_zeros()
        kept.append(F)
    return SparseProduct(kept, lam)


def initial_factors(constraints):
    """FAµST's start: the first factor zero, the others identity (``eye(m, n)``), as CSR.

    The first gradient step then sets ``S[0]`` to the projection of ``A`` itself.
    """
    factors = [scipy.sparse.eye_array(*c.shape, format="csr") for c in constraints]
    factors[0] = scipy.sparse.csr_array(constraints[0].shape)
    return factors


def _sweep(A, factors, constraints, lam, vectors):
    """One palm4MSA sweep over the factors, left to right, in place; returns the full product."""
    J = len(factors)
    rights = [None] * J  # rights[j] = S[j+1] @ ... @ S[J-1], from the factors before the sweep
    for j in range(J - 2, -1, -1):
        rights[j] = _mul(factors[j + 1], rights[j + 1])
    left = None  # S[0] @ ... @ S[j-1], from the factors already updated in this sweep
    for j in range(J):
        right = rights[j]
        norm_L, vectors[2 * j] = _norm2_squared(left, vectors[2 * j])
        norm_R, vectors[2 * j + 1] = _norm2_squared(right, vectors[2 * j + 1])
        c = LIPSCHITZ_MARGIN * lam**2 * norm_L * norm_R
        if c > 0:  # (c == 0: a zero neighbour carries no gradient, S[j] stays)
            # With a neighbour the product is a fresh array; alone, it is S[j] itself.
            residual = _combine(lam, _mul3(left, factors[j], right), -1.0, A, scratch=J > 1)
            gradient = _mul3(_transpose(left), residual, _transpose(right))
            step = _combine(-lam / c, gradient, 1.0, factors[j], scratch=True)
            factors[j] = constraints[j].project(step, compact=True)
        left = _mul(left, factors[j])
    return left


def _palm(A, constraints, factors, lam, n_iter, tol, min_gain, rng):
    """palm4MSA on checked inputs; ``A`` and the factors dense or CSR. Returns (factors, lam, errors)."""
    m, n = A.shape
    # Power-iteration start vectors for the partial products left and right of each
    # factor, sized for the smaller side of each (left of S[j] is m x rows_j).
    vectors = []
    for c in constraints:
        vectors += [rng.standard_normal(min(m, c.shape[0])), rng.standard_normal(min(c.shape[1], n))]
    norm_A, errors = _fro(A), []
    for _ in range(n_iter):
        full = _sweep(A, factors, constraints, lam, vectors)
        norm_P2 = _fro(full) ** 2
        lam = _inner(A, full) / norm_P2 if norm_P2 > 0 else lam
        # Formed, not expanded: the expansion loses all digits below sqrt(eps) ~ 1e-8.
        errors.append(_fro(_combine(1.0, A, -lam, full)) / norm_A)
        # Early sweeps of splincol may go up (it is not an exact projection), so a
        # stall is judged over the last PATIENCE sweeps, not one.
        stalled = (min_gain is not None and len(errors) > PATIENCE
                   and min(errors[-PATIENCE:]) > (1 - min_gain) * min(errors[:-PATIENCE]))
        if errors[-1] <= tol or stalled:
            break
    return factors, lam, errors


def _check_stopping(tol, min_gain):
    check_float(tol, "tol", low=0, high=1, open_high=True)
    if min_gain is not None:
        check_float(min_gain, "min_gain", low=0, high=1, open_high=True)


def _unit_scaled(A):
    """``A`` checked, and scaled by a power of two (exactly) to a largest entry in [0.5, 1).

    Every step of palm4MSA is scale-free, so the fit is the same; only a matrix of
    tiny (or huge) entries, whose squared norm would underflow (or overflow), needs it.
    Returns ``(A / scale, scale)``.
    """
    A = as_matrix(A, "A")
    if not A.any():  # every relative error would divide by zero
        raise ValueError("A is all zeros: there is nothing to factor")
    scale = np.ldexp(1.0, int(np.frexp(np.abs(A).max())[1]))
    return A / scale, scale


def palm4msa(A, constraints, n_iter=100, *, tol=0.0, min_gain=None, init=None, lam=1.0,
             seed=0):
    """Approximate ``A`` by ``lam * S[0] @ ... @ S[J-1]``, each ``S[j]`` in ``constraints[j]``.

    Parameters
    ----------
    A : array_like, shape (m, n)
    constraints : sequence of Constraint
        One per factor; their shapes must chain from ``m`` rows to ``n`` columns.
    n_iter : int
        Maximum number of sweeps (each updates every factor once, then ``lam``).
    tol : float
        Stop once the relative error is at most ``tol``.
    min_gain : float, optional
        Stop once ``PATIENCE`` sweeps in a row lower the best relative error by
        less than this fraction of it (never, by default).
    init : sequence of array_like or sparse matrices, optional
        Starting factors; default :func:`initial_factors`.
    lam : float
        Starting scale.
    seed : int
        Seeds the power-iteration start vectors (the only randomness).

    Returns
    -------
    Fit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((8, 4)) @ rng.standard_normal((4, 8))
    >>> cons = [Constraint("dense", (8, 4)), Constraint("dense", (4, 8))]
    >>> fit = palm4msa(A, cons, n_iter=300)
    >>> fit.error < 1e-6, fit.product.shape
    (True, (8, 8))
    """
    start = time.perf_counter()
    A, scale = _unit_scaled(A)
    constraints = check_chain(constraints, A.shape)
    n_iter = check_int(n_iter, "n_iter", low=1, high=MAX_SWEEPS)
    _check_stopping(tol, min_gain)
    lam = check_float(lam, "lam")
    if lam == 0:
        raise ValueError("lam must not be 0")
    if init is None:
        factors = initial_factors(constraints)
    else:
        factors = [_compact(as_matrix(_dense(S), f"init[{j}]", shape=c.shape))
                   for j, (S, c) in enumerate(zip(init, constraints, strict=True))]
    factors, lam, errors = _palm(A, constraints, factors, lam / scale, n_iter, tol, min_gain,
                                 np.random.default_rng(seed))
    return Fit(_product(factors, lam * scale), errors, time.perf_counter() - start)


# --------------------------------------------------------------------------- hierarchical

def hierarchical(A, factor_constraints, residual_constraints, n_iter=50, *, global_iter=None,
                 tol=0.0, min_gain=None, seed=0, progress=False):
    """Hierarchical palm4MSA: peel sparse factors off the right of ``A`` one at a time.

    Level ``l`` splits the current residual ``T`` into ``T' @ S_l`` (two-factor
    palm4MSA, ``S_l`` in ``factor_constraints[l]``, ``T'`` in
    ``residual_constraints[l]``), then refines all factors together against
    ``A`` (global palm4MSA). The last residual becomes the leftmost factor, so
    ``A ~ lam * T_last @ S_{L-1} @ ... @ S_0``.

    Parameters
    ----------
    A : array_like, shape (m, n)
    factor_constraints : sequence of Constraint
        The factors in peeling order (rightmost first); ``L`` of them.
    residual_constraints : sequence of Constraint
        The residual after each level, ``L`` of them; the last is the leftmost factor.
    n_iter : int
        Sweeps of each two-factor split.
    global_iter : int, optional
        Sweeps of each global pass; default ``n_iter``.
    tol, min_gain : float
        Early stopping of every palm4MSA run (see :func:`palm4msa`); the
        two-factor splits stop at ``SPLIT_TOL * tol``.
    seed : int
    progress : bool
        Show a progress bar over the levels.

    Returns
    -------
    Fit
        ``errors`` holds the relative error after each level.

    Examples
    --------
    >>> from scipy.linalg import hadamard
    >>> fcons, rcons = butterfly_constraints(16)
    >>> fit = hierarchical(hadamard(16), fcons, rcons, n_iter=30, tol=1e-13)
    >>> len(fit.product.factors), fit.error < 1e-10
    (4, True)
    """
    start = time.perf_counter()
    A, scale = _unit_scaled(A)
    factor_constraints, residual_constraints = list(factor_constraints), list(residual_constraints)
    if not factor_constraints:
        raise ValueError("factor_constraints must not be empty (at least two factors)")
    if len(factor_constraints) != len(residual_constraints):
        raise ValueError(f"factor_constraints and residual_constraints must have the same "
                         f"length, got {len(factor_constraints)} and {len(residual_constraints)}")
    check_chain(residual_constraints[-1:] + factor_constraints[::-1], A.shape)
    n_iter = check_int(n_iter, "n_iter", low=1, high=MAX_SWEEPS)
    global_iter = (n_iter if global_iter is None
                   else check_int(global_iter, "global_iter", low=1, high=MAX_SWEEPS))
    _check_stopping(tol, min_gain)
    rng = np.random.default_rng(seed)
    residual, lam, peeled, errors = _compact(A), 1.0, [], []
    for level in tqdm(range(len(factor_constraints)), desc="hierarchical palm4MSA",
                      disable=not progress):
        split_cons = [residual_constraints[level], factor_constraints[level]]
        check_chain(split_cons, residual.shape)
        split, split_lam, _ = _palm(residual, split_cons, initial_factors(split_cons), 1.0,
                                    n_iter, tol * SPLIT_TOL, min_gain, rng)
        cons = split_cons + factor_constraints[:level][::-1]
        (residual, *peeled), lam, level_errors = _palm(A, cons, split + peeled, lam * split_lam,
                                                        global_iter, tol, min_gain, rng)
        errors.append(level_errors[-1])
    return Fit(_product([residual] + peeled, lam * scale), errors, time.perf_counter() - start)


# --------------------------------------------------------------------------- presets

def butterfly_constraints(n):
    """Constraints under which :func:`hierarchical` recovers the ``n x n`` Hadamard matrix.

    ``log2(n)`` factors with 2 nonzeros per row and column; the residual after
    level ``l`` is the product of the remaining ``log2(n) - l - 1`` butterflies,
    so it has ``n / 2**(l + 1)`` nonzeros per row and column.

    Returns
    -------
    factor_constraints, residual_constraints : list of Constraint

    Examples
    --------
    >>> fcons, rcons = butterfly_constraints(8)
    >>> [c.k for c in fcons], [c.k for c in rcons]
    ([2, 2], [4, 2])
    """
    n = check_int(n, "n", low=4)  # 2 is a single butterfly: nothing to factor
    levels = n.bit_length() - 1
    if n != 1 << levels:
        raise ValueError(f"n must be a power of two, got {n}")
    factor = [Constraint("splincol", (n, n), 2) for _ in range(levels - 1)]
    residual = [Constraint("splincol", (n, n), n >> (level + 1)) for level in range(levels - 1)]
    return factor, residual


def rectangular_constraints(shape, n_factors, k):
    """Constraints for a dense ``m x n`` layer: ``n_factors`` factors with ``k`` nonzeros per row.

    The chain is ``(m x r) (r x r) ... (r x n)`` with ``r = min(m, n)``: the
    leftmost factor adapts the output size and every factor holds ``k`` nonzeros
    per row, so the product stores ``m k + (n_factors - 1) r k`` numbers. The
    residual after peeling ``l + 1`` factors is the product of the remaining
    ``n_factors - l - 1``, constrained to the ``k**(n_factors - l - 1)`` nonzeros
    per row such a product can have (no constraint once that reaches the width).

    Parameters
    ----------
    shape : (int, int)
    n_factors : int, >= 2
    k : int
        Nonzeros per row of every factor, ``1 <= k <= min(m, n)``.

    Returns
    -------
    factor_constraints, residual_constraints : list of Constraint

    Examples
    --------
    >>> fcons, rcons = rectangular_constraints((10, 6), 3, 2)
    >>> [c.shape for c in rcons[-1:] + fcons[::-1]]
    [(10, 6), (6, 6), (6, 6)]
    >>> [(c.kind, c.k) for c in rcons]
    [('splin', 4), ('splin', 2)]
    """
    m, n = check_shape(shape, "shape")
    n_factors = check_int(n_factors, "n_factors", low=2, high=MAX_FACTORS)
    r = min(m, n)
    k = check_int(k, "k", low=1, high=r)
    factor = [Constraint("splin", (r, n if level == 0 else r), k) for level in range(n_factors - 1)]
    residual = []
    for level in range(n_factors - 1):
        per_row = k ** (n_factors - level - 1)
        residual.append(Constraint("splin", (m, r), per_row) if per_row < r
                        else Constraint("dense", (m, r)))
    return factor, residual
