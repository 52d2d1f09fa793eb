"""Weight sharing by 1-D k-means (Han et al. 2016, "trained quantization").

A layer's surviving weights are clustered into ``k = 2**bits`` groups; each
weight is then stored as a ``bits``-bit index into a table of ``k`` shared
values. How the centroids start matters, because a trained layer's weights
are bimodal after pruning:

- ``forgy``: ``k`` distinct weights drawn at random — centroids crowd the two peaks;
- ``density``: equally spaced levels of the weights' CDF (quantiles) — also crowds
  the peaks, but deterministically;
- ``linear``: equally spaced between the smallest and the largest weight —
  keeps centroids for the rare large weights, which matter most (the paper's pick).

Examples
--------
>>> import numpy as np
>>> w = np.array([-1.0, -0.9, 0.0, 0.1, 2.0, 2.2])
>>> centroids, labels = kmeans_1d(w, init_centroids(w, 3, "linear"))
>>> np.round(centroids, 2), labels
(array([-0.95,  0.05,  2.1 ]), array([0, 0, 1, 1, 2, 2]))
"""

import numpy as np

from structlab._validate import as_array, as_mask, as_matrix, as_vector, check_float, check_int

INIT_MODES = ("forgy", "density", "linear")


def init_centroids(w, k, mode="linear", seed=0):
    """``k`` distinct starting centroids for the values ``w``, sorted ascending.

    Parameters
    ----------
    w : array_like
        Values to cluster (flattened); at least ``k`` distinct values.
    k : int
    mode : {"forgy", "density", "linear"}
    seed : int
        Used by ``forgy`` only.
    """
    w = np.ravel(as_array(w, "w"))
    k = check_int(k, "k", low=1)
    if mode not in INIT_MODES:
        raise ValueError(f"mode must be one of {INIT_MODES}, got {mode!r}")
    seed = check_int(seed, "seed", low=0)
    distinct = np.unique(w)
    if len(distinct) < k:
        raise ValueError(f"cannot make {k} clusters from {len(distinct)} distinct values")
    if mode == "forgy":
        centroids = np.random.default_rng(seed).choice(distinct, size=k, replace=False)
    elif mode == "density":
        centroids = np.quantile(w, (np.arange(k) + 0.5) / k)
    else:
        centroids = np.linspace(w.min(), w.max(), k)
    return np.sort(centroids).astype(np.float64)


def lloyd_step(w, centroids):
    """One step of Lloyd's algorithm: assign each value to its nearest centroid, then
    move every centroid to the mean of its values (one with none stays where it is).

    Parameters
    ----------
    w : ndarray, shape (n,), float64
    centroids : ndarray, shape (k,), float64, ascending

    Returns
    -------
    centroids : ndarray, shape (k,)
        In the same order as given (not sorted again).
    labels : ndarray of int64, shape (n,)
        The centroid each value was assigned to (a tie goes to the lower one).

    Examples
    --------
    The step never increases the squared error (the invariant Lloyd's
    algorithm rests on):

    >>> w = np.array([0.0, 0.2, 0.9, 1.0, 3.0])
    >>> start = np.array([0.0, 0.5, 2.0])
    >>> moved, labels = lloyd_step(w, start)
    >>> moved.tolist(), labels.tolist()
    ([0.1, 0.95, 3.0], [0, 0, 1, 1, 2])
    >>> bool(np.sum((w - moved[labels]) ** 2) <= np.sum((w - start[labels]) ** 2))
    True
    """
    labels = _assign(w, centroids)
    counts = np.bincount(labels, minlength=len(centroids))
    sums = np.bincount(labels, weights=w, minlength=len(centroids))
    return np.where(counts > 0, sums / np.maximum(counts, 1), centroids), labels


def kmeans_1d(w, centroids, max_iter=100, tol=1e-10, step=lloyd_step):
    """Lloyd's algorithm in one dimension, always returning ``len(centroids)`` clusters.

    In 1-D the nearest centroid is found by binary search between midpoints.
    A cluster that empties (which density or forgy starts on repeated values
    can cause) is moved onto the value worst served by its centroid, so the
    result has exactly ``k`` non-empty clusters whenever ``w`` has ``k``
    distinct values.

    Parameters
    ----------
    step : callable, optional
        One Lloyd step ``(w, centroids) -> (centroids, labels)``, as
        :func:`lloyd_step` (chapter 3 passes the one its reader wrote).

    Returns
    -------
    centroids : ndarray, shape (k,), ascending
    labels : ndarray of int64, shape (len(w),)
    """
    w = np.ravel(as_array(w, "w")).astype(np.float64)
    centroids = np.sort(as_vector(centroids, "centroids").astype(np.float64))
    max_iter = check_int(max_iter, "max_iter", low=1, high=100_000)
    tol = check_float(tol, "tol", low=0)
    k = len(centroids)
    if not k:
        raise ValueError("centroids is empty")
    if len(np.unique(w)) < k:
        raise ValueError(f"cannot make {k} clusters from {len(np.unique(w))} distinct values")
    for _ in range(max_iter):
        updated, labels = step(w.copy(), centroids.copy())  # a step may not edit ours
        updated = as_vector(updated, "the step's centroids", size=k).astype(np.float64)
        labels = np.asarray(labels)
        if (labels.shape != w.shape or labels.dtype.kind not in "iu"
                or labels.min() < 0 or labels.max() >= k):
            raise ValueError(f"the step's labels must be {len(w)} integers in [0, {k})")
        counts = np.bincount(labels.astype(np.int64), minlength=k)
        for empty in np.flatnonzero(counts == 0):
            error = np.abs(w - updated[_assign(w, np.sort(updated))])
            error[np.isin(w, updated)] = -1  # a value already at a centroid cannot serve
            updated[empty] = w[np.argmax(error)]
        updated = np.sort(updated)
        shift = np.max(np.abs(updated - centroids))
        centroids = updated
        if shift <= tol and np.all(counts > 0):
            break
    return centroids, _assign(w, centroids)


def _assign(w, centroids):
    """Index of the nearest (sorted) centroid for every value."""
    midpoints = (centroids[1:] + centroids[:-1]) / 2
    return np.searchsorted(midpoints, w).astype(np.int64)


def kmeans_share(W, bits, init="linear", mask=None, seed=0):
    """Share the weights of a matrix among ``2**bits`` values by k-means.

    Only the entries where ``mask`` is True (the survivors of pruning) are
    clustered; the others stay exactly zero.

    Parameters
    ----------
    W : array_like, shape (m, n)
        For a convolution, its filter matrix (``weight.reshape(out, -1)``).
    bits : int, >= 1
    init : {"forgy", "density", "linear"}
    mask : array_like of bool, shape (m, n), optional
    seed : int
        For the ``forgy`` init.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> import numpy as np
    >>> S = kmeans_share(np.arange(12.0).reshape(3, 4), bits=2)
    >>> S.centroids.tolist(), S.bits
    ([1.0, 4.0, 7.5, 10.5], 2)
    """
    from structlab.structures.codebook import Codebook

    W = as_matrix(W, "W")
    bits = check_int(bits, "bits", low=1, high=8)  # the codebook kernels unpack 1 to 8 bits
    mask = np.ones(W.shape, bool) if mask is None else as_mask(mask, "mask", W.shape)
    survivors = W[mask]
    centroids, labels = kmeans_1d(survivors, init_centroids(survivors, 2**bits, init, seed))
    index = np.zeros(W.shape, dtype=np.int64)
    index[mask] = labels
    return Codebook(centroids, index, mask)
