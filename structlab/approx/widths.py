"""Resizing a layer's output width, and the next layer with it (chapter 6).

A layer ``z = W1 x + b1`` (``W1`` is ``width x fan_in``; a convolution's kernel
reshaped to ``out x in*kh*kw``) feeds the next one through its ``width`` units.

* **Shrink** to ``k`` units: an interpolative decomposition of ``[W1 | b1]``
  (column-pivoted QR, :func:`scipy.linalg.interpolative.interp_decomp`) picks
  the ``k`` rows that best span its row space and writes every dropped row as
  a combination of them, ``A[dropped] ~ T A[kept]``. The next layer's weights
  on the dropped units are folded onto the kept ones, ``W2_kept += W2_dropped T``.
  Before the nonlinearity this is exact whenever ``rank [W1 | b1] <= k``;
  across it (``relu(T z) != T relu(z)``) it is an approximation, and a poor one
  as often as not: with data at hand, :func:`refit_next` refits the next
  layer's weights and bias by least squares instead.
* **Grow** by ``extra`` units: new rows of ``W1`` orthogonal to its row space,
  zero bias, and zero weights out of them in the next layer, so the network
  computes exactly the same function at the moment of growth.

Everything here works on NumPy arrays; the next layer's weight has the units
on axis 1 (``W2`` is ``out2 x width x ...``: a Linear's matrix or a Conv2d's
kernel), so the same code serves dense and convolutional pairs.
"""

import numpy as np
import scipy.linalg.interpolative as interpolative

from structlab._validate import as_array, as_matrix, as_vector, check_float, check_int, check_share
from structlab.approx.svd import rank_for_energy


def _layer(W, name):
    """A layer weight with its units on axis 0 (a matrix, or a conv kernel), as finite float64."""
    W = as_array(W, name).astype(np.float64, copy=False)
    if W.ndim < 2:
        raise ValueError(f"{name} must have the units on axis 0 and their inputs after, got "
                         f"shape {W.shape}")
    return W


def _bias(b1, width):
    return None if b1 is None else as_vector(b1, "b1", size=width).astype(np.float64)


def _next_layer(W2, width):
    W2 = _layer(W2, "W2")
    if W2.shape[1] != width:
        raise ValueError(f"W2 must have the {width} units of W1 on axis 1, got shape {W2.shape}")
    return W2


def _augmented(W1, b1):
    W1 = _layer(W1, "W1")
    b1 = _bias(b1, len(W1))
    W1 = W1.reshape(len(W1), -1)
    return W1 if b1 is None else np.hstack([W1, b1[:, None]])


def skeleton(W1, b1, k):
    """The ``k`` units that best span the row space of ``[W1 | b1]``, and the rest in their terms.

    Returns
    -------
    kept : ndarray of int, shape (k,)
        Kept units, in their original order.
    dropped : ndarray of int
        The other units.
    T : ndarray, shape (len(dropped), k)
        ``[W1 | b1][dropped] ~ T @ [W1 | b1][kept]`` (exact up to round-off when
        the rank is at most ``k``).

    Examples
    --------
    >>> W = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 3.0]])
    >>> kept, dropped, T = skeleton(W, None, 2)
    >>> np.allclose(W[dropped], T @ W[kept])
    True
    """
    A = _augmented(W1, b1)
    width = A.shape[0]
    k = check_int(k, "k", low=1, high=width)
    if k == width:
        return np.arange(width), np.arange(0), np.zeros((0, width))
    if not A.any():  # no directions at all (the decomposition would divide by zero)
        return np.arange(k), np.arange(k, width), np.zeros((width - k, k))
    # Column-pivoted QR of A.T (deterministic: rand=False) picks r skeleton rows of A;
    # the rows span at most rank(A) <= fan_in + 1 dimensions, so r is capped there and
    # any further kept units are simply the next pivots (with zero coefficients).
    r = min(k, np.linalg.matrix_rank(A))  # beyond the rank the decomposition is ill-posed
    idx, proj = interpolative.interp_decomp(np.asfortranarray(A.T), r, rand=False)
    coefficients = np.zeros((width - k, k))
    coefficients[:, :r] = np.asarray(proj).T[k - r:]  # dropped rows in terms of the skeleton
    kept_unsorted, dropped_unsorted = idx[:k], idx[k:]
    order, back = np.argsort(kept_unsorted), np.argsort(dropped_unsorted)
    return kept_unsorted[order], dropped_unsorted[back], coefficients[back][:, order]


def fold_next(W2, kept, dropped, T):
    """The next layer's weight after its inputs ``dropped`` became ``T @`` inputs ``kept``.

    ``W2`` has the units on axis 1 (``out2 x width x ...``).
    """
    W2 = _layer(W2, "W2")
    return W2[:, kept] + np.einsum("od...,dk->ok...", W2[:, dropped], T)


def shrink(W1, b1, W2, k):
    """Shrink the output width of layer 1 to ``k``, folding the dropped units into layer 2.

    Parameters
    ----------
    W1 : array_like, shape (width, ...)
        Layer 1's weight (Linear matrix or Conv2d kernel).
    b1 : array_like of shape (width,), or None
    W2 : array_like, shape (out2, width, ...)
        Layer 2's weight, units on axis 1.
    k : int, 1 <= k <= width

    Returns
    -------
    W1, b1, W2 : ndarrays
        The resized pair (``b1`` None if it was).
    kept : ndarray of int
        Which of the original units survive.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W1 = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))  # rank 2
    >>> W2 = rng.standard_normal((3, 6))
    >>> W1s, _, W2s, kept = shrink(W1, None, W2, 2)
    >>> x = rng.standard_normal(5)
    >>> np.allclose(W2s @ (W1s @ x), W2 @ (W1 @ x))  # exact without a nonlinearity
    True
    """
    W1 = _layer(W1, "W1")
    b1, W2 = _bias(b1, len(W1)), _next_layer(W2, len(W1))
    kept, dropped, T = skeleton(W1, b1, k)
    new_b1 = None if b1 is None else b1[kept]
    return W1[kept], new_b1, fold_next(W2, kept, dropped, T), kept


def refit_next(kept_inputs, target, bias=True):
    """Least-squares weights (and bias) of the next layer from the kept units' outputs.

    Across a nonlinearity the fold of :func:`shrink` is only an approximation
    (measured: on random rank-4 + noise layers with a ReLU it is no better than
    deleting the units outright about half the time). With data at hand, the
    best next layer on the kept units is a linear least-squares problem: fit
    ``kept_inputs @ W2.T + b2`` to ``target``, the next layer's pre-activation
    before shrinking. The fold and the plain deletion are both candidates, so
    the fit is never worse than either on these data.

    Parameters
    ----------
    kept_inputs : array_like, shape (N, k)
        Activations of the kept units (after the nonlinearity) on N samples.
    target : array_like, shape (N, out2)
        The next layer's outputs before shrinking, on the same samples.
    bias : bool
        Fit a bias too.

    Returns
    -------
    W2 : ndarray, shape (out2, k)
    b2 : ndarray of shape (out2,), or None
    """
    # finite values first: LAPACK spins forever on an inf in the design matrix
    H = as_matrix(kept_inputs, "kept_inputs").astype(np.float64, copy=False)
    Y = as_matrix(target, "target").astype(np.float64, copy=False)
    if len(H) != len(Y) or not len(H):
        raise ValueError(f"kept_inputs and target must have the same number of rows (at least "
                         f"one), got {H.shape} and {Y.shape}")
    design = np.hstack([H, np.ones((len(H), 1))]) if bias else H
    solution = np.linalg.lstsq(design, Y, rcond=None)[0]
    return (solution[:-1].T, solution[-1]) if bias else (solution.T, None)


def orthogonal_rows(W1, extra, rng, scale=None):
    """``extra`` new rows orthogonal to the row space of ``W1`` (flattened), unit direction.

    Scaled to ``scale`` (default the mean norm of the existing rows).

    Raises
    ------
    ValueError
        When fewer than ``extra`` directions are left (``fan_in - rank``).
    """
    W = _layer(W1, "W1")
    W = W.reshape(len(W), -1)
    extra = check_int(extra, "extra", low=1)
    rank = np.linalg.matrix_rank(W) if W.size else 0
    free = W.shape[1] - rank
    if extra > free:
        raise ValueError(f"extra must be at most {free}: the rows span {rank} of {W.shape[1]} "
                         f"input directions, got {extra}")
    Q = np.linalg.qr(W.T)[0][:, :rank] if rank else np.zeros((W.shape[1], 0))
    candidates = rng.standard_normal((W.shape[1], extra))
    candidates -= Q @ (Q.T @ candidates)  # remove the existing row space (twice: round-off)
    candidates -= Q @ (Q.T @ candidates)
    directions = np.linalg.qr(candidates)[0].T
    if scale is None:
        scale = float(np.linalg.norm(W, axis=1).mean()) or 1.0  # all-zero rows: unit rows
    scale = check_float(scale, "scale", low=0, open_low=True)
    return scale * directions


def grow(W1, b1, W2, extra, rng):
    """Add ``extra`` units to layer 1; the network's function is unchanged.

    New rows of ``W1`` are orthogonal to its row space (:func:`orthogonal_rows`),
    their biases zero, and layer 2 gets zero weights from them, so the next
    layer's input is the same as before until training moves those weights.

    Returns
    -------
    W1, b1, W2 : ndarrays
    """
    W1 = _layer(W1, "W1")
    b1, W2 = _bias(b1, len(W1)), _next_layer(W2, len(W1))
    rows = orthogonal_rows(W1, extra, rng).reshape(extra, *W1.shape[1:])
    new_b1 = None if b1 is None else np.concatenate([b1, np.zeros(extra)])
    zeros = np.zeros((W2.shape[0], extra, *W2.shape[2:]))
    return np.concatenate([W1, rows]), new_b1, np.concatenate([W2, zeros], axis=1)


def energy_width(W1, b1=None, keep=0.99):
    """Smallest width whose leading singular values hold ``keep`` of ``[W1 | b1]``'s energy.

    Examples
    --------
    >>> energy_width(np.diag([3.0, 1.0, 0.1]), keep=0.85)  # 9 of 10.01
    1
    >>> energy_width(np.diag([3.0, 1.0, 0.1]), keep=0.9995)
    3
    """
    keep = check_share(keep, "keep")
    s = np.linalg.svd(_augmented(W1, b1), compute_uv=False)
    if not s.any():
        return 1  # no energy at all: one unit is as good as any number
    return rank_for_energy(s, keep)
