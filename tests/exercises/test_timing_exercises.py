"""Hidden tests for chapter 7, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest
import scipy.sparse

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("07_timing.py"), indirect=True)
def test_timing_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(17)
        for _ in range(10):
            m, n = (int(v) for v in rng.integers(1, 400, size=2))
            r = ns["break_even_rank"](m, n)
            assert r * (m + n) < m * n or r == 0
            assert (r + 1) * (m + n) >= m * n
            A = scipy.sparse.random(m, n, float(rng.uniform(0, 0.3)), rng=rng, format="csr")
            x = rng.standard_normal(n)
            assert np.allclose(ns["csr_matvec"](A.indptr, A.indices, A.data, x), A @ x)
            assert ns["csr_bytes"](m, A.nnz, 4, 8) == 12 * A.nnz + 8 * (m + 1)

    _expect(solved, test)
