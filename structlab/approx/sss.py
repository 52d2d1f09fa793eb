"""Finding an SSS matrix for a dense one: exact realization, truncation, budgeted fit.

The blocks below the diagonal of ``W`` at cut ``k`` (rows of the stages after
``k``, columns of the stages up to ``k``) form the *Hankel block* ``H_k``; the
smallest state that generates them exactly has ``rank(H_k)`` entries. The
realization here walks the cuts once, left to right: the Hankel block at cut
``k`` is the previous one (already factored as ``U S V^T``, minus the rows of
stage ``k``) next to the new column block, so one thin SVD of
``[U[m_k:] S | W_block]`` per cut gives its column basis ``U_k`` (kept
orthonormal: the *output normal* form) and, from it, ``C_k = U_k[:m_{k+1}]``,
``B_k`` (the new columns' coordinates) and ``A_k = U_k^T U_{k-1}[m_k:]``.
Keeping all nonzero singular values gives the exact minimal realization;
keeping ``d_k`` of them, a truncated one. The blocks above the diagonal are the
same construction on ``W.T``.
"""

import numpy as np

from structlab._validate import as_matrix, as_numpy, check_float, check_int
from structlab.structures.sss import SSS, Causal, check_sizes, offsets


# A partition is built as a Python list: a million stages (8 MB) is far beyond any
# matrix here and still instant; more is refused rather than exhausting memory.
MAX_STAGES = 2**20


def uniform_partition(size, stages):
    """Split ``size`` into ``stages`` block sizes differing by at most one (larger first).

    Examples
    --------
    >>> uniform_partition(10, 4).tolist()
    [3, 3, 2, 2]
    """
    size = check_int(size, "size", low=0)
    stages = check_int(stages, "stages", low=1, high=min(max(size, 1), MAX_STAGES))
    base, larger = divmod(size, stages)
    return np.array([base + 1] * larger + [base] * (stages - larger), dtype=np.int64)


def causal_realization(W, out_sizes, in_sizes, dims=None, tol=1e-12):
    """Generators of the blocks of ``W`` below the block diagonal, one SVD per cut.

    Parameters
    ----------
    W : ndarray, shape (m, n)
    out_sizes, in_sizes : sequence of int
        Row and column stage sizes.
    dims : sequence of int, optional
        State size to keep at each of the ``K - 1`` cuts (capped by what the cut
        can hold). Default: every singular value above ``tol * ||W||_F``, the
        exact minimal realization.
    tol : float

    Returns
    -------
    system : Causal
    spectra : list of ndarray
        The singular values seen at each cut (all of them, before truncation).
    """
    W = as_matrix(W, "W")
    out_sizes = check_sizes(out_sizes, "out_sizes", total=W.shape[0])
    in_sizes = check_sizes(in_sizes, "in_sizes", total=W.shape[1])
    if len(out_sizes) != len(in_sizes):
        raise ValueError(f"out_sizes and in_sizes must have the same number of stages, got "
                         f"{len(out_sizes)} and {len(in_sizes)}")
    tol = check_float(tol, "tol", low=0)
    rows, cols = offsets(out_sizes), offsets(in_sizes)
    K = len(out_sizes)
    if dims is not None:
        dims = as_numpy(dims, "state dims")
        if dims.ndim != 1 or (dims.size and dims.dtype.kind not in "iu") or np.any(dims < 0):
            raise ValueError(f"state dims must be a sequence of non-negative integers, got {dims}")
        if len(dims) != K - 1:
            raise ValueError(f"state dims must give one size per cut ({K - 1}), got {len(dims)}")
    threshold = tol * np.linalg.norm(W)
    B, A, C, spectra = [], [], [], []
    basis = weights = None
    for k in range(K - 1):
        block = W[rows[k + 1]:, cols[k]:cols[k + 1]]
        M = block if basis is None else np.hstack([basis[out_sizes[k]:] * weights, block])
        U, s, Vt = np.linalg.svd(M, full_matrices=False)
        spectra.append(s)
        d = int(np.count_nonzero(s > threshold)) if dims is None else min(int(dims[k]), len(s))
        U, s, Vt = U[:, :d], s[:d], Vt[:d]
        B.append(s[:, None] * Vt[:, M.shape[1] - in_sizes[k]:])
        C.append(U[:out_sizes[k + 1]])
        A.append(np.zeros((d, 0)) if basis is None else U.T @ basis[out_sizes[k]:])
        basis, weights = U, s
    return Causal(out_sizes, in_sizes, B, A, C), spectra


def sss_realization(W, row_sizes, col_sizes, lower_dims=None, upper_dims=None, tol=1e-12):
    """An SSS matrix for ``W`` with the given stages: exact, or truncated to the given states.

    Parameters
    ----------
    W : array_like, shape (m, n)
    row_sizes, col_sizes : sequence of int
        Stage sizes summing to ``m`` and ``n`` (zeros allowed).
    lower_dims, upper_dims : sequence of int, optional
        States to keep at each cut below / above the diagonal; default exact
        (every singular value above ``tol * ||W||_F``).
    tol : float

    Returns
    -------
    SSS

    Examples
    --------
    >>> W = np.tril(np.ones((6, 6)))  # lower blocks of rank 1, upper blocks zero
    >>> S = sss_realization(W, [2, 2, 2], [2, 2, 2])
    >>> [d.tolist() for d in S.state_dims], np.allclose(S.toarray(), W)
    ([[1, 1], [0, 0]], True)
    """
    W = as_matrix(W, "W")
    m, n = W.shape
    row_sizes = check_sizes(row_sizes, "row_sizes", total=m)
    col_sizes = check_sizes(col_sizes, "col_sizes", total=n)
    if len(row_sizes) != len(col_sizes):
        raise ValueError(f"row_sizes and col_sizes must have the same number of stages, got "
                         f"{len(row_sizes)} and {len(col_sizes)}")
    rows, cols = offsets(row_sizes), offsets(col_sizes)
    D = [W[rows[i]:rows[i + 1], cols[i]:cols[i + 1]].copy() for i in range(len(row_sizes))]
    lower, _ = causal_realization(W, row_sizes, col_sizes, lower_dims, tol)
    upper, _ = causal_realization(W.T, col_sizes, row_sizes, upper_dims, tol)
    return SSS(row_sizes, col_sizes, D, lower, upper)


def allocate_states(spectra, partitions, budget):
    """Spend ``budget`` parameters on state sizes, most Hankel energy per parameter first.

    Each step adds one state at the cut (of either system) whose next singular
    value squared — the energy it would keep — is largest per parameter it
    costs (a row of ``B_k`` and of ``A_k``, a column of ``C_k`` and of
    ``A_{k+1}``), until no affordable step is left.

    Parameters
    ----------
    spectra : list of (list of ndarray)
        Per system, the singular values at each cut (see :func:`causal_realization`).
    partitions : list of (out_sizes, in_sizes)
        Per system, its row and column stage sizes.
    budget : int

    Returns
    -------
    dims : list of ndarray
        Per system, the state size at each cut.
    spent : int
    """
    cuts = [len(values) for values in spectra]
    if sum(cuts) == 0:  # one stage: no cut, no state
        return [np.zeros(0, dtype=np.int64) for _ in spectra], 0
    # One padded table of energies per cut of both systems: column d is what the
    # (d+1)-th state there keeps (0 once the cut can hold no more).
    width = 1 + max((len(s) for values in spectra for s in values), default=0)
    energy = np.zeros((sum(cuts), width))
    fixed = np.zeros(sum(cuts))  # cost of a state before counting its neighbours in A
    row = 0
    for values, (outs, ins) in zip(spectra, partitions):
        for k, s in enumerate(values):
            energy[row, :len(s)] = np.asarray(s) ** 2
            fixed[row] = ins[k] + outs[k + 1]
            row += 1
    dims = np.zeros(sum(cuts), dtype=np.int64)
    first = np.cumsum([0, *cuts])[:-1]  # first cut of each system: no A_k before it
    has_before = np.ones(sum(cuts), dtype=bool)
    has_before[first] = False
    has_after = np.roll(has_before, -1)
    has_after[-1] = False
    spent = 0
    while True:
        before = np.where(has_before, np.roll(dims, 1), 0)
        after = np.where(has_after, np.roll(dims, -1), 0)
        cost = fixed + before + after
        gain = energy[np.arange(len(dims)), dims]
        value = np.where((gain > 0) & (spent + cost <= budget), gain / np.maximum(cost, 1), -1.0)
        best = int(np.argmax(value)) if len(value) else 0
        if not len(value) or value[best] < 0:
            return np.split(dims, np.cumsum(cuts)[:-1]), spent
        dims[best] += 1
        spent += int(cost[best])


def diagonal_cost(row_sizes, col_sizes):
    """Numbers stored by the diagonal blocks."""
    return int(np.dot(row_sizes, col_sizes))


def _uniform_state(rows, cols, budget):
    """The state size ``d`` that ``budget`` buys at every cut of both systems."""
    K = len(rows)
    linear = float(rows[1:].sum() + cols[:-1].sum() + cols[1:].sum() + rows[:-1].sum())
    quadratic = 2.0 * max(K - 2, 0)  # the A's are d x d except the first of each system
    if quadratic == 0:
        return int(budget // max(linear, 1))
    return int((-linear + np.sqrt(linear**2 + 4 * quadratic * budget)) / (2 * quadratic))


def truncate(system, dims):
    """A causal system in output normal form, cut down to ``dims`` states at each cut.

    With orthonormal bases ``U_k`` the generators of the leading ``d_k`` states
    are leading slices: ``B_k[:d_k]``, ``C_k[:, :d_k]`` and
    ``A_k[:d_k, :d_{k-1}]`` (= ``U_k[:, :d_k]^T U_{k-1}[m_k:, :d_{k-1}]``).
    """
    dims = [min(int(d), int(have)) for d, have in zip(dims, system.dims)]
    return Causal(system.out_sizes, system.in_sizes,
                  [B[:d] for B, d in zip(system.B, dims)],
                  [A[:d, :(dims[k - 1] if k else 0)] for k, (A, d) in enumerate(zip(system.A, dims))],
                  [C[:, :d] for C, d in zip(system.C, dims)])


def _quick_fit(W, stages, nparams):
    """A fast SSS fit with ``stages`` uniform stages: (SSS, lower dims, upper dims).

    One realization per system, capped at twice the state size the budget buys
    at every cut alike (so its SVDs stay thin), gives the Hankel spectra to
    allocate from; the chosen states are then leading slices of it.
    """
    m, n = W.shape
    rows, cols = uniform_partition(m, stages), uniform_partition(n, stages)
    left = nparams - diagonal_cost(rows, cols)
    cap = 2 * _uniform_state(rows, cols, left) + 1
    partitions = [(rows, cols), (cols, rows)]
    fits = [causal_realization(M, outs, ins, dims=[cap] * (stages - 1))
            for M, (outs, ins) in zip([W, W.T], partitions)]
    dims, _ = allocate_states([spectra for _, spectra in fits], partitions, left)
    offs_r, offs_c = offsets(rows), offsets(cols)
    D = [W[offs_r[i]:offs_r[i + 1], offs_c[i]:offs_c[i + 1]].copy() for i in range(stages)]
    lower, upper = (truncate(system, d) for (system, _), d in zip(fits, dims))
    return SSS(rows, cols, D, lower, upper), dims


def smallest_budget(shape):
    """The fewest numbers any SSS approximation here stores: ``max(m, n)``.

    That is the block diagonal with ``min(m, n)`` stages and no states at all.
    """
    return max(shape)


def sss_approximate(W, nparams, *, stages=None):
    """The SSS matrix with at most ``nparams`` numbers that fits ``W`` best among those tried.

    For a number of stages ``K`` (uniform partitions), the diagonal blocks are
    kept and the rest of the budget goes to the state sizes of both systems by
    :func:`allocate_states`, each cut getting what its Hankel spectrum is
    worth. ``K`` itself is chosen by a short search: from the fewest stages
    whose diagonal fits the budget, up a geometric ladder, stopping once the
    error rises. The result never exceeds ``nparams``.

    Parameters
    ----------
    W : array_like, shape (m, n)
    nparams : int
        Budget, at least :func:`smallest_budget`.
    stages : int, optional
        Use exactly this many stages (no search).

    Returns
    -------
    SSS

    Raises
    ------
    ValueError
        When no SSS matrix fits the budget; the message names the smallest one.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> W = rng.standard_normal((40, 30))
    >>> S = sss_approximate(W, nparams=600)
    >>> S.nparams <= 600, len(S.row_sizes), round(float(np.linalg.norm(S.toarray() - W) / np.linalg.norm(W)), 3)
    (True, 3, 0.673)
    """
    W = as_matrix(W, "W")
    m, n = W.shape
    if not W.size:
        raise ValueError(f"W must have at least one row and one column, got shape {W.shape}")
    smallest = smallest_budget(W.shape)
    nparams = check_int(nparams, "nparams", low=1)
    if nparams < smallest:
        raise ValueError(f"nparams must be at least {smallest} for a {m}x{n} matrix (its block "
                         f"diagonal with {min(m, n)} stages and no states), got {nparams}")
    if stages is not None:
        stages = check_int(stages, "stages", low=1, high=min(m, n))
        if diagonal_cost(uniform_partition(m, stages), uniform_partition(n, stages)) > nparams:
            raise ValueError(f"the diagonal blocks of {stages} stages alone exceed nparams="
                             f"{nparams}; use more stages")
        _, dims = _quick_fit(W, stages, nparams)
    else:
        stages, dims = _best_stages(W, nparams)
    m_sizes, n_sizes = uniform_partition(m, stages), uniform_partition(n, stages)
    # Re-realize with the chosen states: truncating cut by cut as the SVDs go
    # (rather than slicing the capped realization) loses less.
    return sss_realization(W, m_sizes, n_sizes, *dims)


def _best_stages(W, nparams):
    """Number of stages for :func:`sss_approximate`, and the quick fit's state sizes there.

    A walk on a geometric ladder (factor 1.5) starting at twice the fewest stages
    whose diagonal fits the budget: upwards while the quick-fit error falls, or,
    if the first step up does not help, downwards.
    """
    m, n = W.shape
    most = min(m, n)
    fewest = next(K for K in range(1, most + 1)
                  if diagonal_cost(uniform_partition(m, K), uniform_partition(n, K)) <= nparams)
    tried = {}

    def error(K):
        if K not in tried:
            fit, dims = _quick_fit(W, K, nparams)
            tried[K] = (np.linalg.norm(fit.toarray() - W), dims)
        return tried[K][0]

    def up(K):
        return min(most, max(K + 1, round(K * 1.5)))

    def down(K):
        return max(fewest, min(K - 1, round(K / 1.5)))

    K = min(2 * fewest, most)
    step = up if error(up(K)) < error(K) else down
    while step(K) != K and error(step(K)) < error(K):
        K = step(K)
    return K, tried[K][1]
