import numpy as np
import pytest
import scipy.sparse
import torch
from scipy.sparse.linalg import aslinearoperator

from structlab.nn.layers import as_module
from structlab.structures import SparseProduct


@pytest.fixture
def factors(rng):
    def sparse(m, n):
        return scipy.sparse.random_array((m, n), density=0.3, rng=rng).toarray()
    return [sparse(6, 5), sparse(5, 5), sparse(5, 7)]


def test_products_match_dense(factors, rng):
    S = SparseProduct(factors, lam=2.5)
    dense = 2.5 * factors[0] @ factors[1] @ factors[2]
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((6, 2))
    np.testing.assert_allclose(S.toarray(), dense)
    np.testing.assert_allclose(S @ X[:, 0], dense @ X[:, 0])
    np.testing.assert_allclose(S @ X, dense @ X)
    np.testing.assert_allclose(S.rmatmat(Y), dense.T @ Y)
    np.testing.assert_allclose(Y.T @ S, Y.T @ dense)
    np.testing.assert_allclose(aslinearoperator(S) @ X[:, 0], dense @ X[:, 0])


def test_products_never_form_the_dense_matrix(factors, rng, monkeypatch):
    S = SparseProduct(factors)
    monkeypatch.setattr(SparseProduct, "toarray", lambda self: pytest.fail("densified"))
    assert (S @ rng.standard_normal((7, 2))).shape == (6, 2)


def test_counts(factors):
    S = SparseProduct(factors)
    nnz = sum(np.count_nonzero(F) for F in factors)
    assert S.shape == (6, 7) and S.nparams == nnz and S.flops(batch=4) == 4 * nnz
    # float64 values, int32 row pointers, one byte per position (every gap of 7 columns fits)
    pointers = 4 * sum(F.shape[0] + 1 for F in S.factors)
    assert S.nbytes == 8 * nnz + pointers + nnz and S.compression_ratio == pytest.approx(42 / nnz)
    assert all(scipy.sparse.issparse(F) and F.format == "csr" for F in S.factors)


def test_explicit_zeros_are_not_counted():
    S = SparseProduct([scipy.sparse.csr_array(([0.0, 1.0], ([0, 1], [0, 1])), shape=(2, 2))])
    assert S.nparams == 1


def test_as_module_is_the_same_linear_map(factors, rng):
    S = SparseProduct(factors, lam=-0.5)
    layer = as_module(S).double()
    X = rng.standard_normal((4, 7))
    np.testing.assert_allclose(layer(torch.as_tensor(X)).detach().numpy(), X @ S.toarray().T)
    assert layer.nparams == S.nparams


def test_bad_inputs(factors):
    with pytest.raises(ValueError, match=r"factors do not chain: factor 1 has shape \(5, 5\) but "
                                         r"factor 2 has shape \(4, 7\)"):
        SparseProduct([factors[0], factors[1], factors[2][:4]])
    with pytest.raises(ValueError, match="at least one matrix"):
        SparseProduct([])
    with pytest.raises(ValueError, match=r"factors\[1\] contains NaN"):
        SparseProduct([factors[0], np.full((5, 5), np.nan)])
    with pytest.raises(ValueError, match="lam must be finite, got inf"):
        SparseProduct(factors, lam=np.inf)
    with pytest.raises(ValueError, match=r"X must have shape \(7, k\)"):
        SparseProduct(factors).matmat(np.ones((6, 2)))
