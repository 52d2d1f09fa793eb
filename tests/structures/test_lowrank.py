import numpy as np
import pytest
import torch
from scipy.sparse.linalg import aslinearoperator

from structlab.nn.layers import as_module
from structlab.structures import LowRank


@pytest.fixture
def factors(rng):
    return rng.standard_normal((8, 3)), rng.standard_normal((3, 5))


def test_products_match_dense(factors, rng):
    U, V = factors
    S, dense = LowRank(U, V), U @ V
    x, X = rng.standard_normal(5), rng.standard_normal((5, 4))
    y, Y = rng.standard_normal(8), rng.standard_normal((8, 2))
    np.testing.assert_allclose(S.toarray(), dense)
    np.testing.assert_allclose(S.matvec(x), dense @ x)
    np.testing.assert_allclose(S @ x, dense @ x)
    np.testing.assert_allclose(S.matmat(X), dense @ X)
    np.testing.assert_allclose(S @ X, dense @ X)
    np.testing.assert_allclose(S.rmatvec(y), dense.T @ y)
    np.testing.assert_allclose(S.rmatmat(Y), dense.T @ Y)
    np.testing.assert_allclose(Y.T @ S, Y.T @ dense)  # rows through the matrix
    np.testing.assert_allclose(y @ S, y @ dense)


def test_counts(factors):
    S = LowRank(*factors)
    assert S.shape == (8, 5) and S.rank == 3
    assert S.nparams == 3 * (8 + 5)
    assert S.nbytes == S.nparams * 8
    assert LowRank(*(f.astype(np.float32) for f in factors)).nbytes == S.nparams * 4
    assert S.flops() == 39 and S.flops(batch=10) == 390
    assert S.compression_ratio == pytest.approx(40 / 39)
    assert "LowRank(shape=(8, 5), nparams=39" in repr(S)


def test_linear_operator_compatibility(factors, rng):
    S = LowRank(*factors)
    op = aslinearoperator(S)
    x, y = rng.standard_normal(5), rng.standard_normal(8)
    np.testing.assert_allclose(op @ x, S.toarray() @ x)
    np.testing.assert_allclose(op.H @ y, S.toarray().T @ y)


def test_as_module_is_the_same_linear_map(factors, rng):
    S = LowRank(*factors)
    layer = as_module(S).double()
    X = rng.standard_normal((6, 5))
    out = layer(torch.as_tensor(X)).detach().numpy()
    np.testing.assert_allclose(out, X @ S.toarray().T)
    assert layer.nparams == S.nparams


def test_bad_inputs(factors):
    U, V = factors
    with pytest.raises(ValueError, match=r"V must have shape \(3, any\)"):
        LowRank(U, V[:2])
    with pytest.raises(ValueError, match="U must be a 2-D matrix"):
        LowRank(U[:, 0], V)
    bad = U.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="U contains NaN"):
        LowRank(bad, V)
    with pytest.raises(TypeError, match="U holds complex numbers"):
        LowRank(U.astype(complex), V)
    with pytest.raises(ValueError, match=r"X must have shape \(5, k\)"):
        LowRank(U, V).matmat(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(5,\)"):
        LowRank(U, V).matvec(np.ones(4))
