"""C kernels through cffi, with a NumPy fallback.

The extension ``structlab._native`` is compiled from ``native/*.c`` by
``pip install -e .``. When it is missing, or when the environment variable
``STRUCTLAB_NO_NATIVE=1`` is set before import, every function here runs the
NumPy fallback instead, with the same signature and result.

All kernels use the row-batch convention of a neural-network layer: ``X`` holds
one input vector per row, and the result holds ``X @ W.T``.

Examples
--------
>>> import numpy as np
>>> from structlab import kernels
>>> W = np.arange(6.0).reshape(2, 3)
>>> kernels.dense_apply(W, np.ones((1, 3)))
array([[ 3., 12.]])
"""

import os

import numpy as np

_DTYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _load_native():
    if os.environ.get("STRUCTLAB_NO_NATIVE", "") not in ("", "0"):
        return None, None
    try:
        from structlab._native import ffi, lib
    except ImportError:
        return None, None
    return ffi, lib


_ffi, _lib = _load_native()


def native_available():
    """Return True when the compiled C kernels are in use (not the NumPy fallback)."""
    return _lib is not None


def _prepare(arrays, names):
    """Check every array has the first one's dtype, float32 or float64; make them C-contiguous."""
    dtype = arrays[0].dtype
    if dtype not in _DTYPES:
        raise TypeError(f"{names[0]} must be float32 or float64, got {dtype}")
    for a, name in zip(arrays[1:], names[1:]):
        if a.dtype != dtype:
            raise TypeError(f"{name} has dtype {a.dtype}, expected {dtype} like {names[0]}")
    return [np.ascontiguousarray(a) for a in arrays], _DTYPES[dtype]


def _check_batch(X, n):
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] != n:
        raise ValueError(f"X must have shape (batch, {n}), got {X.shape}")
    return X


def _ptr(a):
    """A C pointer to the data of a contiguous float32/float64 array (no copy)."""
    return _ffi.from_buffer(f"{'double' if a.dtype == np.float64 else 'float'}[]", a)


def dense_apply(W, X):
    """Dense layer product ``X @ W.T``.

    Parameters
    ----------
    W : ndarray, shape (m, n), float32 or float64
    X : ndarray, shape (batch, n), same dtype as ``W``

    Returns
    -------
    ndarray, shape (batch, m)
    """
    W = np.asarray(W)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D matrix, got shape {W.shape}")
    X = _check_batch(X, W.shape[1])
    (W, X), suffix = _prepare([W, X], ["W", "X"])
    if _lib is None:
        return X @ W.T
    m, n = W.shape
    Y = np.empty((X.shape[0], m), dtype=W.dtype)
    getattr(_lib, f"dense_apply_{suffix}")(_ptr(W), m, n, _ptr(X), X.shape[0], _ptr(Y))
    return Y


def lowrank_apply(U, V, X):
    """Low-rank layer product ``X @ (U @ V).T`` without forming ``U @ V``.

    Parameters
    ----------
    U : ndarray, shape (m, r)
    V : ndarray, shape (r, n)
    X : ndarray, shape (batch, n)

    Returns
    -------
    ndarray, shape (batch, m)
    """
    U, V = np.asarray(U), np.asarray(V)
    if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[0]:
        raise ValueError(f"U (m, r) and V (r, n) must share r, got {U.shape} and {V.shape}")
    X = _check_batch(X, V.shape[1])
    (U, V, X), suffix = _prepare([U, V, X], ["U", "V", "X"])
    if _lib is None:
        return (X @ V.T) @ U.T
    (m, r), n = U.shape, V.shape[1]
    Y = np.empty((X.shape[0], m), dtype=U.dtype)
    work = np.empty(r, dtype=U.dtype)
    getattr(_lib, f"lowrank_apply_{suffix}")(
        _ptr(U), _ptr(V), m, r, n, _ptr(X), X.shape[0], _ptr(Y), _ptr(work)
    )
    return Y
