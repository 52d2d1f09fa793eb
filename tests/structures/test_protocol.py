"""What every structure offers through SciPy's and NumPy's doors: operators that
``svds`` and ``lsqr`` accept, 2-D operands, ``np.asarray``, ``ndim`` and ``T``."""

import numpy as np
import pytest
from scipy.sparse.linalg import aslinearoperator, lsqr, svds

from structlab.approx.sss import sss_realization
from structlab.structures.codebook import Codebook
from structlab.structures.lowrank import LowRank
from structlab.structures.sparse import Sparse
from structlab.structures.sparse_product import SparseProduct

SHAPE = (40, 30)


def _structures():
    rng = np.random.default_rng(0)
    m, n = SHAPE
    W = rng.standard_normal(SHAPE)
    index = rng.integers(0, 4, SHAPE)
    return {
        "low rank": LowRank(rng.standard_normal((m, 5)), rng.standard_normal((5, n))),
        "pruning": Sparse(np.where(rng.random(SHAPE) < 0.3, W, 0.0)),
        "codebook": Codebook([-1.5, -0.2, 0.4, 2.0], index),
        "pruned codebook": Codebook([-1.5, -0.2, 0.4, 2.0], index, mask=rng.random(SHAPE) < 0.4),
        "sparse product": SparseProduct([np.where(rng.random((m, n)) < 0.3, W, 0.0),
                                         np.where(rng.random((n, n)) < 0.2,
                                                  rng.standard_normal((n, n)), 0.0)], lam=0.5),
        "SSS": sss_realization(W, [10] * 4, [8, 8, 7, 7], [2, 3, 2], [3, 2, 2]),
    }


STRUCTURES = _structures()
CASES = pytest.mark.parametrize("name", list(STRUCTURES))


@CASES
def test_scipy_operators_take_columns_and_matrices(name):
    S, rng = STRUCTURES[name], np.random.default_rng(1)
    dense, op = S.toarray(), aslinearoperator(S)
    X, Y = rng.standard_normal((SHAPE[1], 3)), rng.standard_normal((SHAPE[0], 2))
    np.testing.assert_allclose(op @ X, dense @ X, atol=1e-12)
    np.testing.assert_allclose(op.rmatmat(Y), dense.T @ Y, atol=1e-12)
    assert S.matvec(X[:, :1]).shape == (SHAPE[0], 1) and S.rmatvec(Y[:, 0]).shape == (SHAPE[1],)
    np.testing.assert_allclose(S.matvec(X[:, :1]), dense @ X[:, :1], atol=1e-12)


@CASES
def test_svds_and_lsqr_run_on_every_structure(name):
    S = STRUCTURES[name]
    dense = S.toarray()
    top = svds(aslinearoperator(S), k=3, random_state=0, return_singular_vectors=False)
    np.testing.assert_allclose(np.sort(top)[::-1], np.linalg.svd(dense, compute_uv=False)[:3],
                               rtol=1e-8)
    b = np.random.default_rng(2).standard_normal(SHAPE[0])
    x = lsqr(aslinearoperator(S), b, atol=1e-12, btol=1e-12, iter_lim=2000)[0]
    np.testing.assert_allclose(dense @ x, dense @ np.linalg.lstsq(dense, b, rcond=None)[0],
                               atol=1e-7)


@CASES
def test_numpy_sees_a_two_dimensional_matrix_and_its_transpose(name):
    S = STRUCTURES[name]
    dense = S.toarray()
    assert S.ndim == 2 and np.asarray(S).shape == SHAPE
    np.testing.assert_array_equal(np.asarray(S), dense)
    assert np.asarray(S, dtype=np.float32).dtype == np.float32
    T = S.T
    assert type(T) is type(S) and T.shape == SHAPE[::-1] and T.nparams == S.nparams
    np.testing.assert_allclose(T.toarray(), dense.T, atol=1e-12)
    np.testing.assert_allclose(T.T.toarray(), dense, atol=1e-12)


@CASES
def test_a_vector_of_the_wrong_shape_is_named(name):
    S = STRUCTURES[name]
    with pytest.raises(ValueError, match=r"x must have shape \(30,\) or \(30, 1\), got \(30, 2\)"):
        S.matvec(np.ones((30, 2)))
    with pytest.raises(ValueError, match=r"x must have shape \(40,\) or \(40, 1\), got \(30,\)"):
        S.rmatvec(np.ones(30))


def test_structures_import_nothing_above_them():
    """The layers flow one way: structures <- approx <- nn; a structure never imports up."""
    import ast
    import pathlib

    import structlab.structures

    for path in pathlib.Path(structlab.structures.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            for name in names:
                assert not name.startswith(("structlab.nn", "structlab.approx", "torch")), (
                    f"{path.name} imports {name}")
