"""Hidden tests for chapter 5, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest

from structlab.structures.sss import SSS

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("05_sss_imagenet.py"), indirect=True)
def test_sss_exercises(namespace, random_sss):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(14)
        for _ in range(8):
            K = int(rng.integers(1, 6))
            rows, cols = (rng.integers(0, 5, K).tolist() for _ in range(2))
            lo, up = (rng.integers(0, 3, K - 1).tolist() for _ in range(2))
            S = random_sss(rows, cols, lo, up)
            x = rng.standard_normal(sum(cols))
            L = S.lower
            assert np.allclose(ns["causal_matvec"](L.B, L.A, L.C, rows, cols, x),
                               L.matmat(x[:, None])[:, 0])
            W = S.toarray()
            r, c = np.cumsum([0, *rows]), np.cumsum([0, *cols])
            for k in range(K - 1):
                assert ns["hankel_rank"](W, rows, cols, k) == np.linalg.matrix_rank(
                    W[r[k + 1]:, :c[k + 1]])
            assert ns["sss_nparams"](rows, cols, lo, up) == S.nparams

    _expect(solved, test)
