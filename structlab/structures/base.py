"""The protocol every structured matrix follows.

A structure behaves like a read-only matrix ``S`` of shape ``(m, n)``: it knows
how many numbers it stores (``nparams``) and how many bytes they take
(``nbytes``), multiplies vectors without forming the dense matrix
(``matvec``/``matmat``/``@``), states the multiply-adds of one product
(``flops``), turns into a dense array (``toarray``, ``np.asarray``), has a
transpose (``T``), and works with
:func:`scipy.sparse.linalg.aslinearoperator`: with ``svds``, ``lsqr`` and 2-D
operands, since those pass vectors as ``(n, 1)`` columns. Its torch layer is
chosen on the torch side: :func:`structlab.nn.layers.as_module`.
"""

from abc import ABC, abstractmethod

import numpy as np

from structlab._validate import as_numpy


class ReadOnly:
    """An object whose attributes are set by its constructor only.

    The kernels trust the arrays a structure was built with (shapes that fit,
    indices in range); so once ``__init__`` calls :meth:`_seal`, replacing an
    attribute raises, and the index arrays handed to ``_seal`` become
    read-only. (What is left, changing the numbers inside a value array, cannot
    send a kernel out of bounds; packing checks the rest again.)
    """

    _sealed = False

    def __setattr__(self, name, value):
        if self._sealed:
            raise AttributeError(f"{type(self).__name__} is read-only: build a new one "
                                 f"instead of setting {name!r}")
        super().__setattr__(name, value)

    def _seal(self, *index_arrays):
        for array in index_arrays:
            array.setflags(write=False)
        object.__setattr__(self, "_sealed", True)


class Structure(ReadOnly, ABC):
    """Abstract read-only structured matrix.

    Subclasses implement ``shape``, ``dtype``, ``nparams``, ``toarray``,
    ``matmat``, ``rmatmat``, ``T`` and ``flops``, and end their
    constructor with ``self._seal(...)`` (:class:`ReadOnly`); everything else
    is derived here.
    """

    # Makes ``ndarray @ structure`` defer to ``__rmatmul__`` instead of failing.
    __array_ufunc__ = None
    ndim = 2

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

    @property
    @abstractmethod
    def T(self):
        """The transpose, a structure of the same kind."""

    @abstractmethod
    def flops(self, batch=1):
        """Multiply-adds of one product with ``batch`` vectors (the theoretical cost)."""

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
        """Dense numbers divided by stored numbers (above 1 means smaller; inf for none)."""
        return self.dense_nparams / self.nparams if self.nparams else float("inf")

    def __array__(self, dtype=None, copy=None):
        """``np.asarray(S)``: the dense matrix, built by :meth:`toarray` (``m * n`` numbers)."""
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def matvec(self, x):
        """``S @ x`` for ``x`` of shape ``(n,)``, or ``(n, 1)`` as SciPy's operators pass it.

        The result has the shape of ``x``'s kind: ``(m,)`` or ``(m, 1)``.
        """
        column = self._column(x, self.shape[1])
        return self.matmat(column) if np.ndim(x) == 2 else self.matmat(column)[:, 0]

    def rmatvec(self, x):
        """``S.T @ x`` for ``x`` of shape ``(m,)`` or ``(m, 1)``; see :meth:`matvec`."""
        column = self._column(x, self.shape[0])
        return self.rmatmat(column) if np.ndim(x) == 2 else self.rmatmat(column)[:, 0]

    def __matmul__(self, X):
        X = as_numpy(X, "X")
        return self.matvec(X) if X.ndim == 1 else self.matmat(X)

    def __rmatmul__(self, X):
        # X @ S = (S.T @ X.T).T: a batch of row vectors through the transpose.
        X = as_numpy(X, "X")
        return self.rmatvec(X) if X.ndim == 1 else self.rmatmat(X.T).T

    def __repr__(self):
        m, n = self.shape
        return (f"{type(self).__name__}(shape=({m}, {n}), nparams={self.nparams}, "
                f"ratio={self.compression_ratio:.2f}x)")

    @classmethod
    def _column(cls, x, size):
        """``x`` of shape ``(size,)`` or ``(size, 1)`` as a ``(size, 1)`` array."""
        x = as_numpy(x, "x")
        if x.shape not in ((size,), (size, 1)):
            raise ValueError(f"x must have shape ({size},) or ({size}, 1), got {x.shape}")
        return cls._operand(x.reshape(size, 1), size, "x")

    @staticmethod
    def _operand(X, size, name):
        """``X`` as a 2-D NumPy array of numbers with ``size`` rows."""
        X = as_numpy(X, name)
        if X.ndim != 2 or X.shape[0] != size:
            raise ValueError(f"{name} must have shape ({size}, k), got {X.shape}")
        if X.dtype.kind not in "iufc":
            raise TypeError(f"{name} must hold numbers, got dtype {X.dtype}")
        return X
