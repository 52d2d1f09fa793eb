"""Weight-shared matrices: small integer indices into a table of shared values."""

import math

import numpy as np
import scipy.sparse

from structlab._validate import as_mask, as_numpy, as_vector, check_int
from structlab.encoding import MAX_INDEX_BITS, relative_indices, shared_value_bits
from structlab.structures.sparse import CSRStructure


class Codebook(CSRStructure):
    """A matrix whose entries are ``centroids[index]``, or exactly 0 where ``mask`` is False.

    ``nbytes`` is the fixed-width storage of Deep Compression: ``ceil(log2 k)``
    bits per stored index, the float32 table, and for a pruned matrix the
    relative positions (as :func:`structlab.approx.huffman.layer_storage`
    counts them, which also gives the Huffman-coded size).

    Parameters
    ----------
    centroids : array_like, shape (k,)
    index : array_like of int, shape (m, n), values in [0, k)
    mask : array_like of bool, shape (m, n), optional
        Stored entries; default all.
    index_bits : int
        Bits per relative position, for a masked matrix.

    Examples
    --------
    >>> import numpy as np
    >>> S = Codebook([-1.0, 2.0], [[0, 1], [1, 1]], mask=[[True, True], [False, True]])
    >>> S.toarray()
    array([[-1.,  2.],
           [ 0.,  2.]])
    >>> S.bits, S.nparams
    (1, 5)
    """

    def __init__(self, centroids, index, mask=None, index_bits=5):
        self.centroids = as_vector(centroids, "centroids")
        self.index = as_numpy(index, "index").copy()  # a copy: it is made read-only
        if self.index.ndim != 2 or not np.issubdtype(self.index.dtype, np.integer):
            raise ValueError(f"index must be a 2-D integer array, got {self.index.dtype} "
                             f"of shape {self.index.shape}")
        if self.index.size and (self.index.min() < 0 or self.index.max() >= len(self.centroids)):
            raise ValueError(f"index values must lie in [0, {len(self.centroids)})")
        self.mask = (np.ones(self.index.shape, bool) if mask is None
                     else as_mask(mask, "mask", self.index.shape))
        self.index_bits = check_int(index_bits, "index_bits", low=1, high=MAX_INDEX_BITS)
        rows, cols = np.nonzero(self.mask)
        self.csr = scipy.sparse.csr_array(
            (self.centroids[self.index[rows, cols]], (rows, cols)), shape=self.index.shape)
        self._seal(self.index, self.mask, self.csr.indices, self.csr.indptr)

    @property
    def T(self):
        return Codebook(self.centroids, self.index.T, self.mask.T, self.index_bits)

    @property
    def bits(self):
        """Bits of one fixed-width index: ``ceil(log2 k)`` (at least 1)."""
        return shared_value_bits(len(self.centroids))

    @property
    def nparams(self):
        """Stored numbers: one index per stored entry plus the table."""
        return int(self.mask.sum()) + len(self.centroids)

    @property
    def nbytes(self):
        k = len(self.centroids)
        if self.mask.all():
            return math.ceil(self.mask.size * self.bits / 8) + 4 * k
        if not self.mask.any():  # nothing stored, not even a table worth reading
            return 0
        gaps, is_filler = relative_indices(np.flatnonzero(self.mask), self.index_bits)
        bits = len(gaps) * (shared_value_bits(k, is_filler.any()) + self.index_bits) + 32 * k
        return math.ceil(bits / 8)
