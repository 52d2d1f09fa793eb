import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def random_causal(rng):
    """Factory: a random causal SSS system with the given partitions and state sizes."""
    from structlab.structures.sss import Causal

    def make(outs, ins, dims):
        K = len(outs)
        return Causal(outs, ins,
                      B=[rng.standard_normal((dims[k], ins[k])) for k in range(K - 1)],
                      A=[rng.standard_normal((dims[k], dims[k - 1] if k else 0))
                         for k in range(K - 1)],
                      C=[rng.standard_normal((outs[k + 1], dims[k])) for k in range(K - 1)])
    return make


@pytest.fixture
def random_sss(rng, random_causal):
    """Factory: a random SSS matrix with the given partitions and state sizes."""
    from structlab.structures.sss import SSS

    def make(rows, cols, lower_dims, upper_dims):
        D = [rng.standard_normal((r, c)) for r, c in zip(rows, cols)]
        return SSS(rows, cols, D, random_causal(rows, cols, lower_dims),
                   random_causal(cols, rows, upper_dims))
    return make
