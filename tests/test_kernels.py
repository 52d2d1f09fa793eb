import os
import subprocess
import sys

import numpy as np
import pytest

from structlab import kernels


@pytest.fixture(params=["native", "numpy"])
def backend(request, monkeypatch):
    """Run a test once through the C kernels and once through the NumPy fallback."""
    if request.param == "numpy":
        monkeypatch.setattr(kernels, "_lib", None)
    return request.param


def test_native_extension_is_built():
    # Guards the "native" half of every test below from silently testing NumPy twice.
    if os.environ.get("STRUCTLAB_NO_NATIVE", "") not in ("", "0"):
        pytest.skip("STRUCTLAB_NO_NATIVE is set")
    assert kernels.native_available()


def test_environment_variable_forces_fallback():
    code = "from structlab import kernels; print(kernels.native_available())"
    env = dict(os.environ, STRUCTLAB_NO_NATIVE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-4), (np.float64, 1e-12)])
@pytest.mark.parametrize("m, n, batch", [(1, 1, 1), (7, 13, 1), (64, 33, 5), (10, 300, 17)])
def test_dense_apply_matches_numpy(backend, rng, dtype, tol, m, n, batch):
    W = rng.standard_normal((m, n)).astype(dtype)
    X = rng.standard_normal((batch, n)).astype(dtype)
    Y = kernels.dense_apply(W, X)
    assert Y.dtype == dtype and Y.shape == (batch, m)
    np.testing.assert_allclose(Y, X.astype(np.float64) @ W.T.astype(np.float64),
                               rtol=tol, atol=tol * np.sqrt(n))


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-4), (np.float64, 1e-12)])
@pytest.mark.parametrize("m, r, n, batch", [(1, 1, 1, 1), (10, 2, 14, 3), (100, 7, 50, 9)])
def test_lowrank_apply_matches_dense_product(backend, rng, dtype, tol, m, r, n, batch):
    U = rng.standard_normal((m, r)).astype(dtype)
    V = rng.standard_normal((r, n)).astype(dtype)
    X = rng.standard_normal((batch, n)).astype(dtype)
    expected = X.astype(np.float64) @ (U.astype(np.float64) @ V.astype(np.float64)).T
    np.testing.assert_allclose(kernels.lowrank_apply(U, V, X), expected,
                               rtol=tol, atol=tol * np.sqrt(n * r))


def test_non_contiguous_inputs_are_handled(backend, rng):
    W = rng.standard_normal((9, 6)).T  # Fortran-ordered view
    X = rng.standard_normal((9, 4)).T
    np.testing.assert_allclose(kernels.dense_apply(W, X), X @ W.T, rtol=1e-12)


def test_bad_inputs_raise_clear_errors(backend, rng):
    W = rng.standard_normal((3, 4))
    with pytest.raises(ValueError, match=r"X must have shape \(batch, 4\)"):
        kernels.dense_apply(W, np.ones((2, 5)))
    with pytest.raises(ValueError, match="W must be a 2-D matrix"):
        kernels.dense_apply(np.ones(4), np.ones((2, 4)))
    with pytest.raises(TypeError, match="X has dtype float32, expected float64"):
        kernels.dense_apply(W, np.ones((2, 4), dtype=np.float32))
    with pytest.raises(TypeError, match="float32 or float64"):
        kernels.dense_apply(np.ones((3, 4), dtype=np.int64), np.ones((2, 4), dtype=np.int64))
    with pytest.raises(ValueError, match="must share r"):
        kernels.lowrank_apply(np.ones((3, 2)), np.ones((3, 4)), np.ones((1, 4)))


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-4), (np.float64, 1e-12)])
@pytest.mark.parametrize("batch", [1, 3])
def test_every_structure_kernel_matches_the_dense_product(backend, rng, every_structure, dtype,
                                                          tol, batch):
    for name, S in every_structure:
        dense = S if isinstance(S, np.ndarray) else S.toarray()
        X = rng.standard_normal((dense.shape[1], batch)).astype(dtype)
        got = kernels.matmat(S, X)
        assert got.dtype == dtype and got.shape == (dense.shape[0], batch), name
        np.testing.assert_allclose(got, dense @ X, rtol=tol, atol=tol * 10, err_msg=name)


def test_plans_take_the_fast_layouts_and_reuse_buffers(rng, every_structure):
    from structlab.packing import PRODUCT_BUTTERFLY

    structures = dict(every_structure)
    plan = kernels.Plan(structures["product butterfly"], np.float32)
    assert (plan.packed.arrays["desc"][:, 0] == PRODUCT_BUTTERFLY).all()
    assert plan.packed.arrays["index"].size == 0  # butterflies need no indices
    assert plan.packed.flops == structures["product butterfly"].nparams
    X = rng.standard_normal((4, 32)).astype(np.float32)
    out = np.empty((4, 32), np.float32)
    assert plan(X, out=out) is out
    np.testing.assert_allclose(out, X @ structures["product butterfly"].toarray().T, rtol=1e-4,
                               atol=1e-5)
    with pytest.raises(TypeError, match="X has dtype float64, the plan computes in float32"):
        plan(X.astype(np.float64))
    with pytest.raises(ValueError, match=r"out must be a writeable C-contiguous float32 array of shape \(4, 32\)"):
        plan(X, out=np.empty((4, 31), np.float32))
    with pytest.raises(ValueError, match=r"X must have shape \(batch, 32\)"):
        plan(X[:, :5])
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        kernels.Plan(np.ones((2, 2), dtype=np.int64))
    read_only = np.empty((4, 32), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out must be a writeable"):
        plan(X, out=read_only)
    square = np.ones((2, 2), np.float32)
    with pytest.raises(ValueError, match="out must not overlap X"):
        kernels.Plan(np.eye(2, dtype=np.float32))(square, out=square)
    with pytest.raises(TypeError, match="X must be float32 or float64"):
        kernels.matmat(np.eye(2), np.arange(2))
    assert plan._work[4] is not None and len(plan._work) == 1
    work = plan._work[4]
    plan(X)
    assert plan._work[4] is work  # buffers are reused, not reallocated


def test_butterfly_factors_with_duplicate_entries_add_up(backend):
    import scipy.sparse

    from structlab.structures.sparse_product import SparseProduct

    # position (0, 1) given twice: 5 + 1; a CSR built from raw arrays keeps duplicates
    factor = scipy.sparse.csr_array((np.array([3.0, 5.0, 1.0, 7.0, 11.0]),
                                     np.array([0, 1, 1, 0, 1]), np.array([0, 3, 5])), shape=(2, 2))
    S = SparseProduct([factor])
    X = np.array([[1.0, 1.0]])
    np.testing.assert_allclose(kernels.Plan(S)(X), X @ np.array([[3.0, 6.0], [7.0, 11.0]]).T)


def test_bit_packing_round_trips(rng):
    from structlab.packing import pack_bits, unpack_bits

    for bits in range(1, 9):
        rows = [rng.integers(0, 2 ** bits, size) for size in (0, 1, 7, 13)]
        packed, starts = pack_bits(rows, bits)
        assert packed[-1] == 0 and len(packed) == starts[-1] + 1
        for row, start in zip(rows, starts):
            np.testing.assert_array_equal(unpack_bits(packed, start, len(row), bits), row)
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 4\) for 2 bits"):
        pack_bits([[4]], 2)
    with pytest.raises(ValueError, match="bits must be between 1 and 8"):
        pack_bits([[1]], 9)
