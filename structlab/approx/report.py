"""How much a structure saves and what it costs in accuracy of the matrix itself."""

from dataclasses import dataclass

import numpy as np

from structlab._validate import as_matrix


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
        return self.params_before / self.params_after

    def __str__(self):
        m, n = self.shape
        return (f"{m}x{n}: {self.params_before} -> {self.params_after} numbers "
                f"({self.ratio:.2f}x), relative error {self.relative_error:.3g}")


def relative_error(W, S):
    """``||W - S||_F / ||W||_F`` for a dense ``W`` and a structure (or array) ``S``."""
    W = as_matrix(W, "W")
    dense = S.toarray() if hasattr(S, "toarray") else np.asarray(S)
    if dense.shape != W.shape:
        raise ValueError(f"S must have the shape of W {W.shape}, got {dense.shape}")
    norm = np.linalg.norm(W)
    return float(np.linalg.norm(W - dense) / norm) if norm > 0 else float(np.linalg.norm(dense))


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
    X = np.asarray(X, dtype=np.float64)
    dense = X @ W.T + b
    logits = np.asarray(S @ X.T).T + b
    metrics = {"weight_error": relative_error(W, S),
               "logit_error": float(np.linalg.norm(logits - dense) / np.linalg.norm(dense)),
               "agreement": float(np.mean(logits.argmax(1) == dense.argmax(1)))}
    y = None if y is None else np.asarray(y)
    if y is not None and np.any(y >= 0):
        known = y >= 0
        metrics["accuracy"] = float(np.mean(logits[known].argmax(1) == y[known]))
        metrics["dense_accuracy"] = float(np.mean(dense[known].argmax(1) == y[known]))
    return metrics
