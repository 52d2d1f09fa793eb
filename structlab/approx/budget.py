"""Every structure of the course fitted to one matrix at one size (chapters 7 and 8).

One entry point, :func:`approximate`, so a benchmark, an export or a capstone
comparison can loop over methods without knowing each chapter's API.
"""

import numpy as np

from structlab._validate import as_matrix, check_int, check_share

METHODS = ("lowrank", "pruning", "codebook", "pruned codebook", "sparse product", "sss")


def hadamard_butterflies(n):
    """The Walsh-Hadamard matrix of order ``n`` (a power of two) as its ``log2 n`` butterfly factors.

    ``H_n = B_{n/2} ... B_2 B_1`` with ``B_s = I ⊗ [[1, 1], [1, -1]] ⊗ I_s``:
    2 n nonzeros per factor, ``2 n log2 n`` in all against ``n²`` dense.

    Examples
    --------
    >>> S = hadamard_butterflies(4)
    >>> S.toarray().astype(int).tolist()
    [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]
    >>> S.nparams
    16
    """
    import scipy.sparse

    from structlab.structures.sparse_product import SparseProduct

    n = check_int(n, "n", low=2, high=1 << 20)  # 2**20: 40 M stored numbers already
    if n & (n - 1):
        raise ValueError(f"n must be a power of two, got {n}")
    h2 = np.array([[1.0, 1.0], [1.0, -1.0]])
    strides = [1 << j for j in range(n.bit_length() - 1)]
    return SparseProduct([scipy.sparse.kron(scipy.sparse.kron(scipy.sparse.identity(n // (2 * s)),
                                                              h2), scipy.sparse.identity(s),
                                            format="csr") for s in reversed(strides)])


def approximate(W, method, share=0.1, *, bits=None, n_iter=20, seed=0):
    """``W`` approximated by ``method`` with about ``share`` of its numbers (a structure).

    Parameters
    ----------
    W : array_like, shape (m, n)
    method : str
        One of :data:`METHODS`:

        * ``lowrank``: truncated SVD with at most ``share * m * n`` numbers
          (at least rank 1, ``m + n`` numbers);
        * ``pruning``: the largest ``share`` of the entries by magnitude (CSR);
        * ``codebook``: every entry shared among ``2**bits`` values (k-means,
          linear init; ``bits`` default 4; ``share`` unused: the indices
          are what shrinks, ``bits / 32`` of float32);
        * ``pruned codebook``: pruning, then the survivors shared among
          ``2**bits`` values (Deep Compression; ``bits`` default 5);
        * ``sparse product``: two sparse factors (hierarchical palm4MSA,
          ``n_iter`` sweeps) with ``k`` nonzeros per row, ``k`` as large as
          the budget allows;
        * ``sss``: an SSS matrix with at most ``share * m * n`` numbers.
    share : float in (0, 1]
    bits : int, optional
    n_iter : int
    seed : int

    Returns
    -------
    Structure

    Examples
    --------
    >>> W = np.random.default_rng(0).standard_normal((40, 30))
    >>> [approximate(W, m, 0.2).nparams for m in ("lowrank", "pruning", "sss")]
    [210, 240, 237]
    """
    from structlab.approx.kmeans import kmeans_share
    from structlab.approx.palm4msa import hierarchical, rectangular_constraints
    from structlab.approx.pruning import magnitude_mask
    from structlab.approx.sss import sss_approximate
    from structlab.approx.svd import lowrank_approximation
    from structlab.structures.sparse import Sparse

    W = as_matrix(W, "W")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    share = check_share(share)
    if bits is not None:
        bits = check_int(bits, "bits", low=1, high=8)
    m, n = W.shape
    if not W.size:
        raise ValueError(f"W must have at least one row and one column, got shape {W.shape}")
    budget = int(share * m * n)
    if method == "lowrank":
        return lowrank_approximation(W, nparams=max(budget, m + n))
    if method == "sss":
        return sss_approximate(W, budget)
    if method == "codebook":
        return kmeans_share(W, bits or 4, seed=seed)
    mask = magnitude_mask(W, sparsity=1 - share) if share < 1 else np.ones(W.shape, bool)
    if method == "pruning":
        return Sparse(W * mask, mask=mask)
    if method == "pruned codebook":
        return kmeans_share(W, bits or 5, mask=mask, seed=seed)
    k = max(1, min(min(m, n), budget // (m + min(m, n))))  # m k + r k numbers for 2 factors
    return hierarchical(W, *rectangular_constraints(W.shape, 2, k), n_iter, seed=seed).product
