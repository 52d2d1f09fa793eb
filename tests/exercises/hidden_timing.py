"""Hidden tests for chapter 7: random layer shapes and sparse matrices."""

import numpy as np
import scipy.sparse

from structlab.exercises.timing import check_fast_fc1


def hidden_break_even_rank(ns):
    rng = np.random.default_rng(17)
    # ties, where m + n divides m n: r (m + n) = m n is no gain
    shapes = [(8, 8), (100, 100), (6, 3), (12, 6), (30, 20)]
    for m, n in shapes + [tuple(int(v) for v in rng.integers(1, 400, size=2)) for _ in range(20)]:
        r = ns["break_even_rank"](m, n)
        assert r * (m + n) < m * n or r == 0
        assert (r + 1) * (m + n) >= m * n


def hidden_csr_matvec(ns):
    rng = np.random.default_rng(18)
    for _ in range(10):
        m, n = (int(v) for v in rng.integers(1, 120, size=2))
        A = scipy.sparse.random(m, n, float(rng.uniform(0, 0.3)), rng=rng, format="csr")
        x = rng.standard_normal(n)
        got = np.asarray(ns["csr_matvec"](A.indptr, A.indices, A.data, x))
        assert got.shape == (m,) and np.allclose(got, A @ x)


def hidden_csr_bytes(ns):
    rng = np.random.default_rng(19)
    for _ in range(20):
        m, nnz = int(rng.integers(1, 5000)), int(rng.integers(0, 10**6))
        value, gap = int(rng.choice([2, 4, 8])), int(rng.choice([1, 2]))
        assert ns["csr_bytes"](m, nnz, value, gap) == nnz * (value + gap) + (m + 1) * 4


def hidden_fast_fc1(ns):
    # the visible rules again, and on the test split, which the visible check never reads
    check_fast_fc1(ns["fast_fc1"], splits=("val", "test"))
