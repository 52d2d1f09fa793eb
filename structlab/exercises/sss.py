"""Checks for chapter 5, sequentially semiseparable matrices."""

import numpy as np

from structlab.exercises import register
from structlab.structures.sss import SSS, Causal

CHAPTER = "05_sss_imagenet"


def _random_causal(rng, outs, ins, dims):
    K = len(outs)
    return Causal(outs, ins, [rng.standard_normal((dims[k], ins[k])) for k in range(K - 1)],
                  [rng.standard_normal((dims[k], dims[k - 1] if k else 0)) for k in range(K - 1)],
                  [rng.standard_normal((outs[k + 1], dims[k])) for k in range(K - 1)])


CASES = [([2, 3, 1, 4], [3, 1, 2, 2], [1, 2, 2]), ([4, 4], [3, 5], [3]),
         ([1, 0, 3, 2, 2], [2, 2, 0, 1, 3], [2, 1, 3, 1])]


@register("causal_matvec", CHAPTER, points=3)
def _causal_matvec(func):
    rng = np.random.default_rng(31)
    for outs, ins, dims in CASES:
        system = _random_causal(rng, outs, ins, dims)
        x = rng.standard_normal(sum(ins))
        got = np.asarray(func(system.B, system.A, system.C, outs, ins, x))
        expected = system.matmat(x[:, None])[:, 0]
        assert got.shape == expected.shape, (
            f"the result must have {sum(outs)} entries (one per row), got shape {got.shape}")
        assert np.allclose(got, expected), (
            f"stages {outs} x {ins}: wrong values. The state after stage k is "
            "B[k] @ x_k + A[k] @ (previous state); stage k+1 reads C[k] @ state; stage 0 "
            "reads nothing")
    return f"matches the recursion on {len(CASES)} systems, empty stages included"


@register("hankel_rank", CHAPTER, points=1)
def _hankel_rank(func):
    rng = np.random.default_rng(32)
    for rows, cols, dims in CASES:
        system = _random_causal(rng, rows, cols, dims)
        D = [rng.standard_normal((r, c)) for r, c in zip(rows, cols)]
        upper = _random_causal(rng, cols, rows, [0] * (len(rows) - 1))
        W = SSS(rows, cols, D, system, upper).toarray()
        r, c = np.cumsum([0, *rows]), np.cumsum([0, *cols])
        for k in range(len(rows) - 1):
            expected = int(np.linalg.matrix_rank(W[r[k + 1]:, :c[k + 1]]))
            got = func(W, rows, cols, k)
            assert got == expected, (
                f"stages {rows} x {cols}, cut {k}: you said {got}, the Hankel block has rank "
                f"{expected}. It holds the rows of the stages after k and the columns of the "
                "stages up to k (diagonal blocks excluded)")
    return "right at every cut of 3 matrices"


@register("sss_nparams", CHAPTER, points=2)
def _sss_nparams(func):
    rng = np.random.default_rng(33)
    for rows, cols, dims in CASES:
        upper_dims = list(rng.integers(0, 4, len(rows) - 1))
        S = SSS(rows, cols, [np.zeros((r, c)) for r, c in zip(rows, cols)],
                _random_causal(rng, rows, cols, dims), _random_causal(rng, cols, rows, upper_dims))
        got = func(rows, cols, dims, upper_dims)
        assert got == S.nparams, (
            f"stages {rows} x {cols}, states {dims} / {upper_dims}: you counted {got}, the "
            f"matrix stores {S.nparams}. Count D, and B, A, C of both systems (the upper one "
            "has rows and columns swapped; the first A of each system is empty)")
    return f"right on {len(CASES)} matrices"


# The design task's matrices: rows and columns come in 7 segments of unknown lengths, the
# same for both. Inside a segment (a diagonal block) anything goes; between segments one
# rank-2 matrix below the diagonal and another above, plus noise at 1e-3 of the entries'
# size. Measured on seeds 0 to 11: the segments as stages store 17 to 20 % of the numbers
# at 0.09 % error (also after `rescaled`); at a quarter of the numbers, uniform stages miss
# (sss_approximate's search 3.9 to 9.7 %; the best of 5 to 64 stages 4.6 to 8.6 %, except
# seed 7, whose nearly even segments 7 uniform stages fit), and low rank misses by more
# (32 to 35 %).
SEGMENTED_SIZE = 256
SEGMENTED_SEGMENTS = 7
SEGMENTED_RANK = 2
DESIGN_SHARE = 1 / 4
DESIGN_ERROR = 0.01
DESIGN_SEEDS = (0, 1, 2)  # the visible check's matrices; the hidden test rescales 3 to 9


def segmented_matrix(seed, size=SEGMENTED_SIZE):
    """A ``size x size`` matrix that is SSS for stages the caller is not told, and those stages.

    Returns
    -------
    W : ndarray, shape (size, size)
    segments : ndarray of int
        The stage sizes: 7 segments of at least 8 rows, whose diagonal blocks and
        rank-2 states hold at most a fifth of the numbers.

    Examples
    --------
    >>> W, segments = segmented_matrix(0)
    >>> W.shape, len(segments), int(segments.sum()), int((segments**2).sum()) <= W.size / 5
    ((256, 256), 7, 256, True)
    """
    rng = np.random.default_rng(seed)
    k = SEGMENTED_SEGMENTS
    while True:  # rejection sampling: 58 % of the draws fit, so about two draws
        segments = 8 + rng.multinomial(size - 8 * k, rng.dirichlet([3.0] * k))
        if (segments**2).sum() + 8 * size <= size * size / 5:
            break
    stage = np.repeat(np.arange(k), segments)
    below, above = stage[:, None] > stage[None, :], stage[:, None] < stage[None, :]
    u, v, p, q = (rng.standard_normal((size, SEGMENTED_RANK)) for _ in range(4))
    diagonal = rng.standard_normal((size, size)) * np.sqrt(SEGMENTED_RANK)
    W = np.where(below, u @ v.T, np.where(above, p @ q.T, diagonal))
    noise = 1e-3 * np.linalg.norm(W) / size * rng.standard_normal((size, size))
    return W + noise, segments


def rescaled(W, seed):
    """``diag(r) @ W @ diag(c)`` for random ``r, c`` in [0.5, 2]: the same stages, other numbers.

    The hidden test grades on rescaled matrices, so that an answer cannot look a
    matrix up among :func:`segmented_matrix`'s.
    """
    rng = np.random.default_rng(seed)
    r, c = (2.0 ** rng.uniform(-1, 1, n) for n in W.shape)
    return r[:, None] * W * c[None, :]


def design_outcome(func, W):
    """``(share of the numbers, relative error)`` of ``func``'s SSS for the matrix ``W``."""
    S = func(W.copy())
    assert isinstance(S, SSS), (
        f"return an SSS matrix (structlab.structures.sss.SSS, e.g. from sss_realization), "
        f"got {type(S).__name__}")
    assert S.shape == W.shape, f"your SSS has shape {S.shape}, the matrix {W.shape}"
    return S.nparams / W.size, float(np.linalg.norm(S.toarray() - W) / np.linalg.norm(W))


def check_sss_design(func, matrices):
    """Assert that ``func`` meets the share and the error on each of ``matrices``."""
    for i, W in enumerate(matrices):
        share, error = design_outcome(func, W)
        assert share <= DESIGN_SHARE, (
            f"matrix {i}: your SSS stores {share:.1%} of the numbers; the target is at most "
            f"{DESIGN_SHARE:.0%}")
        assert error <= DESIGN_ERROR, (
            f"matrix {i}: relative error {error:.2%}; the target is at most {DESIGN_ERROR:.0%}")
    return (f"at most {DESIGN_SHARE:.0%} of the numbers and {DESIGN_ERROR:.0%} error on "
            f"{len(matrices)} matrices whose stages you were not told")


@register("sss_design", CHAPTER, points=3)
def _sss_design(func):
    return check_sss_design(func, [segmented_matrix(seed)[0] for seed in DESIGN_SEEDS])
