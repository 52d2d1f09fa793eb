"""Fuzz cases that reach C: structures, packing, plans and the kernels.

A bug here can kill the interpreter, so ``test_fuzz_kernels.py`` runs this file
in a subprocess, once with the C kernels and once with the NumPy fallback
(``STRUCTLAB_NO_NATIVE=1``): a segfault then fails a test instead of ending
the run.
"""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

from structlab import kernels
from structlab.packing import pack
from structlab.structures.codebook import Codebook
from structlab.structures.lowrank import LowRank
from structlab.structures.sparse import Sparse
from structlab.structures.sparse_product import SparseProduct
from structlab.structures.sss import SSS, Causal

from .contract import holds
from .strategies import BAD_SCALARS, counts, malformed_csr, matrices, real_arrays, vectors


def _agrees_with_dense(S):
    """Every path computes what ``S.toarray()`` does, float32 and float64."""
    dense = S.toarray()
    X = np.random.default_rng(0).standard_normal((3, S.shape[1]))
    for dtype, tol in [(np.float64, 1e-9), (np.float32, 1e-3)]:
        got = kernels.Plan(S, dtype)(X.astype(dtype))
        scale = 1 + np.abs(dense).sum()
        assert np.allclose(got, X @ dense.T, atol=tol * scale), (dtype, type(S).__name__)
    assert np.allclose(S @ X.T, dense @ X.T)


@given(csr=malformed_csr())
def test_malformed_csr_is_refused_before_anything_walks_it(csr):
    X = np.ones((2, csr.shape[1]))
    for call in (lambda: kernels.Plan(csr), lambda: kernels.apply(csr, X),
                 lambda: kernels.matmat(csr, X[0]), lambda: pack(csr),
                 lambda: SparseProduct([csr]), lambda: SparseProduct([np.eye(csr.shape[0]), csr])):
        with pytest.raises(ValueError, match="malformed sparse matrix"):
            call()


@given(U=matrices(), V=matrices())
def test_lowrank(U, V):
    S = holds(lambda: LowRank(U, V))
    if S is not None:
        _agrees_with_dense(S)


@given(W=matrices(), index_bits=counts(1, 12), use_mask=st.booleans())
def test_sparse(W, index_bits, use_mask):
    mask = (np.random.default_rng(0).random(W.shape) < 0.5
            if use_mask and isinstance(W, np.ndarray) else None)
    S = holds(lambda: Sparse(W, mask=mask, index_bits=index_bits))
    if S is not None:
        _agrees_with_dense(S)
        holds(lambda: (S.nbytes, repr(S)))


@given(centroids=vectors(), index=st.one_of(
    st.builds(lambda m, n, k, s: np.random.default_rng(s).integers(0, k, (m, n)),
              st.integers(1, 5), st.integers(1, 9), st.integers(1, 300), st.integers(0, 9)),
    matrices()), masked=st.booleans(), index_bits=counts(1, 12))
def test_codebook(centroids, index, masked, index_bits):
    mask = (np.random.default_rng(1).random(index.shape) < 0.6
            if masked and isinstance(index, np.ndarray) else None)
    S = holds(lambda: Codebook(centroids, index, mask=mask, index_bits=index_bits))
    if S is not None:
        _agrees_with_dense(S)
        holds(lambda: (S.nbytes, repr(S)))


@given(factors=st.lists(st.one_of(real_arrays(max_side=5), matrices()), min_size=0, max_size=3),
       lam=st.one_of(st.floats(-3, 3), BAD_SCALARS))
def test_sparse_product(factors, lam):
    S = holds(lambda: SparseProduct(factors, lam))
    if S is not None:
        _agrees_with_dense(S)


@st.composite
def sss_arguments(draw):
    """SSS generators with the right shapes, or with one size, block or system wrong."""
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    K = draw(st.integers(1, 4))
    rows, cols = (draw(st.lists(st.integers(0, 3), min_size=K, max_size=K)) for _ in range(2))
    lo, up = (draw(st.lists(st.integers(0, 2), min_size=K - 1, max_size=K - 1)) for _ in range(2))

    def causal(outs, ins, dims):
        return dict(out_sizes=outs, in_sizes=ins,
                    B=[rng.standard_normal((dims[k], ins[k])) for k in range(K - 1)],
                    A=[rng.standard_normal((dims[k], dims[k - 1] if k else 0)) for k in range(K - 1)],
                    C=[rng.standard_normal((outs[k + 1], dims[k])) for k in range(K - 1)])

    args = dict(row_sizes=rows, col_sizes=cols,
                D=[rng.standard_normal((r, c)) for r, c in zip(rows, cols)],
                lower=causal(rows, cols, lo), upper=causal(cols, rows, up))
    spoil = draw(st.sampled_from([None, "row_sizes", "D", "lower.B", "upper.A", "lower.out_sizes"]))
    bad = draw(st.one_of(BAD_SCALARS, matrices(), st.lists(st.integers(-2, 10**6), max_size=4)))
    if spoil and "." in spoil:
        system, field = spoil.split(".")
        args[system][field] = bad
    elif spoil:
        args[spoil] = bad
    return args


@given(args=sss_arguments())
def test_sss(args):
    def build():
        return SSS(args["row_sizes"], args["col_sizes"], args["D"], Causal(**args["lower"]),
                   Causal(**args["upper"]))

    S = holds(build)
    if S is not None:
        _agrees_with_dense(S)


def _structures():
    rng = np.random.default_rng(3)
    hadamard = SparseProduct([np.kron(np.eye(2), [[1.0, 1.0], [1.0, -1.0]]),
                              np.kron([[1.0, 1.0], [1.0, -1.0]], np.eye(2))])
    sizes = [2, 3]
    sss = SSS(sizes, sizes, [rng.standard_normal((2, 2)), rng.standard_normal((3, 3))],
              Causal(sizes, sizes, [rng.standard_normal((1, 2))], [np.zeros((1, 0))],
                     [rng.standard_normal((3, 1))]),
              Causal(sizes, sizes, [rng.standard_normal((1, 2))], [np.zeros((1, 0))],
                     [rng.standard_normal((3, 1))]))
    return [LowRank(rng.standard_normal((5, 2)), rng.standard_normal((2, 4))),
            Sparse(rng.standard_normal((5, 4)) * (rng.random((5, 4)) < 0.5)),
            Codebook(rng.standard_normal(4), rng.integers(0, 4, (5, 4)),
                     mask=rng.random((5, 4)) < 0.7),
            hadamard, sss]


STRUCTURES = _structures()
ATTRIBUTES = {"LowRank": ["U", "V"], "Sparse": ["csr", "index_bits"],
              "Codebook": ["centroids", "index", "mask", "csr", "index_bits"],
              "SparseProduct": ["factors", "lam"], "SSS": ["D", "lower", "upper", "row_sizes"]}


@pytest.mark.parametrize("S", STRUCTURES, ids=lambda S: type(S).__name__)
def test_structures_are_read_only_after_construction(S):
    for name in ATTRIBUTES[type(S).__name__]:
        with pytest.raises(AttributeError, match="read-only: build a new one"):
            setattr(S, name, getattr(S, name))
    for array in ([S.csr.indices, S.csr.indptr] if hasattr(S, "csr") else []) + (
            [S.index, S.mask] if isinstance(S, Codebook) else []) + (
            [S.lower.dims, S.row_sizes] if isinstance(S, SSS) else []):
        with pytest.raises(ValueError, match="read-only"):
            array[...] = 10**6
    if isinstance(S, SSS):
        with pytest.raises(AttributeError, match="read-only"):
            S.lower.dims = np.array([10**6])
    _agrees_with_dense(S)  # still whole


@pytest.mark.parametrize("S", STRUCTURES, ids=lambda S: type(S).__name__)
@given(X=st.one_of(matrices(), vectors()), dtype=st.sampled_from([None, np.float32, np.float64,
                                                                     np.int64, "float16"]))
def test_plans_and_products_take_any_input(S, X, dtype):
    plan = holds(lambda: kernels.Plan(S, dtype))
    if plan is not None:
        holds(lambda: plan(X), X)
    holds(lambda: kernels.matmat(S, X), X)
    holds(lambda: kernels.apply(S, X), X)
    holds(lambda: S @ X, X)
    holds(lambda: X @ S, X)
