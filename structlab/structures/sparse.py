"""Pruned (sparse) matrices and their compact position encoding."""

import numpy as np
import scipy.sparse

from structlab._validate import as_mask, as_matrix, check_int
from structlab.structures.base import Structure

# Relative positions wider than this never pay (a gap of 2**32 entries is a 16 GB matrix row).
MAX_INDEX_BITS = 32


def relative_indices(positions, index_bits):
    """Encode sorted flat positions as gaps that fit in ``index_bits`` bits.

    Deep Compression stores where each surviving weight sits as the distance
    from the previous one. A gap ``d`` (1 <= d <= 2**index_bits) is stored as
    ``d - 1``; a longer gap is bridged by *filler* entries, each a stored zero
    weight ``2**index_bits`` further on.

    Parameters
    ----------
    positions : array_like of int
        Strictly increasing flat (row-major) positions of the kept weights.
    index_bits : int, >= 1

    Returns
    -------
    gaps : ndarray of int64
        One stored value ``d - 1`` per entry, fillers included.
    is_filler : ndarray of bool
        Which entries are fillers (same length as ``gaps``).

    Examples
    --------
    >>> gaps, filler = relative_indices([1, 4, 15], index_bits=3)
    >>> gaps.tolist(), filler.tolist()
    ([1, 2, 7, 2], [False, False, True, False])
    """
    index_bits = check_int(index_bits, "index_bits", low=1, high=MAX_INDEX_BITS)
    positions = np.asarray(positions, dtype=np.int64)
    if positions.ndim != 1 or np.any(np.diff(positions) <= 0) or np.any(positions < 0):
        raise ValueError("positions must be a 1-D array of increasing non-negative integers")
    span = 1 << index_bits
    gaps = np.diff(positions, prepend=-1)
    n_fillers = (gaps - 1) // span  # entries inserted before each kept weight
    total = len(gaps) + int(n_fillers.sum())
    is_filler = np.ones(total, dtype=bool)
    kept_at = np.arange(len(gaps)) + np.cumsum(n_fillers)
    is_filler[kept_at] = False
    stored = np.full(total, span - 1, dtype=np.int64)
    stored[kept_at] = gaps - n_fillers * span - 1
    return stored, is_filler


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

    def to_torch(self):
        """A bias-free ``nn.Linear`` whose weight is masked by a :class:`WeightMask`."""
        import torch
        from torch import nn
        from torch.nn.utils import parametrize

        from structlab.nn.layers import WeightMask

        m, n = self.shape
        layer = nn.Linear(n, m, bias=False, dtype=torch.from_numpy(np.empty(0, self.dtype)).dtype)
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(self.toarray()))
        parametrize.register_parametrization(layer, "weight", WeightMask(self.mask()))
        return layer

    def mask(self):
        """Boolean ``(m, n)`` array of the stored positions."""
        mask = np.zeros(self.shape[0] * self.shape[1], dtype=bool)
        mask[self.positions()] = True
        return mask.reshape(self.shape)
