import numpy as np
import pytest

from structlab.approx.report import compression_report, relative_error
from structlab.approx.svd import (absorb_bias, allocate_ranks, lowrank_approximation,
                                  rank_for_budget, rank_for_energy, truncated_svd)


def test_absorb_bias_folds_the_bias_into_the_product(rng):
    W, b, x = rng.standard_normal((10, 13)), rng.standard_normal(10), rng.standard_normal(13)
    W_aug = absorb_bias(W, b)
    assert W_aug.shape == (10, 14)
    np.testing.assert_allclose(W_aug @ np.append(x, 1.0), W @ x + b)


@pytest.mark.parametrize("shape", [(10, 14), (14, 10), (30, 30)])
def test_truncated_svd_is_eckart_young_optimal(rng, shape):
    W = rng.standard_normal(shape)
    s_all = np.linalg.svd(W, compute_uv=False)
    for rank in (1, 3, min(shape)):
        U, s, Vt = truncated_svd(W, rank)
        assert U.shape == (shape[0], rank) and s.shape == (rank,) and Vt.shape == (rank, shape[1])
        np.testing.assert_allclose(U.T @ U, np.eye(rank), atol=1e-12)
        err = np.linalg.norm(W - (U * s) @ Vt)
        np.testing.assert_allclose(err, np.sqrt(np.sum(s_all[rank:] ** 2)), atol=1e-10)


def test_lowrank_approximation_budgets(rng):
    W = rng.standard_normal((10, 14))
    assert lowrank_approximation(W, rank=4).rank == 4
    assert lowrank_approximation(W, nparams=48).rank == 2
    assert lowrank_approximation(W, nparams=47).rank == 1
    assert lowrank_approximation(W, energy=1.0).rank == 10
    S = lowrank_approximation(W, energy=0.8)
    s = np.linalg.svd(W, compute_uv=False)
    kept = np.cumsum(s**2) / np.sum(s**2)
    assert kept[S.rank - 1] >= 0.8 > kept[S.rank - 2]
    np.testing.assert_allclose(S.V @ S.V.T, np.eye(S.rank), atol=1e-12)  # V: orthonormal rows


def test_rank_helpers():
    assert rank_for_energy([3.0, 2.0, 1.0], 9 / 14) == 1
    assert rank_for_energy([3.0, 2.0, 1.0], 9 / 14 + 1e-6) == 2
    assert rank_for_budget((10, 14), 24) == 1
    assert rank_for_budget((10, 14), 10_000) == 10


def test_compression_report(rng):
    W = rng.standard_normal((10, 14))
    S = lowrank_approximation(W, rank=2)
    report = compression_report(W, S)
    assert (report.params_before, report.params_after) == (140, 48)
    assert report.ratio == pytest.approx(140 / 48)
    assert report.relative_error == pytest.approx(relative_error(W, S.toarray()))
    assert 0 < report.relative_error < 1
    assert "140 -> 48 numbers (2.92x)" in str(report)


@pytest.mark.parametrize("rank, error", [(0, ValueError), (11, ValueError), (-1, ValueError),
                                         (2.0, TypeError), (True, TypeError)])
def test_bad_rank(rng, rank, error):
    with pytest.raises(error, match="rank must be"):
        truncated_svd(rng.standard_normal((10, 14)), rank)


def test_bad_matrices_and_budgets(rng):
    W = rng.standard_normal((10, 14))
    with pytest.raises(ValueError, match="W must be a 2-D matrix"):
        truncated_svd(W[0], 1)
    W_nan = W.copy()
    W_nan[3, 3] = np.nan
    with pytest.raises(ValueError, match="W contains NaN"):
        lowrank_approximation(W_nan, rank=2)
    with pytest.raises(ValueError, match=r"b must have shape \(10,\)"):
        absorb_bias(W, np.ones(14))
    with pytest.raises(ValueError, match="exactly one of rank, energy or nparams"):
        lowrank_approximation(W, rank=2, energy=0.9)
    with pytest.raises(ValueError, match="exactly one"):
        lowrank_approximation(W)
    with pytest.raises(ValueError, match="energy must be in"):
        lowrank_approximation(W, energy=0.0)
    with pytest.raises(ValueError, match="nparams=23 is below one rank"):
        lowrank_approximation(W, nparams=23)


def test_classifier_metrics(rng):
    from structlab.approx.report import classifier_metrics

    W, b = rng.standard_normal((4, 6)), rng.standard_normal(4)
    X = rng.standard_normal((50, 6))
    dense = (X @ W.T + b).argmax(1)
    same = classifier_metrics(W, b, W, X, y=list(dense[:10]) + [-1] * 40)
    assert same["weight_error"] == 0 and same["logit_error"] == 0 and same["agreement"] == 1
    assert same["accuracy"] == same["dense_accuracy"] == 1.0
    zero = classifier_metrics(W, b, np.zeros_like(W), X)
    assert zero["weight_error"] == 1 and "accuracy" not in zero
    assert zero["agreement"] == np.mean(dense == b.argmax())


def test_allocate_ranks_spends_the_budget_greedily_and_never_over():
    rng = np.random.default_rng(3)
    for _ in range(20):
        spectra = [np.sort(rng.random(int(rng.integers(1, 30))))[::-1] * rng.uniform(1e-3, 1e3)
                   for _ in range(int(rng.integers(1, 5)))]
        costs = [int(c) for c in rng.integers(1, 40, len(spectra))]
        nparams = int(rng.integers(0, 2000))
        ranks = allocate_ranks(spectra, costs, nparams)
        used = sum(r * c for r, c in zip(ranks, costs))
        assert used <= nparams
        # no layer that still has units could take one more
        assert all(r == len(s) or c > nparams - used for r, s, c in zip(ranks, spectra, costs))
    # the scale of a layer does not matter, only its energy shares
    assert allocate_ranks([[3.0, 1.0], [200.0, 200.0]], [1, 1], 3) == [1, 2]


@pytest.mark.parametrize("spectra, costs, nparams, message", [
    ([[2.0, 1.0]], [1, 2], 3, "costs must have one entry per spectrum"),
    ([[1.0, 2.0]], [1], 3, r"spectra\[0\] must be singular values"),
    ([[0.0, 0.0]], [1], 3, r"spectra\[0\] must be singular values"),
    ([[2.0, 1.0]], [0], 3, r"costs\[0\]"),
    ([[2.0, 1.0]], [1], -1, "nparams"),
])
def test_allocate_ranks_names_the_bad_argument(spectra, costs, nparams, message):
    with pytest.raises(ValueError, match=message):
        allocate_ranks(spectra, costs, nparams)
