import numpy as np
import pytest
import scipy.sparse
from scipy.linalg import hadamard

from structlab.approx.palm4msa import (Constraint, butterfly_constraints, hierarchical, palm4msa,
                                       project_sp, project_spcol, project_splin, project_splincol,
                                       rectangular_constraints)
from structlab.approx.report import relative_error


@pytest.fixture
def M(rng):
    return rng.standard_normal((12, 9))  # continuous values: no ties


def _nnz_rows(P):
    return np.count_nonzero(P, axis=1)


@pytest.mark.parametrize("k", [1, 3, 9])
def test_splin_spcol_sp_keep_exactly_k_largest(M, k):
    P = project_splin(M, k)
    assert np.all(_nnz_rows(P) == k)
    np.testing.assert_array_equal(P[P != 0], M[P != 0])
    # every kept entry is at least as large as every dropped one of its row
    for row, kept in zip(np.abs(M), P != 0):
        assert row[kept].min() >= row[~kept].max(initial=0)
    assert np.all(np.count_nonzero(project_spcol(M, min(k, 12)), axis=0) == min(k, 12))
    assert np.count_nonzero(project_sp(M, k)) == k
    assert np.abs(project_sp(M, k)).sum() == pytest.approx(np.sort(np.abs(M).ravel())[-k:].sum())


def test_splincol_keeps_at_least_k_per_row_and_column(M):
    P = project_splincol(M, 2)
    assert np.all(_nnz_rows(P) >= 2) and np.all(np.count_nonzero(P, axis=0) >= 2)
    assert np.all(_nnz_rows(P) <= 2 + 9) and np.count_nonzero(P) <= 2 * (12 + 9)
    within = (project_splin(M, 2) != 0) | (project_spcol(M, 2) != 0)
    np.testing.assert_array_equal(P != 0, within)


@pytest.mark.parametrize("project", [project_sp, project_splin, project_spcol, project_splincol])
def test_projections_are_idempotent_and_agree_on_sparse_input(M, project):
    P = project(M, 3)
    np.testing.assert_array_equal(project(P, 3), P)
    sparse = project(scipy.sparse.csr_array(M), 3)
    assert scipy.sparse.issparse(sparse)
    np.testing.assert_array_equal(sparse.toarray(), P)
    np.testing.assert_array_equal(project(sparse, 3).toarray(), P)


def test_constraint_normalizes_and_keeps_signs(M):
    c = Constraint("splin", M.shape, 2)
    P = c.project(M)
    assert np.linalg.norm(P) == pytest.approx(1.0)
    np.testing.assert_allclose(c.project(P), P)
    positive = Constraint("sp", M.shape, 5, pos=True, normalized=False).project(M)
    assert np.all(positive >= 0) and np.count_nonzero(positive) == 5
    assert Constraint("dense", M.shape).project(M) == pytest.approx(M / np.linalg.norm(M))


def test_bad_constraints_raise_clear_errors():
    with pytest.raises(ValueError, match="k of a splin constraint on a 4x3 factor must be between 1 and 3, got 4"):
        Constraint("splin", (4, 3), 4)
    with pytest.raises(ValueError, match="kind must be one of"):
        Constraint("lowrank", (4, 3), 1)
    with pytest.raises(TypeError, match=r"shape must be a pair \(rows, columns\)"):
        Constraint("sp", (4,), 1)
    A = np.ones((4, 6))
    with pytest.raises(ValueError, match="do not chain: factor 0 is 4x5 but factor 1 is 4x6"):
        palm4msa(A, [Constraint("sp", (4, 5), 2), Constraint("sp", (4, 6), 2)])
    with pytest.raises(ValueError, match="multiply to 4x5 but the matrix is 4x6"):
        palm4msa(A, [Constraint("sp", (4, 4), 2), Constraint("sp", (4, 5), 2)])
    with pytest.raises(TypeError, match="sequence of Constraint"):
        palm4msa(A, [("sp", 2)])
    with pytest.raises(ValueError, match="same length"):
        hierarchical(A, [Constraint("sp", (4, 6), 2)], [Constraint("sp", (4, 6), 2)] * 2)
    with pytest.raises(ValueError, match="power of two"):
        butterfly_constraints(12)
    with pytest.raises(ValueError, match="k must be between 1 and 4, got 5"):
        rectangular_constraints((4, 6), 2, 5)


def test_hadamard_64_is_recovered_as_butterflies():
    H = hadamard(64).astype(float)
    fit = hierarchical(H, *butterfly_constraints(64), n_iter=500, tol=1e-13)
    product = fit.product
    assert len(product.factors) == 6
    assert relative_error(H, product) < 1e-10
    for S in product.factors:  # each a butterfly: two nonzeros per row and per column
        S = S.toarray()
        assert np.all(np.count_nonzero(S, axis=0) == 2) and np.all(np.count_nonzero(S, axis=1) == 2)
    assert product.nparams == 6 * 128


def test_palm4msa_never_increases_the_objective(rng):
    A = rng.standard_normal((30, 20))
    cons = [Constraint("splin", (30, 20), 4), Constraint("spcol", (20, 20), 5),
            Constraint("sp", (20, 20), 60)]
    fit = palm4msa(A, cons, n_iter=60)
    errors = np.array(fit.errors)
    assert len(errors) == 60
    assert np.all(np.diff(errors) <= 1e-12), np.diff(errors).max()
    assert errors[-1] < 0.9 * errors[0]
    assert fit.error == pytest.approx(relative_error(A, fit.product))


def test_factors_meet_their_constraints_and_fit_is_deterministic(rng):
    A = rng.standard_normal((40, 24))
    fcons, rcons = rectangular_constraints(A.shape, 3, 4)
    first = hierarchical(A, fcons, rcons, n_iter=30, seed=3)
    again = hierarchical(A, fcons, rcons, n_iter=30, seed=3)
    assert first.errors == again.errors
    shapes = [S.shape for S in first.product.factors]
    assert shapes == [(40, 24), (24, 24), (24, 24)]
    for S in first.product.factors:
        assert np.all(np.diff(S.indptr) <= 4)
    assert first.product.nparams <= 40 * 4 + 2 * 24 * 4
    assert first.error == pytest.approx(relative_error(A, first.product))
    assert first.error < 1.0


def test_more_nonzeros_give_smaller_error(rng):
    A = rng.standard_normal((32, 32))
    errors = [hierarchical(A, *rectangular_constraints(A.shape, 2, k), n_iter=40).error
              for k in (2, 8, 32)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 0.01  # two dense factors can hold any matrix (given enough sweeps)


def test_palm4msa_recovers_a_product_from_its_own_start(rng):
    A = rng.standard_normal((10, 3)) @ rng.standard_normal((3, 10))
    cons = [Constraint("dense", (10, 3)), Constraint("dense", (3, 10))]
    assert palm4msa(A, cons, n_iter=500, tol=1e-9).error <= 1e-9
    with pytest.raises(ValueError, match=r"init\[1\] must have shape \(3, 10\)"):
        palm4msa(A, cons, init=[np.ones((10, 3)), np.ones((3, 9))])


def test_stopping_and_scale_arguments_are_checked(rng):
    A = rng.standard_normal((6, 6))
    cons = [Constraint("dense", (6, 6)), Constraint("dense", (6, 6))]
    with pytest.raises(ValueError, match="lam must not be 0"):
        palm4msa(A, cons, lam=0)
    with pytest.raises(TypeError, match="min_gain must be a real number, got 'x'"):
        palm4msa(A, cons, min_gain="x")
    with pytest.raises(ValueError, match=r"tol must be in \[0, 1\), got -1"):
        hierarchical(A, *rectangular_constraints(A.shape, 2, 2), tol=-1)
    with pytest.raises(ValueError, match="A is all zeros: there is nothing to factor"):
        palm4msa(np.zeros((6, 6)), cons)
    with pytest.raises(ValueError, match="n_factors must be between 2 and 64, got 1000000000000000000"):
        rectangular_constraints((10, 6), 10**18, 2)
    with pytest.raises(ValueError, match="n_iter must be between 1 and 100000"):
        palm4msa(A, cons, n_iter=10**18)
    with pytest.raises(ValueError, match="n must be at least 4"):
        butterfly_constraints(2)
    with pytest.raises(ValueError, match="factor_constraints must not be empty"):
        hierarchical(A, [], [])
