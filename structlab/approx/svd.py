"""Truncated SVD: the best rank-``r`` approximation, and how to choose ``r``.

By Eckart–Young, keeping the ``r`` largest singular triplets of ``W`` gives the
rank-``r`` matrix closest to ``W`` in Frobenius and spectral norm. A layer's
bias joins the weight as one more column (:func:`absorb_bias`), so one SVD
compresses both.

Examples
--------
>>> import numpy as np
>>> W = np.random.default_rng(0).standard_normal((10, 13))
>>> b = np.zeros(10)
>>> S = lowrank_approximation(absorb_bias(W, b), energy=0.9)
>>> S.shape, S.rank
((10, 14), 6)
"""

import numpy as np
import scipy.linalg

from structlab._validate import as_matrix, as_vector, check_int, check_shape, check_share
from structlab.structures.lowrank import LowRank


def absorb_bias(W, b):
    """Augmented matrix ``[W | b]`` so that ``W @ x + b == [W | b] @ [x; 1]``.

    Uses torch's layout, ``W`` of shape (out, in). The seed (scikit-learn's
    ``coefs_``, shape (in, out)) stacks ``[W; b]`` instead: the transpose of
    this, with the same singular values.

    Parameters
    ----------
    W : array_like, shape (m, n)
    b : array_like, shape (m,)

    Returns
    -------
    ndarray, shape (m, n + 1)
    """
    W = as_matrix(W, "W")
    b = as_vector(b, "b", size=W.shape[0])
    return np.hstack([W, b[:, None].astype(W.dtype)])


def truncated_svd(W, rank):
    """The ``rank`` largest singular triplets of ``W``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    rank : int, 1 <= rank <= min(m, n)

    Returns
    -------
    U : ndarray, shape (m, rank)
    s : ndarray, shape (rank,), decreasing
    Vt : ndarray, shape (rank, n)
    """
    W = as_matrix(W, "W")
    rank = check_int(rank, "rank", low=1, high=min(W.shape))
    U, s, Vt = scipy.linalg.svd(W, full_matrices=False)
    return U[:, :rank], s[:rank], Vt[:rank]


def rank_for_energy(s, energy):
    """Smallest rank whose singular values keep ``energy`` of ``sum(s**2)``.

    Parameters
    ----------
    s : array_like, singular values in decreasing order
    energy : float in (0, 1]

    Examples
    --------
    >>> rank_for_energy([3.0, 2.0, 1.0], 0.9)
    2
    """
    s = as_vector(s, "s").astype(np.float64)
    energy = check_share(energy, "energy")
    if not s.any() or s.min() < 0:
        raise ValueError("s must be singular values: non-negative, not all zero")
    s = s / s.max()  # squares of tiny values would underflow to 0
    cumulative = np.cumsum(s**2) / np.sum(s**2)
    # Rounding can leave cumulative[-1] a hair below 1: never ask for more ranks than exist.
    return min(int(np.searchsorted(cumulative, energy - 1e-12) + 1), len(s))


def rank_for_budget(shape, nparams):
    """Largest rank whose two factors fit in ``nparams`` numbers: ``r * (m + n)``.

    Examples
    --------
    >>> rank_for_budget((10, 14), 48)
    2
    """
    m, n = check_shape(shape, "shape")
    nparams = check_int(nparams, "nparams", low=0)
    rank = min(nparams // (m + n), m, n)
    if rank < 1:
        raise ValueError(f"nparams={nparams} is below one rank of a {m}x{n} matrix "
                         f"({m + n} numbers)")
    return int(rank)


def allocate_ranks(spectra, costs, nparams):
    """One budget of stored numbers shared among layers: a rank per layer, greedily.

    A unit of rank of layer ``l`` costs ``costs[l]`` numbers and keeps
    ``s[i]**2 / sum(s**2)`` of that layer's energy. Units are taken best
    energy-per-number first (ties: the lower layer), skipping those that no
    longer fit. Invariant: at most ``nparams`` numbers are used, and no unit
    left out would fit in what remains.

    Parameters
    ----------
    spectra : sequence of array_like
        Each layer's singular values, decreasing.
    costs : sequence of int
        Numbers per unit of rank, e.g. ``m + n + 1`` for a layer with a bias.
    nparams : int

    Returns
    -------
    list of int
        One rank per layer.

    Examples
    --------
    >>> allocate_ranks([[3.0, 1.0], [2.0, 2.0]], [1, 1], nparams=3)
    [1, 2]
    """
    costs = [check_int(c, f"costs[{l}]", low=1) for l, c in enumerate(costs)]
    left = check_int(nparams, "nparams", low=0)
    if len(costs) != len(spectra):
        raise ValueError(f"costs must have one entry per spectrum ({len(spectra)}), got {len(costs)}")
    units = []  # (energy per number, layer): a layer's units come in decreasing order
    for l, s in enumerate(spectra):
        s = as_vector(s, f"spectra[{l}]").astype(np.float64)
        if not s.any() or s.min() < 0 or np.any(np.diff(s) > 0):
            raise ValueError(f"spectra[{l}] must be singular values: decreasing, >= 0, not all 0")
        energy = (s / s.max()) ** 2  # scaled first: squares of tiny values would underflow
        units += [(-e / costs[l], l) for e in energy / energy.sum()]
    ranks = [0] * len(costs)
    for _, l in sorted(units):  # best ratio first; on equal ratios the lower layer index
        if costs[l] <= left:
            ranks[l], left = ranks[l] + 1, left - costs[l]
    return ranks


def lowrank_approximation(W, rank=None, *, energy=None, nparams=None):
    """Best low-rank approximation of ``W``, rank given directly or by a budget.

    Give exactly one of ``rank``, ``energy`` (fraction of squared singular
    values kept) or ``nparams`` (numbers the factors may store).

    Returns
    -------
    LowRank
        ``U @ V`` with ``U = U_r * s_r`` and ``V = Vt_r`` (orthonormal rows), so
        ``V @ x`` is the projection of ``x`` onto the top right-singular space.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.diag([3.0, 2.0, 1.0])
    >>> lowrank_approximation(W, nparams=12).rank
    2
    """
    W = as_matrix(W, "W")
    given = sum(arg is not None for arg in (rank, energy, nparams))
    if given != 1:
        raise ValueError("give exactly one of rank, energy or nparams")
    if energy is not None:
        rank = rank_for_energy(scipy.linalg.svdvals(W), energy)
    elif nparams is not None:
        rank = rank_for_budget(W.shape, nparams)
    U, s, Vt = truncated_svd(W, rank)
    return LowRank(U * s, Vt)
