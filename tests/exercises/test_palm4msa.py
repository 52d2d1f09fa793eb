"""Hidden tests for chapter 4, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest

from structlab.approx.palm4msa import project_splin, rectangular_constraints
from structlab.exercises.palm4msa import palm_update_reference

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("04_palm4msa.py"), indirect=True)
def test_palm4msa_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(13)
        for _ in range(10):
            m, p, q, n = (int(v) for v in rng.integers(2, 30, size=4))
            k = int(rng.integers(1, q + 1))
            M = rng.standard_normal((p, q))
            assert np.array_equal(ns["splin"](M, k), project_splin(M, k))
            A, L, R = (rng.standard_normal(s) for s in [(m, n), (m, p), (q, n)])
            lam = float(rng.uniform(0.1, 3))
            assert np.allclose(ns["palm_update"](A, L, M, R, lam, k),
                               palm_update_reference(A, L, M, R, lam, k), atol=1e-9)
            shape, J = (int(m * 37), int(n * 23)), int(rng.integers(2, 6))
            fcons, rcons = rectangular_constraints(shape, J, min(k, *shape))
            assert ns["sparse_product_nnz"](*shape, J, min(k, *shape)) == sum(
                c.max_nnz for c in rcons[-1:] + fcons)

    _expect(solved, test)
