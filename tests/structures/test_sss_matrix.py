import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator

from structlab.structures.sss import SSS, Causal


def dense_reference(S):
    """Assemble T block by block from the definitions, independently of the recursions."""
    rows, cols = np.cumsum([0, *S.row_sizes]), np.cumsum([0, *S.col_sizes])
    T = np.zeros(S.shape)
    K = len(S.row_sizes)
    for i in range(K):
        for j in range(K):
            if i == j:
                block = S.D[i]
            elif i > j:
                L = S.lower
                block = L.B[j]
                for k in range(j + 1, i):
                    block = L.A[k] @ block
                block = L.C[i - 1] @ block
            else:
                U = S.upper
                block = U.B[i]
                for k in range(i + 1, j):
                    block = U.A[k] @ block
                block = (U.C[j - 1] @ block).T
            T[rows[i]:rows[i + 1], cols[j]:cols[j + 1]] = block
    return T


@pytest.mark.parametrize("rows, cols", [([3, 0, 5, 4, 2], [2, 6, 0, 3, 4]), ([4], [7]),
                                        ([1, 1], [0, 5]), ([2, 3, 1], [3, 3, 3])])
def test_products_match_the_block_definition(rng, random_sss, rows, cols):
    K = len(rows)
    S = random_sss(rows, cols, rng.integers(0, 3, K - 1), rng.integers(0, 3, K - 1))
    T = dense_reference(S)
    X, Y = rng.standard_normal((sum(cols), 3)), rng.standard_normal((sum(rows), 2))
    np.testing.assert_allclose(S.toarray(), T, atol=1e-12)
    np.testing.assert_allclose(S @ X, T @ X, atol=1e-12)
    np.testing.assert_allclose(S.rmatmat(Y), T.T @ Y, atol=1e-12)
    np.testing.assert_allclose(S.T.toarray(), T.T, atol=1e-12)
    np.testing.assert_allclose(aslinearoperator(S) @ X[:, 0], T @ X[:, 0], atol=1e-12)


def test_counts(rng, random_sss):
    rows, cols, lo, up = [3, 2, 4], [2, 5, 1], [2, 1], [1, 3]
    S = random_sss(rows, cols, lo, up)
    diagonal = 3 * 2 + 2 * 5 + 4 * 1
    lower = (2 * 2 + 2 * 2) + (1 * 5 + 1 * 2 + 4 * 1)  # B0 C0 | B1 A1 C1
    upper = (1 * 3 + 5 * 1) + (3 * 2 + 3 * 1 + 1 * 3)
    assert S.nparams == diagonal + lower + upper == S.flops()
    assert S.shape == (9, 8) and [d.tolist() for d in S.state_dims] == [lo, up]


def test_products_never_form_the_dense_matrix(rng, random_sss, monkeypatch):
    S = random_sss([20, 20, 20], [30, 30, 30], [2, 2], [2, 2])
    monkeypatch.setattr(SSS, "toarray", lambda self: pytest.fail("densified"))
    assert (S @ rng.standard_normal(90)).shape == (60,)


def test_bad_inputs(rng, random_causal):
    with pytest.raises(ValueError, match="row_sizes must not contain negative sizes"):
        SSS([2, -1], [1, 1], [np.ones((2, 1)), np.ones((0, 1))], None, None)
    with pytest.raises(ValueError, match="same number of stages"):
        Causal([1, 2], [3], [], [], [])
    with pytest.raises(ValueError, match="need 1 generators"):
        Causal([1, 2], [3, 1], [], [], [])
    with pytest.raises(ValueError, match=r"C\[0\] must have shape \(2, 1\)"):
        Causal([1, 2], [3, 1], [np.ones((1, 3))], [np.ones((1, 0))], [np.ones((2, 2))])
    with pytest.raises(ValueError, match=r"D\[1\] must have shape \(2, 1\)"):
        lo = random_causal([1, 2], [1, 1], [1])
        SSS([1, 2], [1, 1], [np.ones((1, 1)), np.ones((1, 1))], lo, random_causal([1, 1], [1, 2], [1]))
    with pytest.raises(ValueError, match="upper system's partitions do not match"):
        lo = random_causal([1, 2], [1, 1], [1])
        SSS([1, 2], [1, 1], [np.ones((1, 1)), np.ones((2, 1))], lo, lo)
