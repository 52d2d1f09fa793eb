"""Fuzz the algorithms (structlab.approx): a clear error or a sound result, for any input."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from structlab.approx import budget, huffman, kmeans, palm4msa, pruning, report, sss, svd, widths
from structlab.structures.lowrank import LowRank

from .contract import holds
from .strategies import BAD_SCALARS, counts, matrices, real_arrays, shares, vectors

KEEP = st.one_of(st.floats(0.01, 1.0), BAD_SCALARS)


@given(W=matrices(), b=vectors())
def test_absorb_bias(W, b):
    holds(lambda: svd.absorb_bias(W, b), W, b)


@given(W=matrices(), rank=counts(0, 7))
def test_truncated_svd(W, rank):
    holds(lambda: svd.truncated_svd(W, rank), W)


@given(s=vectors(), energy=KEEP)
def test_rank_for_energy(s, energy):
    holds(lambda: svd.rank_for_energy(s, energy), s)


@given(shape=st.one_of(st.tuples(counts(0, 9), counts(0, 9)), BAD_SCALARS), nparams=counts(0, 90))
def test_rank_for_budget(shape, nparams):
    holds(lambda: svd.rank_for_budget(shape, nparams))


@given(W=matrices(), rank=st.one_of(st.none(), counts(0, 6)), energy=st.one_of(st.none(), KEEP),
       nparams=st.one_of(st.none(), counts(0, 60)))
def test_lowrank_approximation(W, rank, energy, nparams):
    holds(lambda: svd.lowrank_approximation(W, rank, energy=energy, nparams=nparams), W)


@given(w=matrices(), quality=st.one_of(st.floats(0, 3), BAD_SCALARS),
       sparsity=st.one_of(st.none(), st.floats(0, 0.999), BAD_SCALARS), masked=st.booleans())
def test_pruning(w, quality, sparsity, masked):
    mask = (np.random.default_rng(0).random(w.shape) < 0.7
            if masked and isinstance(w, np.ndarray) else None)
    holds(lambda: pruning.std_threshold(w, quality), w)
    if sparsity is None:
        got = holds(lambda: pruning.magnitude_mask(w, quality=quality, mask=mask), w)
    else:
        got = holds(lambda: pruning.magnitude_mask(w, sparsity=sparsity, mask=mask), w)
    if got is not None:
        holds(lambda: pruning.sparsity_of(got))
    holds(lambda: pruning.sparsity_of(w))


@given(w=st.one_of(real_arrays(min_dims=1, max_dims=1, max_side=40), vectors(), matrices()),
       k=counts(1, 20), mode=st.sampled_from(["linear", "density", "forgy", "best", None]),
       seed=st.one_of(st.integers(0, 5), BAD_SCALARS))
def test_kmeans(w, k, mode, seed):
    centroids = holds(lambda: kmeans.init_centroids(w, k, mode, seed), w)
    if centroids is not None:
        holds(lambda: kmeans.kmeans_1d(w, centroids, max_iter=20), w)
    holds(lambda: kmeans.kmeans_1d(w, k, max_iter=20), w)


@given(W=matrices(max_side=8), bits=counts(1, 9), init=st.sampled_from(["linear", "density", "x"]),
       masked=st.booleans())
def test_kmeans_share(W, bits, init, masked):
    mask = (np.random.default_rng(0).random(W.shape) < 0.6
            if masked and isinstance(W, np.ndarray) else None)
    holds(lambda: kmeans.kmeans_share(W, bits, init, mask), W)


SYMBOLS = st.one_of(st.lists(st.integers(0, 6), max_size=30), st.lists(st.text(max_size=1),
                                                                      max_size=8),
                    vectors(), BAD_SCALARS)


@given(symbols=SYMBOLS, other=SYMBOLS)
@example(symbols=["z"], other=["a", "b"])
def test_huffman(symbols, other):
    code = holds(lambda: huffman.huffman_code(other))
    if code is not None:
        holds(lambda: huffman.coded_bits(symbols, code))
        packed = holds(lambda: huffman.encode(symbols, code))
        if packed is not None:
            assert list(huffman.decode(*packed, code)) == list(np.asarray(symbols))
    holds(lambda: huffman.decode(b"\xff\x00", 11, {"a": "0", "b": "1"}))


@given(mask=st.one_of(st.builds(lambda m, n, s: np.random.default_rng(s).random((m, n)) < 0.4,
                                st.integers(0, 6), st.integers(0, 6), st.integers(0, 9)),
                      matrices()),
       n_centroids=st.one_of(st.none(), counts(1, 40)), index_bits=counts(1, 12), n_bias=counts())
def test_layer_storage(mask, n_centroids, index_bits, n_bias):
    index = (np.random.default_rng(0).integers(0, n_centroids, np.shape(mask))
             if isinstance(n_centroids, int) and not isinstance(n_centroids, bool)
             and n_centroids >= 1 and isinstance(mask, np.ndarray) else None)
    holds(lambda: huffman.layer_storage("fc", mask, index, n_centroids, index_bits, n_bias))
    holds(lambda: huffman.best_index_bits("fc", mask, index, n_centroids, n_bias))


@given(W=matrices(), other=matrices(), X=matrices(), b=vectors(),
       y=st.one_of(st.none(), st.lists(st.integers(0, 4), max_size=6)))
def test_reports(W, other, X, b, y):
    S = other  # a matrix, or a structure built from it
    if isinstance(other, np.ndarray) and other.ndim == 2 and len(other):
        S = holds(lambda: LowRank(np.ones((other.shape[0], 1)), other[:1]), other) or other
    holds(lambda: report.relative_error(W, S), W, other)
    holds(lambda: report.compression_report(W, S), W, other)
    holds(lambda: report.classifier_metrics(W, b, S, X, y), W, other, X, b)


PROJECTIONS = [palm4msa.project_splin, palm4msa.project_spcol, palm4msa.project_splincol,
               palm4msa.project_sp]


@pytest.mark.parametrize("project", PROJECTIONS, ids=lambda f: f.__name__)
@given(M=matrices(), k=counts(0, 7))
@example(M=np.zeros(16), k=2)
def test_projections(project, M, k):
    holds(lambda: project(M, k), M)


@given(shape=st.one_of(st.tuples(counts(1, 40), counts(1, 40)), BAD_SCALARS),
       n_factors=st.one_of(counts(1, 5), st.just(10**18)), k=counts(0, 9))
@example(shape=(10, 6), n_factors=10**18, k=2)
def test_rectangular_constraints(shape, n_factors, k):
    holds(lambda: palm4msa.rectangular_constraints(shape, n_factors, k))


@given(n=st.one_of(counts(1, 64), st.just(2**40)))
def test_butterflies(n):
    holds(lambda: palm4msa.butterfly_constraints(n))
    holds(lambda: budget.hadamard_butterflies(n) if n != 2**40 else None)


@given(A=matrices(max_side=12), n_factors=counts(1, 3), k=counts(0, 5),
       n_iter=st.one_of(st.integers(0, 4), BAD_SCALARS), tol=st.one_of(st.floats(0, 1), BAD_SCALARS))
def test_palm4msa_and_hierarchical(A, n_factors, k, n_iter, tol):
    shape = np.shape(A) if isinstance(A, np.ndarray) and A.ndim == 2 and A.size else (4, 4)
    constraints = holds(lambda: palm4msa.rectangular_constraints(shape, n_factors, k))
    if constraints is None:
        return
    factors, residuals = constraints
    holds(lambda: palm4msa.palm4msa(A, factors + residuals[-1:], n_iter, tol=tol), A)
    holds(lambda: palm4msa.hierarchical(A, factors, residuals, n_iter, tol=tol), A)


@given(size=st.one_of(counts(0, 40), st.just(5.5)), stages=st.one_of(counts(0, 9), st.just(4.0)))
@example(size=5.5, stages=4)
@example(size=10**18, stages=10**18)
def test_uniform_partition(size, stages):
    def tiles(parts):
        assert parts.sum() == size and len(parts) == stages and np.ptp(parts) <= 1

    holds(lambda: sss.uniform_partition(size, stages), check=tiles)


@given(W=matrices(max_side=10), nparams=counts(0, 120), stages=st.one_of(st.none(), counts(1, 6)))
@example(W=np.zeros((0, 5)), nparams=5, stages=None)
def test_sss_approximate(W, nparams, stages):
    holds(lambda: sss.sss_approximate(W, nparams, stages=stages), W)


def _or(value, default):
    return default if value is None else value


@given(W=matrices(max_side=8), stages=counts(1, 4), dims=st.one_of(st.none(), counts(0, 3)))
def test_sss_realization(W, stages, dims):
    if not isinstance(W, np.ndarray) or W.ndim != 2 or not isinstance(stages, int):
        rows = cols = [1]
    else:
        rows, cols = (_or(holds(lambda: sss.uniform_partition(size, stages)), [size])
                      for size in W.shape)
    state = None if dims is None else [dims] * (len(rows) - 1)
    holds(lambda: sss.sss_realization(W, rows, cols, state, state), W)
    holds(lambda: sss.causal_realization(W, rows, cols, state), W)


@given(W1=matrices(), b1=st.one_of(st.none(), vectors()), W2=matrices(), k=counts(0, 7))
@example(W1=np.zeros((6, 4)), b1=None, W2=np.ones((3, 6)), k=2)
def test_widths(W1, b1, W2, k):
    holds(lambda: widths.skeleton(W1, b1, k), W1, b1)
    holds(lambda: widths.shrink(W1, b1, W2, k), W1, b1, W2)
    holds(lambda: widths.grow(W1, b1, W2, k, np.random.default_rng(0)), W1, b1, W2)
    holds(lambda: widths.orthogonal_rows(W1, k, np.random.default_rng(0)), W1)
    holds(lambda: widths.energy_width(W1, b1, 0.9), W1, b1)


@given(H=matrices(), Y=matrices(), bias=st.booleans())
@example(H=np.array([[np.inf, 1.0], [0.0, 1.0]]), Y=np.ones((2, 1)), bias=True)
def test_refit_next(H, Y, bias):
    holds(lambda: widths.refit_next(H, Y, bias), H, Y)


@pytest.mark.parametrize("method", budget.METHODS)
@given(W=matrices(max_side=12), share=shares(), bits=st.one_of(st.none(), counts(1, 8)))
def test_approximate(method, W, share, bits):
    holds(lambda: budget.approximate(W, method, share, bits=bits, n_iter=3), W)


@given(repeats=counts(1, 3), warmup=counts(0, 2), min_sample=st.one_of(st.floats(0, 1e-4),
                                                                      BAD_SCALARS),
       threads=counts(1, 2), func=st.sampled_from([len, None, "len"]))
def test_measure(repeats, warmup, min_sample, threads, func):
    from structlab.timing import measure

    holds(lambda: measure(func, [1, 2], repeats=repeats, warmup=warmup, min_sample=min_sample,
                          threads=threads))


@given(batch=st.one_of(counts(1, 3), st.just(10**9)), seed=st.one_of(st.integers(0, 3), BAD_SCALARS),
       dtype=st.sampled_from([np.float32, np.float64, np.int8, "x"]))
def test_compare(batch, seed, dtype):
    from structlab.timing import compare

    S = LowRank(np.ones((6, 1)), np.ones((1, 5)))
    holds(lambda: compare(S, batch, dtype, seed, repeats=1, warmup=0, min_sample=0))
