import numpy as np
import pytest
import torch
from scipy.sparse.linalg import aslinearoperator

from structlab.approx.huffman import layer_storage
from structlab.approx.kmeans import kmeans_share
from structlab.nn.layers import as_module
from structlab.structures.codebook import Codebook
from structlab.structures.sparse import Sparse


@pytest.fixture
def pruned(rng):
    W = rng.standard_normal((30, 40))
    mask = rng.random(W.shape) < 0.2
    return W, mask


def _check_products(S, dense, rng):
    m, n = dense.shape
    x, X, Y = rng.standard_normal(n), rng.standard_normal((n, 3)), rng.standard_normal((m, 2))
    np.testing.assert_allclose(S.toarray(), dense)
    np.testing.assert_allclose(S @ x, dense @ x)
    np.testing.assert_allclose(S @ X, dense @ X)
    np.testing.assert_allclose(S.rmatmat(Y), dense.T @ Y)
    np.testing.assert_allclose(aslinearoperator(S) @ x, dense @ x)
    layer = as_module(S)
    out = layer(torch.as_tensor(X.T, dtype=next(layer.parameters()).dtype)).detach().numpy()
    np.testing.assert_allclose(out, X.T @ dense.T, rtol=1e-5, atol=1e-5)


def test_sparse(pruned, rng):
    W, mask = pruned
    S = Sparse(W, mask)
    _check_products(S, np.where(mask, W, 0), rng)
    assert S.nparams == mask.sum() and S.flops(batch=4) == 4 * mask.sum()
    np.testing.assert_array_equal(S.mask(), mask)
    storage = layer_storage("", mask, index_bits=5)
    entries = storage.kept + storage.fillers
    assert S.nbytes == entries * 8 + int(np.ceil(entries * 5 / 8))


def test_sparse_hand_count():
    # positions 0, 1, 9 of a 3x4 matrix; 2-bit gaps -> one filler: 4 float64 values + 8 bits
    W = np.zeros((3, 4))
    W.flat[[0, 1, 9]] = [1.0, 2.0, 3.0]
    assert Sparse(W, index_bits=2).nbytes == 4 * 8 + 1


def test_codebook_from_kmeans(pruned, rng):
    W, mask = pruned
    S = kmeans_share(W, bits=3, mask=mask)
    assert isinstance(S, Codebook) and S.bits == 3 and len(S.centroids) == 8
    dense = S.toarray()
    assert np.all(dense[~mask] == 0) and len(np.unique(dense[mask])) == 8
    _check_products(S, dense, rng)
    assert S.nparams == mask.sum() + 8
    assert S.nbytes == int(np.ceil(layer_storage("", mask, S.index, 8, 5).fixed_bits / 8))
    full = kmeans_share(W, bits=2)
    assert full.nbytes == int(np.ceil(W.size * 2 / 8)) + 4 * 4


def test_codebook_errors():
    with pytest.raises(ValueError, match=r"index values must lie in \[0, 2\)"):
        Codebook([0.0, 1.0], [[0, 2]])
    with pytest.raises(ValueError, match="index must be a 2-D integer array"):
        Codebook([0.0, 1.0], [0, 1])
    with pytest.raises(ValueError, match=r"mask must have shape \(1, 2\)"):
        Codebook([0.0, 1.0], [[0, 1]], mask=[True])
    with pytest.raises(ValueError, match="bits must be between 1 and 8, got 0"):
        kmeans_share(np.ones((2, 2)), 0)
    with pytest.raises(ValueError, match="cannot make 4 clusters from 1 distinct values"):
        kmeans_share(np.ones((3, 3)), 2)
