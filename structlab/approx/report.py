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
