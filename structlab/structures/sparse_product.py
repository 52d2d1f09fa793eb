"""Products of sparse factors ``S = lam * S[0] @ S[1] @ ... @ S[J-1]`` (learned fast transforms)."""

import numpy as np
import scipy.sparse

from structlab._validate import as_csr, as_matrix, check_float
from structlab.encoding import relative_positions
from structlab.structures.base import Structure


def _as_csr(factor, j):
    if scipy.sparse.issparse(factor):
        return as_csr(factor, f"factors[{j}]")
    return scipy.sparse.csr_array(as_matrix(factor, f"factors[{j}]"))


class SparseProduct(Structure):
    """A matrix stored as a scalar times a chain of CSR factors.

    The product is applied factor by factor from the right, so ``S @ x`` costs
    one multiply-add per stored nonzero (``flops``) and the dense matrix is never
    formed. ``nparams`` counts the nonzeros of all factors; the scalar ``lam`` is
    not counted because it can be folded into any factor. ``nbytes`` counts
    the nonzeros and where they sit, as the CSR kernels and
    :class:`~structlab.nn.layers.SparseLinear` store them (int32 row pointers
    and a 1- or 2-byte gap per entry, :func:`structlab.encoding.relative_positions`).

    Parameters
    ----------
    factors : sequence of array_like or scipy.sparse matrices
        ``S[0]`` (leftmost) to ``S[J-1]``; ``S[j].shape[1] == S[j+1].shape[0]``.
        Explicit zeros are dropped.
    lam : float

    Examples
    --------
    >>> import numpy as np
    >>> butterfly = np.array([[1.0, 1.0], [1.0, -1.0]])
    >>> S = SparseProduct([np.kron(butterfly, np.eye(2)), np.kron(np.eye(2), butterfly)])
    >>> S.shape, S.nparams, S.flops()
    ((4, 4), 16, 16)
    >>> S @ np.array([1.0, 0.0, 0.0, 0.0])
    array([1., 1., 1., 1.])
    """

    def __init__(self, factors, lam=1.0):
        factors = [_as_csr(S, j) for j, S in enumerate(factors)]
        if not factors:
            raise ValueError("factors must hold at least one matrix")
        for j, (left, right) in enumerate(zip(factors, factors[1:])):
            if left.shape[1] != right.shape[0]:
                raise ValueError(f"factors do not chain: factor {j} has shape {left.shape} "
                                 f"but factor {j + 1} has shape {right.shape}")
        dtype = np.result_type(*factors)
        self.factors = tuple(S.astype(dtype, copy=True) for S in factors)
        for S in self.factors:  # canonical CSR: one entry per position, no stored zeros
            S.sum_duplicates()
            S.eliminate_zeros()
        self.lam = check_float(lam, "lam")
        self._seal(*(a for S in self.factors for a in (S.indices, S.indptr)))

    @property
    def shape(self):
        return self.factors[0].shape[0], self.factors[-1].shape[1]

    @property
    def dtype(self):
        return self.factors[0].dtype

    @property
    def nparams(self):
        return sum(S.nnz for S in self.factors)

    @property
    def nbytes(self):
        total = 0
        for S in self.factors:  # sum_duplicates in __init__ sorted their indices
            indptr, gaps = relative_positions(S.indptr, S.indices)
            total += S.nnz * self.dtype.itemsize + indptr.nbytes + gaps.nbytes
        return total

    def toarray(self):
        out = self.factors[-1].toarray()
        for S in reversed(self.factors[:-1]):
            out = S @ out
        return self.lam * out

    @property
    def T(self):
        return SparseProduct([S.T for S in reversed(self.factors)], self.lam)

    def matmat(self, X):
        X = self._operand(X, self.shape[1], "X")
        for S in reversed(self.factors):
            X = S @ X
        return self.lam * X

    def rmatmat(self, X):
        X = self._operand(X, self.shape[0], "X")
        for S in self.factors:
            X = S.T @ X
        return self.lam * X

    def flops(self, batch=1):
        return batch * self.nparams
