"""Pruned (sparse) matrices and their compact position encoding."""

import numpy as np
import scipy.sparse

from structlab._validate import as_mask, as_matrix, check_int
from structlab.encoding import MAX_INDEX_BITS, relative_indices
from structlab.structures.base import Structure

class CSRStructure(Structure):
    """Base of the structures whose products go through a SciPy CSR array ``self.csr``.

    One multiply-add per stored entry; the dense matrix is never formed.
    """

    csr: scipy.sparse.csr_array

    @property
    def shape(self):
        return self.csr.shape

    @property
    def dtype(self):
        return self.csr.dtype

    def toarray(self):
        return self.csr.toarray()

    def matmat(self, X):
        X = self._operand(X, self.shape[1], "X")
        return self.csr @ X

    def rmatmat(self, X):
        X = self._operand(X, self.shape[0], "X")
        return self.csr.T @ X

    def flops(self, batch=1):
        return batch * self.csr.nnz


class Sparse(CSRStructure):
    """A pruned matrix: only the kept weights and their positions are stored.

    ``nbytes`` counts the Deep Compression format: each stored entry (kept
    weights and fillers) costs one value at the stored dtype plus an
    ``index_bits``-bit relative position (:func:`relative_indices`).

    Parameters
    ----------
    W : array_like, shape (m, n)
    mask : array_like of bool, shape (m, n), optional
        Weights to keep; default the nonzeros of ``W``.
    index_bits : int
        Bits per relative position (Han et al. use 5 for fully connected layers).

    Examples
    --------
    >>> import numpy as np
    >>> S = Sparse(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> S.nparams, S @ np.ones(2)
    (2, array([2., 3.]))
    """

    def __init__(self, W, mask=None, index_bits=5):
        W = as_matrix(W, "W")
        mask = W != 0 if mask is None else as_mask(mask, "mask", W.shape)
        self.index_bits = check_int(index_bits, "index_bits", low=1, high=MAX_INDEX_BITS)
        rows, cols = np.nonzero(mask)
        self.csr = scipy.sparse.csr_array((W[rows, cols], (rows, cols)), shape=W.shape)
        self._seal(self.csr.indices, self.csr.indptr)

    @property
    def nparams(self):
        return self.csr.nnz

    @property
    def T(self):
        """The transpose (built through the dense matrix and its mask: ``m * n`` numbers)."""
        kept = np.zeros(self.shape, dtype=bool)
        kept.flat[self.positions()] = True
        return Sparse(self.toarray().T, mask=kept.T, index_bits=self.index_bits)

    @property
    def nbytes(self):
        gaps, _ = relative_indices(self.positions(), self.index_bits)
        return len(gaps) * self.dtype.itemsize + int(np.ceil(len(gaps) * self.index_bits / 8))

    def positions(self):
        """Flat row-major positions of the stored weights, increasing."""
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.csr.indptr))
        return rows * self.shape[1] + self.csr.indices

    def mask(self):
        """Boolean ``(m, n)`` array of the stored positions."""
        mask = np.zeros(self.shape[0] * self.shape[1], dtype=bool)
        mask[self.positions()] = True
        return mask.reshape(self.shape)
