"""How much a structure saves and what it costs in accuracy of the matrix itself."""

from dataclasses import dataclass

import numpy as np

from structlab._validate import as_matrix, as_numpy, as_vector
from structlab.structures.base import Structure


@dataclass(frozen=True)
class CompressionReport:
    """Numbers stored before and after, and the relative Frobenius error."""

    shape: tuple
    params_before: int
    params_after: int
    relative_error: float

    @property
    def ratio(self):
        """``params_before / params_after``; above 1 means the structure is smaller."""
        return self.params_before / self.params_after if self.params_after else float("inf")

    def __str__(self):
        m, n = self.shape
        return (f"{m}x{n}: {self.params_before} -> {self.params_after} numbers "
                f"({self.ratio:.2f}x), relative error {self.relative_error:.3g}")


def _relative(approximation, exact):
    """``||approximation - exact|| / ||exact||``; the absolute error when ``exact`` is 0."""
    norm = np.linalg.norm(exact)
    error = np.linalg.norm(approximation - exact)
    return float(error / norm) if norm > 0 else float(error)


def _dense_like(S, W):
    """``S`` (a structure or a matrix) as a dense array of ``W``'s shape."""
    dense = S.toarray() if isinstance(S, Structure) else as_matrix(S, "S")
    if dense.shape != W.shape:
        raise ValueError(f"S must have the shape of W {W.shape}, got {dense.shape}")
    return dense


def relative_error(W, S):
    """``||W - S||_F / ||W||_F`` for a dense ``W`` and a structure (or array) ``S``."""
    W = as_matrix(W, "W")
    return _relative(_dense_like(S, W), W)


def compression_report(W, S):
    """Compare a dense matrix ``W`` with its structured approximation ``S``.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.approx.svd import lowrank_approximation
    >>> W = np.diag([4.0, 3.0, 0.0])
    >>> print(compression_report(W, lowrank_approximation(W, rank=1)))
    3x3: 9 -> 6 numbers (1.50x), relative error 0.6
    """
    W = as_matrix(W, "W")
    if not isinstance(S, Structure):
        raise TypeError(f"S must be a structure, got {type(S).__name__}")
    return CompressionReport(W.shape, W.size, S.nparams, relative_error(W, S))


def classifier_metrics(W, b, S, X, y=None):
    """A structured final layer ``S`` (bias ``b`` kept) against the dense ``W`` on features ``X``.

    Parameters
    ----------
    W : ndarray, shape (classes, d)
    b : ndarray, shape (classes,)
    S : Structure or ndarray, shape (classes, d)
    X : ndarray, shape (N, d)
        Penultimate features.
    y : ndarray of int, optional
        True labels, ``-1`` where unknown.

    Returns
    -------
    dict
        ``weight_error`` (relative Frobenius error of ``S``), ``logit_error``
        (relative Frobenius error of the logits on ``X``), ``agreement`` (share
        of rows whose top-1 class is the dense layer's; needs no labels) and,
        when some labels are known, ``accuracy`` and ``dense_accuracy`` on them.

    Examples
    --------
    >>> W = np.eye(3); X = np.array([[1.0, 0, 0], [0, 2.0, 1.0]])
    >>> classifier_metrics(W, np.zeros(3), 0.5 * W, X)["agreement"]
    1.0
    """
    W = as_matrix(W, "W")
    b = as_vector(b, "b", size=W.shape[0])
    X = as_matrix(X, "X", shape=(None, W.shape[1])).astype(np.float64, copy=False)
    if not len(X):
        raise ValueError("X has no rows: no features to compare the layers on")
    structured = _dense_like(S, W)
    dense, logits = X @ W.T + b, X @ structured.T + b
    metrics = {"weight_error": _relative(structured, W), "logit_error": _relative(logits, dense),
               "agreement": float(np.mean(logits.argmax(1) == dense.argmax(1)))}
    if y is not None:
        y = as_numpy(y, "y")
        if y.shape != (len(X),) or y.dtype.kind not in "iu":
            raise ValueError(f"y must hold one integer label per row of X ({len(X)}), got "
                             f"dtype {y.dtype} and shape {y.shape}")
    if y is not None and np.any(y >= 0):
        known = y >= 0
        metrics["accuracy"] = float(np.mean(logits[known].argmax(1) == y[known]))
        metrics["dense_accuracy"] = float(np.mean(dense[known].argmax(1) == y[known]))
    return metrics
