"""Hidden tests for chapter 5: random partitions (empty stages too), state sizes, and the
design task on seven segmented matrices the visible check never used, rescaled."""

import numpy as np

from structlab.exercises.sss import check_sss_design, rescaled, segmented_matrix
from structlab.structures.sss import SSS, Causal


def _random_sss(rng, rows, cols, lower, upper):
    def causal(outs, ins, dims):
        K = len(outs)
        return Causal(outs, ins, B=[rng.standard_normal((dims[k], ins[k])) for k in range(K - 1)],
                      A=[rng.standard_normal((dims[k], dims[k - 1] if k else 0)) for k in range(K - 1)],
                      C=[rng.standard_normal((outs[k + 1], dims[k])) for k in range(K - 1)])
    D = [rng.standard_normal((r, c)) for r, c in zip(rows, cols)]
    return SSS(rows, cols, D, causal(rows, cols, lower), causal(cols, rows, upper))


def _cases(seed):
    rng = np.random.default_rng(seed)
    for _ in range(8):
        K = int(rng.integers(1, 6))
        rows, cols = (rng.integers(0, 5, K).tolist() for _ in range(2))
        lower, upper = (rng.integers(0, 3, K - 1).tolist() for _ in range(2))
        yield rng, rows, cols, lower, upper, _random_sss(rng, rows, cols, lower, upper)


def hidden_causal_matvec(ns):
    for rng, rows, cols, _, _, S in _cases(14):
        x = rng.standard_normal(sum(cols))
        L = S.lower
        assert np.allclose(ns["causal_matvec"](L.B, L.A, L.C, rows, cols, x),
                           L.matmat(x[:, None])[:, 0])


def hidden_hankel_rank(ns):
    for _, rows, cols, _, _, S in _cases(15):
        W = S.toarray()
        r, c = np.cumsum([0, *rows]), np.cumsum([0, *cols])
        for k in range(len(rows) - 1):
            assert ns["hankel_rank"](W, rows, cols, k) == np.linalg.matrix_rank(W[r[k + 1]:, :c[k + 1]])


def hidden_sss_nparams(ns):
    for _, rows, cols, lower, upper, S in _cases(16):
        assert ns["sss_nparams"](rows, cols, lower, upper) == S.nparams


def hidden_sss_design(ns):
    # seven more matrices, rescaled so that none can be looked up by its seed
    check_sss_design(ns["sss_design"], [rescaled(segmented_matrix(seed)[0], 100 + seed)
                                        for seed in range(3, 10)])
