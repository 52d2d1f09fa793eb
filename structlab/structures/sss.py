"""Sequentially semiseparable (SSS) matrices: a matrix as a time-varying linear system.

Split the rows into stages of sizes ``m_0, ..., m_{K-1}`` and the columns into
``n_0, ..., n_{K-1}``. An SSS matrix stores, for each stage, its dense diagonal
block ``D_i``, and generates every block below the diagonal from a *causal*
system and every block above it from an *anti-causal* one:

* below (``i > j``): ``T_ij = C_{i-1} A_{i-1} ... A_{j+1} B_j``
* above (``i < j``): the transpose of the same construction for ``T.T``.

``B_k`` writes stage ``k``'s input into a state of size ``d_k`` that lives on the
cut between stages ``k`` and ``k+1``; ``A_k`` carries it across stage ``k``; and
``C_k`` reads it out into stage ``k+1``. A product ``T @ x`` is two passes
through the stages (one per direction) costing one multiply-add per stored
number: with small states it is far cheaper than ``m * n``.
"""

import numpy as np

from structlab._validate import as_matrix, as_numpy
from structlab.structures.base import ReadOnly, Structure


def check_sizes(sizes, name, total=None):
    """``sizes`` as an int64 array of non-negative block sizes (summing to ``total``)."""
    arr = as_numpy(sizes, name)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty sequence of integers, got {sizes!r}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must not contain negative sizes, got {arr.tolist()}")
    if total is not None and arr.sum() != total:
        raise ValueError(f"{name} must sum to {total}, got {arr.tolist()} (sum {arr.sum()})")
    return arr.astype(np.int64)


def offsets(sizes):
    """Start of each block and the end: ``[0, s0, s0 + s1, ...]``."""
    return np.concatenate([[0], np.cumsum(sizes)])


class Causal(ReadOnly):
    """The strictly block-lower part of an SSS matrix: generators ``B``, ``A``, ``C``.

    Block ``(i, j)``, ``i > j``, is ``C[i-1] @ A[i-1] @ ... @ A[j+1] @ B[j]``.
    For the ``K - 1`` cuts ``k = 0 .. K-2`` with state sizes ``d[k]``:
    ``B[k]`` is ``d[k] x n_k``, ``C[k]`` is ``m_{k+1} x d[k]`` and ``A[k]`` is
    ``d[k] x d[k-1]`` (``A[0]`` is ``d[0] x 0``, stored for uniform indexing).

    Parameters
    ----------
    out_sizes, in_sizes : sequence of int
        Row and column block sizes ``m_i`` and ``n_i`` (``K`` each).
    B, A, C : sequences of ``K - 1`` arrays
    """

    def __init__(self, out_sizes, in_sizes, B, A, C):
        self.out_sizes = check_sizes(out_sizes, "out_sizes")
        self.in_sizes = check_sizes(in_sizes, "in_sizes")
        K = len(self.out_sizes)
        if len(self.in_sizes) != K:
            raise ValueError(f"row and column partitions must have the same number of stages, "
                             f"got {K} and {len(self.in_sizes)}")
        if not len(B) == len(A) == len(C) == K - 1:
            raise ValueError(f"{K} stages need {K - 1} generators B, A and C each, got "
                             f"{len(B)}, {len(A)} and {len(C)}")
        self.B = tuple(as_matrix(b, f"B[{k}]", shape=(None, self.in_sizes[k]))
                       for k, b in enumerate(B))
        dims = [b.shape[0] for b in self.B]
        self.C = tuple(as_matrix(c, f"C[{k}]", shape=(self.out_sizes[k + 1], dims[k]))
                       for k, c in enumerate(C))
        self.A = tuple(as_matrix(a, f"A[{k}]", shape=(dims[k], dims[k - 1] if k else 0))
                       for k, a in enumerate(A))
        self.dims = np.array(dims, dtype=np.int64)
        self._seal(self.out_sizes, self.in_sizes, self.dims)

    @property
    def nparams(self):
        return sum(M.size for M in self.B + self.A + self.C)

    def matmat(self, X):
        """``L @ X`` by the forward recursion over the stages."""
        X = Structure._operand(X, int(self.in_sizes.sum()), "X")
        cols, rows = offsets(self.in_sizes), offsets(self.out_sizes)
        out = np.zeros((rows[-1], X.shape[1]), dtype=np.result_type(X, *self.B))
        state = None
        for k in range(len(self.B)):
            x_k = X[cols[k]:cols[k + 1]]
            state = self.B[k] @ x_k + (self.A[k] @ state if k else 0)
            out[rows[k + 1]:rows[k + 2]] = self.C[k] @ state
        return out

    def rmatmat(self, Y):
        """``L.T @ Y`` by the backward recursion over the stages."""
        Y = Structure._operand(Y, int(self.out_sizes.sum()), "Y")
        cols, rows = offsets(self.in_sizes), offsets(self.out_sizes)
        out = np.zeros((cols[-1], Y.shape[1]), dtype=np.result_type(Y, *self.B))
        state = None
        for k in range(len(self.B) - 1, -1, -1):
            read = self.C[k].T @ Y[rows[k + 1]:rows[k + 2]]
            state = read if state is None else read + self.A[k + 1].T @ state
            out[cols[k]:cols[k + 1]] = self.B[k].T @ state
        return out


class SSS(Structure):
    """A sequentially semiseparable matrix: diagonal blocks plus two state-space systems.

    Parameters
    ----------
    row_sizes, col_sizes : sequence of int
        Stage sizes ``m_i`` and ``n_i`` (``K`` each, zeros allowed).
    D : sequence of ``K`` arrays
        Diagonal blocks, ``D[i]`` of shape ``(m_i, n_i)``.
    lower : Causal
        Generators of the blocks below the diagonal (partitions ``row_sizes``,
        ``col_sizes``).
    upper : Causal
        Generators of the blocks above the diagonal, as the lower part of the
        transpose (partitions ``col_sizes``, ``row_sizes``).

    Examples
    --------
    >>> import numpy as np
    >>> sizes = [2, 2]
    >>> lower = Causal(sizes, sizes, B=[np.ones((1, 2))], A=[np.zeros((1, 0))], C=[np.ones((2, 1))])
    >>> upper = Causal(sizes, sizes, B=[np.zeros((0, 2))], A=[np.zeros((0, 0))], C=[np.zeros((2, 0))])
    >>> S = SSS(sizes, sizes, [np.eye(2), np.eye(2)], lower, upper)
    >>> S.toarray()
    array([[1., 0., 0., 0.],
           [0., 1., 0., 0.],
           [1., 1., 1., 0.],
           [1., 1., 0., 1.]])
    >>> S.nparams, S.flops()
    (12, 12)
    """

    def __init__(self, row_sizes, col_sizes, D, lower, upper):
        self.row_sizes = check_sizes(row_sizes, "row_sizes")
        self.col_sizes = check_sizes(col_sizes, "col_sizes")
        K = len(self.row_sizes)
        if len(self.col_sizes) != K or len(D) != K:
            raise ValueError(f"row_sizes, col_sizes and D must have one entry per stage, got "
                             f"{K}, {len(self.col_sizes)} and {len(D)}")
        self.D = tuple(as_matrix(d, f"D[{i}]", shape=(self.row_sizes[i], self.col_sizes[i]))
                       for i, d in enumerate(D))
        for name, system, outs, ins in [("lower", lower, self.row_sizes, self.col_sizes),
                                        ("upper", upper, self.col_sizes, self.row_sizes)]:
            if not isinstance(system, Causal):
                raise TypeError(f"{name} must be a Causal system, got {type(system).__name__}")
            if not (np.array_equal(system.out_sizes, outs) and np.array_equal(system.in_sizes, ins)):
                raise ValueError(f"the {name} system's partitions do not match the matrix's")
        self.lower, self.upper = lower, upper
        self._seal(self.row_sizes, self.col_sizes)

    @property
    def shape(self):
        return int(self.row_sizes.sum()), int(self.col_sizes.sum())

    @property
    def dtype(self):
        return np.result_type(*self.D)

    @property
    def nparams(self):
        return sum(d.size for d in self.D) + self.lower.nparams + self.upper.nparams

    @property
    def state_dims(self):
        """State sizes at each cut: ``(lower, upper)`` arrays of length ``K - 1``."""
        return self.lower.dims, self.upper.dims

    def _diagonal(self, X, row_sizes, col_sizes, blocks):
        rows, cols = offsets(row_sizes), offsets(col_sizes)
        out = np.zeros((rows[-1], X.shape[1]), dtype=np.result_type(X, self.dtype))
        for i, block in enumerate(blocks):
            out[rows[i]:rows[i + 1]] = block @ X[cols[i]:cols[i + 1]]
        return out

    def matmat(self, X):
        X = self._operand(X, self.shape[1], "X")
        return (self._diagonal(X, self.row_sizes, self.col_sizes, self.D)
                + self.lower.matmat(X) + self.upper.rmatmat(X))

    def rmatmat(self, X):
        X = self._operand(X, self.shape[0], "X")
        return (self._diagonal(X, self.col_sizes, self.row_sizes, [d.T for d in self.D])
                + self.lower.rmatmat(X) + self.upper.matmat(X))

    @property
    def T(self):
        """The transpose, itself an SSS matrix (the two systems swap roles)."""
        return SSS(self.col_sizes, self.row_sizes, [d.T for d in self.D], self.upper, self.lower)

    def toarray(self):
        return self.matmat(np.eye(self.shape[1], dtype=self.dtype))

    def flops(self, batch=1):
        return batch * self.nparams
