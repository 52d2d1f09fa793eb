"""Low-rank matrices ``S = U @ V``."""

import numpy as np

from structlab._validate import as_matrix
from structlab.structures.base import Structure


class LowRank(Structure):
    """A rank-``r`` matrix stored as two factors, ``S = U @ V``.

    Stores ``r * (m + n)`` numbers instead of ``m * n``; a product costs the same
    number of multiply-adds, so it pays when ``r < m * n / (m + n)``.

    Parameters
    ----------
    U : array_like, shape (m, r)
    V : array_like, shape (r, n)

    Examples
    --------
    >>> import numpy as np
    >>> S = LowRank(np.ones((4, 1)), np.arange(3.0)[None, :])
    >>> S.shape, S.rank, S.nparams
    ((4, 3), 1, 7)
    >>> S @ np.ones(3)
    array([3., 3., 3., 3.])
    """

    def __init__(self, U, V):
        U = as_matrix(U, "U")
        V = as_matrix(V, "V", shape=(U.shape[1], None))
        dtype = np.result_type(U, V)
        self.U, self.V = U.astype(dtype, copy=False), V.astype(dtype, copy=False)
        self._seal()

    @property
    def shape(self):
        return self.U.shape[0], self.V.shape[1]

    @property
    def dtype(self):
        return self.U.dtype

    @property
    def rank(self):
        """Inner dimension ``r`` (an upper bound on the mathematical rank)."""
        return self.U.shape[1]

    @property
    def nparams(self):
        return self.U.size + self.V.size

    def toarray(self):
        return self.U @ self.V

    @property
    def T(self):
        return LowRank(self.V.T, self.U.T)

    def matmat(self, X):
        X = self._operand(X, self.shape[1], "X")
        return self.U @ (self.V @ X)

    def rmatmat(self, X):
        X = self._operand(X, self.shape[0], "X")
        return self.V.T @ (self.U.T @ X)

    def flops(self, batch=1):
        m, n = self.shape
        return batch * self.rank * (m + n)
