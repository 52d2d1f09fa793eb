"""The protocol every structured matrix follows.

A structure behaves like a read-only matrix ``S`` of shape ``(m, n)``: it knows
how many numbers it stores (``nparams``) and how many bytes they take
(``nbytes``), multiplies vectors without forming the dense matrix
(``matvec``/``matmat``/``@``), states the multiply-adds of one product
(``flops``), turns into a dense array (``toarray``) or a torch layer
(``to_torch``), and works with :func:`scipy.sparse.linalg.aslinearoperator`.
"""

from abc import ABC, abstractmethod

import numpy as np


class Structure(ABC):
    """Abstract read-only structured matrix.

    Subclasses implement ``shape``, ``dtype``, ``nparams``, ``toarray``,
    ``matmat``, ``rmatmat``, ``flops`` and ``to_torch``; everything else is
    derived here.
    """

    # Makes ``ndarray @ structure`` defer to ``__rmatmul__`` instead of failing.
    __array_ufunc__ = None

    @property
    @abstractmethod
    def shape(self):
        """(m, n): rows and columns of the matrix it represents."""

    @property
    @abstractmethod
    def dtype(self):
        """NumPy dtype of the stored numbers."""

    @property
    @abstractmethod
    def nparams(self):
        """How many numbers are stored."""

    @abstractmethod
    def toarray(self):
        """The dense ``(m, n)`` matrix (for checks and small sizes only)."""

    @abstractmethod
    def matmat(self, X):
        """``S @ X`` for ``X`` of shape ``(n, k)``, without forming ``S``."""

    @abstractmethod
    def rmatmat(self, X):
        """``S.T @ X`` for ``X`` of shape ``(m, k)``, without forming ``S``."""

    @abstractmethod
    def flops(self, batch=1):
        """Multiply-adds of one product with ``batch`` vectors (the theoretical cost)."""

    @abstractmethod
    def to_torch(self):
        """The matching ``torch.nn.Module`` of :mod:`structlab.nn.layers` (no bias)."""

    @property
    def nbytes(self):
        """Bytes of storage at the stored dtype."""
        return self.nparams * self.dtype.itemsize

    @property
    def dense_nparams(self):
        """Numbers a dense matrix of the same shape stores."""
        m, n = self.shape
        return m * n

    @property
    def compression_ratio(self):
        """Dense numbers divided by stored numbers (above 1 means smaller)."""
        return self.dense_nparams / self.nparams

    def matvec(self, x):
        """``S @ x`` for a vector ``x`` of length ``n``."""
        x = np.asarray(x)
        self._check_operand(x, self.shape[1], "x", ndim=1)
        return self.matmat(x[:, None])[:, 0]

    def rmatvec(self, x):
        """``S.T @ x`` for a vector ``x`` of length ``m``."""
        x = np.asarray(x)
        self._check_operand(x, self.shape[0], "x", ndim=1)
        return self.rmatmat(x[:, None])[:, 0]

    def __matmul__(self, X):
        X = np.asarray(X)
        return self.matvec(X) if X.ndim == 1 else self.matmat(X)

    def __rmatmul__(self, X):
        # X @ S = (S.T @ X.T).T: a batch of row vectors through the transpose.
        X = np.asarray(X)
        return self.rmatvec(X) if X.ndim == 1 else self.rmatmat(X.T).T

    def __repr__(self):
        m, n = self.shape
        return (f"{type(self).__name__}(shape=({m}, {n}), nparams={self.nparams}, "
                f"ratio={self.compression_ratio:.2f}x)")

    @staticmethod
    def _check_operand(X, size, name, ndim=2):
        if X.ndim != ndim or X.shape[0] != size:
            want = f"({size},)" if ndim == 1 else f"({size}, k)"
            raise ValueError(f"{name} must have shape {want}, got {X.shape}")
