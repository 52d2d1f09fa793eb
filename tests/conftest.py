import os

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

# The fuzz suite (tests/fuzz): a short run by default, as CI does; a long one with
# `pytest tests/fuzz --hypothesis-profile=long`.
_FUZZ = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.filter_too_much])
settings.register_profile("ci", max_examples=40, derandomize=True, **_FUZZ)
settings.register_profile("long", max_examples=2000, **_FUZZ)
settings.load_profile("ci")


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


@pytest.fixture
def every_structure(rng, random_sss):
    """One of every structure with a kernel, in odd shapes: a list of (name, structure)."""
    from structlab.structures.codebook import Codebook
    from structlab.structures.lowrank import LowRank
    from structlab.structures.sparse import Sparse
    from structlab.structures.sparse_product import SparseProduct

    def sparse(m, n, density):
        return rng.standard_normal((m, n)) * (rng.random((m, n)) < density)

    hadamard = [np.kron(np.kron(np.eye(2 ** (4 - j)), [[1.0, 1.0], [1.0, -1.0]]), np.eye(2 ** j))
                for j in range(5)]
    hadamard[2][3, 3] = 0.0  # a butterfly with a missing entry still takes the butterfly path
    return [
        ("dense", rng.standard_normal((13, 21))),
        ("lowrank", LowRank(rng.standard_normal((17, 3)), rng.standard_normal((3, 11)))),
        ("csr", Sparse(sparse(19, 23, 0.2))),
        ("csr empty rows", Sparse(np.diag([1.0, 0.0, 2.0]))),
        ("csr long rows", Sparse(sparse(7, 50, 0.8))),  # >= 16 per row: the SIMD gather loop
        *[(f"codebook {bits} bits", Codebook(rng.standard_normal(2 ** bits),
                                              rng.integers(0, 2 ** bits, (9, 14))))
          for bits in (1, 2, 3, 4, 5, 8)],
        ("codebook pruned 5 bits", Codebook(rng.standard_normal(32), rng.integers(0, 32, (11, 30)),
                                            mask=rng.random((11, 30)) < 0.3)),
        # rows of 16 entries and more: the vector (AVX-512 lookup) loops, dense and pruned
        *[(f"codebook long rows {bits} bits", Codebook(rng.standard_normal(2 ** bits),
                                                       rng.integers(0, 2 ** bits, (5, 45)),
                                                       mask=rng.random((5, 45)) < density))
          for bits in (2, 5, 6) for density in (1.0, 0.7)],
        ("product csr", SparseProduct([sparse(12, 20, 0.3), sparse(20, 7, 0.4), sparse(7, 9, 0.5)],
                                      lam=1.7)),
        ("product butterfly", SparseProduct(hadamard, lam=0.25)),
        ("sss", random_sss([3, 0, 4, 2], [2, 5, 0, 3], [2, 1, 0], [1, 3, 2])),
        ("sss one stage", random_sss([4], [6], [], [])),
    ]
