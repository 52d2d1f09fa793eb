"""Hidden tests for chapter 4: random shapes, sparsities and step sizes."""

import numpy as np

from structlab.approx.palm4msa import project_splin, rectangular_constraints
from structlab.exercises.palm4msa import check_conv2_product, palm_update_reference


def hidden_splin(ns):
    rng = np.random.default_rng(13)
    for _ in range(10):
        p, q = (int(v) for v in rng.integers(2, 30, size=2))
        k = int(rng.integers(1, q + 1))
        M = rng.standard_normal((p, q))
        assert np.array_equal(ns["splin"](M, k), project_splin(M, k))


def hidden_palm_update(ns):
    rng = np.random.default_rng(14)
    for _ in range(10):
        m, p, q, n = (int(v) for v in rng.integers(2, 30, size=4))
        k = int(rng.integers(1, q + 1))
        A, L, S, R = (rng.standard_normal(s) for s in [(m, n), (m, p), (p, q), (q, n)])
        lam = float(rng.uniform(0.1, 3))
        assert np.allclose(ns["palm_update"](A, L, S, R, lam, k),
                           palm_update_reference(A, L, S, R, lam, k), atol=1e-9)


def hidden_sparse_product_nnz(ns):
    rng = np.random.default_rng(15)
    for _ in range(10):
        shape = tuple(int(v) for v in rng.integers(2, 30, size=2) * [37, 23])
        n_factors, k = int(rng.integers(2, 6)), int(rng.integers(1, 30))
        k = min(k, *shape)
        fcons, rcons = rectangular_constraints(shape, n_factors, k)
        expected = sum(c.max_nnz for c in rcons[-1:] + fcons)
        assert ns["sparse_product_nnz"](*shape, n_factors, k) == expected


def hidden_conv2_product(ns):
    # the visible rules again, and on the test split, which the visible check never reads
    check_conv2_product(ns["conv2_product"], splits=("val", "test"))
