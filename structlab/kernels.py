"""C kernels through cffi, with a NumPy fallback.

The extension ``structlab._native`` is compiled from ``native/*.c`` by
``pip install -e .``. When it is missing, or when the environment variable
``STRUCTLAB_NO_NATIVE=1`` is set before import, every function here runs the
NumPy fallback instead, with the same signature and result.

All kernels use the row-batch convention of a neural-network layer: ``X`` holds
one input vector per row, and the result holds ``X @ W.T``. :class:`Plan` lays
a structure out for its kernel once (:mod:`structlab.packing`) and then applies
it; :func:`matmat` is the one-call version in the ``S @ X`` convention of
:class:`~structlab.structures.base.Structure`. Kernels exist for dense, low-rank,
CSR (pruned), codebook (weight-shared, packed indices, optionally pruned),
sparse-product (CSR and butterfly factors) and SSS matrices, in float32 and
float64.

Examples
--------
>>> import numpy as np
>>> from structlab import kernels
>>> W = np.arange(6.0).reshape(2, 3)
>>> kernels.dense_apply(W, np.ones((1, 3)))
array([[ 3., 12.]])
"""

import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse

from structlab._validate import as_numpy
from structlab.cache import atomic_write
from structlab.packing import (PRODUCT_BUTTERFLY, column_indices, factor_positions, pack,
                               sss_product, unpack_bits)
from structlab.structures.lowrank import LowRank

_DTYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


def _load_native():
    """``(ffi, lib, None)``, or ``(None, None, why the NumPy fallback is in use)``."""
    if os.environ.get("STRUCTLAB_NO_NATIVE", "") not in ("", "0"):
        return None, None, "STRUCTLAB_NO_NATIVE is set"
    try:
        from structlab._native import ffi, lib
    except ModuleNotFoundError:
        return None, None, ("structlab._native was not built when structlab was installed "
                            "(no working C compiler then?); reinstall with one for the C kernels")
    except ImportError as error:
        return None, None, f"structlab._native does not load: {error}"
    return ffi, lib, None


_ffi, _lib, FALLBACK_REASON = _load_native()


def native_available():
    """Return True when the compiled C kernels are in use (not the NumPy fallback).

    When False, :data:`FALLBACK_REASON` says why.
    """
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
    X = as_numpy(X, "X")
    if X.ndim != 2 or X.shape[1] != n:
        raise ValueError(f"X must have shape (batch, {n}), got {X.shape}")
    return X


_C_TYPES = {np.dtype(np.float32): "float[]", np.dtype(np.float64): "double[]",
            np.dtype(np.int64): "int64_t[]", np.dtype(np.int32): "int32_t[]",
            np.dtype(np.uint16): "uint16_t[]", np.dtype(np.uint8): "uint8_t[]"}


def _ptr(a):
    """A C pointer to the data of a contiguous array (no copy)."""
    return _ffi.from_buffer(_C_TYPES[a.dtype], a)


# --- one plan per structure --------------------------------------------------------


def _csr_product(indptr, gaps, values, shape, X):
    csr = scipy.sparse.csr_array((values, column_indices(indptr, gaps), indptr), shape=shape)
    return (csr @ X.T).T


def _butterfly_product(values, stride, X):
    m = X.shape[1]
    partner = np.arange(m) ^ stride
    return values[:m] * X + values[m:] * X[:, partner]


def _codebook_weights(a, sizes, shape):
    """The stored entries, in row order, from the packed indices (NumPy)."""
    m, n = shape
    counts = np.diff(a["indptr"]) if sizes["sparse"] else np.full(m, n)
    index = np.concatenate([unpack_bits(a["packed"], start, count, sizes["bits"])
                            for start, count in zip(a["row_bytes"], counts)] or [np.zeros(0, int)])
    return a["table"][index]


# --- one registry entry per kernel ---------------------------------------------------
#
# For each kind of layout: the C kernel's arguments around the batch (``io``: input,
# batch size, output), its scratch memory, and the same product in NumPy from the same
# arrays (the fallback, which checks the layout too).


def _sparse_work_bytes(n, batch, dtype):
    """Bytes of scratch memory the CSR and codebook kernels need for ``batch`` rows of ``n`` inputs."""
    return int(_lib.sparse_work_bytes(n, batch, np.dtype(dtype).itemsize))


def _no_work(p, batch, dtype):
    return [None]


def _dense_arguments(p, io, work):
    return [_ptr(p.arrays["W"]), *p.shape, *io]


def _dense_fallback(p, X):
    return X @ p.arrays["W"].T


def _lowrank_arguments(p, io, work):
    a, (m, n) = p.arrays, p.shape
    return [_ptr(a["Ut"]), _ptr(a["V"]), m, p.sizes["r"], n, *io, _ptr(work[0])]


def _lowrank_work(p, batch, dtype):
    return [np.empty(p.sizes["r"], dtype)]


def _lowrank_fallback(p, X):
    return (X @ p.arrays["V"].T) @ p.arrays["Ut"]


def _rows_work(p, batch, dtype):
    return [np.empty(_sparse_work_bytes(p.shape[1], batch, dtype), np.uint8)]


def _csr_arguments(p, io, work):
    a = p.arrays
    return [_ptr(a["indptr"]), _ptr(a["gaps"]), p.sizes["gap_bytes"], _ptr(a["values"]),
            *p.shape, *io, _ptr(work[0])]


def _csr_fallback(p, X):
    return _csr_product(p.arrays["indptr"], p.arrays["gaps"], p.arrays["values"], p.shape, X)


def _codebook_arguments(p, io, work):
    a = p.arrays
    positions = [_ptr(a["indptr"]), _ptr(a["gaps"])] if p.sizes["sparse"] else [_ffi.NULL] * 2
    return [_ptr(a["packed"]), _ptr(a["row_bytes"]), p.sizes["bits"], _ptr(a["table"]),
            *positions, p.sizes["gap_bytes"], *p.shape, *io, _ptr(work[0])]


def _codebook_fallback(p, X):
    a = p.arrays
    weights = _codebook_weights(a, p.sizes, p.shape)
    if not p.sizes["sparse"]:
        return X @ weights.reshape(p.shape).T
    return _csr_product(a["indptr"], a["gaps"], weights, p.shape, X)


def _product_arguments(p, io, work):
    a = p.arrays
    return [p.sizes["factors"], _ptr(a["desc"]), _ptr(a["index"]), _ptr(a["values"]), *io,
            *(_ptr(w) for w in work)]


def _product_work(p, batch, dtype):
    """Two intermediate batches, and the CSR kernel's scratch for the widest factor."""
    return [*(np.empty(max(1, p.sizes["inner"] * batch), dtype) for _ in range(2)),
            np.empty(_sparse_work_bytes(p.sizes["widest"], batch, dtype), np.uint8)]


def _product_fallback(p, X):
    a = p.arrays
    for kind, m, n, stride, at_index, at_value in a["desc"]:
        if kind == PRODUCT_BUTTERFLY:
            X = _butterfly_product(a["values"][at_value:at_value + 2 * m], stride, X)
        else:
            indptr, gaps = factor_positions(a["index"], at_index, m, stride)
            X = _csr_product(indptr, gaps, a["values"][at_value:at_value + len(gaps)], (m, n), X)
    return X


def _sss_arguments(p, io, work):
    a = p.arrays
    return [p.sizes["stages"], _ptr(a["desc"]), _ptr(a["values"]), *p.shape, *io,
            _ptr(work[0]), p.sizes["max_state"]]


def _sss_work(p, batch, dtype):
    return [np.empty(max(1, 2 * p.sizes["max_state"]), dtype)]


def _sss_fallback(p, X):
    return sss_product(p.arrays["desc"], p.arrays["values"], X)


@dataclass(frozen=True)
class Kernel:
    """How one kind of :class:`~structlab.packing.Packed` layout is computed.

    ``arguments(packed, io, work)`` gives the C kernel's arguments,
    ``work(packed, batch, dtype)`` its scratch arrays (made once per batch
    size) and ``fallback(packed, X)`` the product ``X @ W.T`` in NumPy.
    """

    arguments: object
    work: object
    fallback: object


KERNELS = {"dense": Kernel(_dense_arguments, _no_work, _dense_fallback),
           "lowrank": Kernel(_lowrank_arguments, _lowrank_work, _lowrank_fallback),
           "csr": Kernel(_csr_arguments, _rows_work, _csr_fallback),
           "codebook": Kernel(_codebook_arguments, _rows_work, _codebook_fallback),
           "product": Kernel(_product_arguments, _product_work, _product_fallback),
           "sss": Kernel(_sss_arguments, _sss_work, _sss_fallback)}


class Plan:
    """A structure laid out for its kernel once, then applied to batches of row vectors.

    Packing (a Python loop over rows or factors) happens here, outside any
    timing; calling the plan only checks ``X`` and runs the kernel. Work
    buffers are allocated once per batch size and reused.

    Parameters
    ----------
    S : Structure, ndarray or scipy.sparse matrix
    dtype : float32 or float64, optional
        Default: ``S``'s dtype.
    butterflies : bool
        As :func:`structlab.packing.pack`.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.structures.sparse import Sparse
    >>> plan = Plan(Sparse(np.array([[0.0, 2.0], [3.0, 0.0]])))
    >>> plan(np.array([[1.0, 1.0], [1.0, 0.0]]))
    array([[2., 3.],
           [0., 3.]])
    """

    def __init__(self, S, dtype=None, butterflies=True):
        self.packed = pack(S, dtype, butterflies)
        self.dtype = next(a.dtype for a in self.packed.arrays.values() if a.dtype.kind == "f")
        self._work = {}

    @property
    def shape(self):
        return self.packed.shape

    @property
    def kind(self):
        return self.packed.kind

    def _checked(self, X, out):
        m, n = self.shape
        X = _check_batch(X, n)
        if X.dtype != self.dtype:
            raise TypeError(f"X has dtype {X.dtype}, the plan computes in {self.dtype}")
        if out is None:
            out = np.empty((X.shape[0], m), self.dtype)
        elif (out.shape != (X.shape[0], m) or out.dtype != self.dtype
              or not out.flags.c_contiguous or not out.flags.writeable):
            raise ValueError(f"out must be a writeable C-contiguous {self.dtype} array of shape "
                             f"{(X.shape[0], m)}")
        if np.may_share_memory(X, out):
            raise ValueError("out must not overlap X: the kernel reads X while writing out")
        return np.ascontiguousarray(X), out

    def bind(self, X, out=None):
        """A no-argument function computing ``X @ W.T`` into ``out``: nothing left to check or convert.

        What :mod:`structlab.timing` times: the C kernel with its pointers made
        in advance (or the NumPy fallback).
        """
        X, out = self._checked(X, out)
        entry = KERNELS[self.kind]
        if _lib is None:
            def fallback():
                out[...] = entry.fallback(self.packed, X)
                return out
            return fallback
        if X.shape[0] not in self._work:
            self._work[X.shape[0]] = entry.work(self.packed, X.shape[0], self.dtype)
        kernel = getattr(_lib, f"{self.kind}_apply_{_DTYPES[X.dtype]}")
        args = entry.arguments(self.packed, [_ptr(X), X.shape[0], _ptr(out)],
                               self._work[X.shape[0]])

        def run():
            kernel(*args)
            return out
        return run

    def __call__(self, X, out=None):
        """``X @ W.T`` for ``X`` of shape ``(batch, n)`` in the plan's dtype; ``out`` is reused if given."""
        return self.bind(X, out)()


def apply(S, X):
    """``X @ S.T`` for a batch of row vectors ``X`` (a layer's convention), through :class:`Plan`.

    Packs ``S`` on every call: to time or loop, make a :class:`Plan` once.
    """
    X = as_numpy(X, "X")
    if X.dtype not in _DTYPES:
        raise TypeError(f"X must be float32 or float64 (the plan computes in X's dtype), got {X.dtype}")
    return Plan(S, X.dtype)(X)


def matmat(S, X):
    """``S @ X`` for ``X`` of shape ``(n, k)`` (or a vector), dispatching on the structure's type.

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.structures.lowrank import LowRank
    >>> matmat(LowRank(np.ones((2, 1)), np.ones((1, 3))), np.arange(3.0))
    array([3., 3.])
    """
    X = as_numpy(X, "X")
    if X.ndim == 1:
        return apply(S, X[None, :])[0]
    return apply(S, X.T).T


def dense_apply(W, X):
    """Dense layer product ``X @ W.T`` (the baseline), ``W`` of shape ``(m, n)``."""
    (W, X), _ = _prepare([as_numpy(W, "W"), as_numpy(X, "X")], ["W", "X"])
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D matrix, got shape {W.shape}")
    return Plan(W)(X)


def lowrank_apply(U, V, X):
    """Low-rank layer product ``X @ (U @ V).T`` without forming ``U @ V``."""
    (U, V, X), _ = _prepare([as_numpy(U, "U"), as_numpy(V, "V"), as_numpy(X, "X")],
                            ["U", "V", "X"])
    if U.ndim != 2 or V.ndim != 2 or U.shape[1] != V.shape[0]:
        raise ValueError(f"U (m, r) and V (r, n) must share r, got {U.shape} and {V.shape}")
    return Plan(LowRank(U, V))(X)


_FILE_TYPES = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64",
               np.dtype(np.int64): "i64", np.dtype(np.int32): "i32", np.dtype(np.uint16): "u16",
               np.dtype(np.uint8): "u8"}


def export_layer(S, path, dtype=np.float32, butterflies=True):
    """Write ``S`` as a layer description file for the standalone C timer (``make -C native bench``).

    The file is text lines with each array's raw little-endian bytes right
    after its line (format in ``native/tools/bench.c``): the kernel's packed
    arrays in argument order, then the dense matrix for the baseline. Written
    atomically.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "layer.txt"
    >>> export_layer(np.eye(2), path)
    >>> path.read_bytes().splitlines()[:4]
    [b'structlab-layer 1', b'kind dense', b'dtype f32', b'shape 2 2']
    """
    plan = Plan(S, dtype, butterflies)
    dense = Plan(S if isinstance(S, np.ndarray) else S.toarray(), dtype).packed.arrays["W"]
    m, n = plan.shape
    lines = [f"structlab-layer 1\nkind {plan.kind}\ndtype {_FILE_TYPES[plan.dtype]}\n"
             f"shape {m} {n}\n".encode()]
    lines += [f"size {name} {int(value)}\n".encode() for name, value in plan.packed.sizes.items()]
    for name, a in [*plan.packed.arrays.items(), ("dense", dense)]:
        a = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<"))
        lines += [f"array {name} {_FILE_TYPES[a.dtype.newbyteorder('=')]} {a.size}\n".encode(),
                  a.tobytes(), b"\n"]
    atomic_write(path, lambda f: f.write(b"".join(lines + [b"end\n"])))
