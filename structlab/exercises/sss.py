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
