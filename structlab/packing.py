"""Structures laid out as the flat arrays the C kernels read (chapter 7).

Each ``pack_*`` function is pure: it turns a structure into a :class:`Packed`
(the kernel's name, the arrays it reads in order, and its integer sizes). The
same arrays feed the C kernel, the NumPy fallback and the layer description
file of ``structlab export-layer``, so all three compute from one layout. The
layouts are documented in the C sources (``native/*.c``).
"""

import functools
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse

from structlab._validate import as_csr, as_matrix
from structlab.encoding import column_indices, relative_positions
from structlab.structures.base import Structure
from structlab.structures.codebook import Codebook
from structlab.structures.lowrank import LowRank
from structlab.structures.sparse import CSRStructure
from structlab.structures.sparse_product import SparseProduct
from structlab.structures.sss import SSS, Causal

PRODUCT_CSR, PRODUCT_BUTTERFLY = 0, 1  # as in native/structlab.h
SSS_FIELDS = ("m", "n", "dl", "du", "row", "col", "D", "B", "A", "C", "Bt", "At", "Ct")


@dataclass
class Packed:
    """What one kernel call needs besides the input.

    Attributes
    ----------
    kind : str
        ``dense``, ``lowrank``, ``csr``, ``codebook``, ``product`` or ``sss``.
    shape : tuple of int
        ``(m, n)`` of the matrix.
    arrays : dict of str -> ndarray
        C-contiguous arrays in the order the kernel takes them.
    sizes : dict of str -> int
        Integer arguments (bit width, number of factors, ...).
    flops : int
        Multiply-adds of one product with one vector.
    """

    kind: str
    shape: tuple
    arrays: dict
    sizes: dict = field(default_factory=dict)
    flops: int = 0

    @property
    def nbytes(self):
        """Bytes the kernel reads for one vector: every packed array once."""
        return sum(a.nbytes for a in self.arrays.values())


def _values(a, dtype):
    return np.ascontiguousarray(a, dtype=dtype)


def _index(a):
    return np.ascontiguousarray(a, dtype=np.int64)


def pack_dense(W, dtype):
    W = _values(W, dtype)
    return Packed("dense", W.shape, {"W": W}, flops=W.size)


def pack_lowrank(S, dtype):
    """``U`` transposed (the kernel's second pass runs over its columns), then ``V``."""
    return Packed("lowrank", S.shape, {"Ut": _values(S.U.T, dtype), "V": _values(S.V, dtype)},
                  {"r": S.rank}, flops=S.nparams)


def pack_csr(S, dtype):
    csr = scipy.sparse.csr_array(S, copy=True)  # sorting must not touch the caller's arrays
    csr.sum_duplicates()
    indptr, gaps = relative_positions(csr.indptr, csr.indices)
    return Packed("csr", csr.shape, {"indptr": indptr, "gaps": gaps,
                                     "values": _values(csr.data, dtype)},
                  {"gap_bytes": gaps.itemsize}, flops=csr.nnz)


def pack_bits(rows, bits):
    """Pack each row's small integers ``bits`` to an entry, every row from a fresh byte.

    Returns ``packed`` (uint8, with one spare byte at the end, since the C
    kernel reads an entry as 16 bits) and ``row_bytes`` (int32, where each
    row starts, plus the end).

    Examples
    --------
    >>> packed, starts = pack_bits([[1, 2, 3], [3]], bits=2)
    >>> packed.tolist(), starts.tolist()
    ([57, 3, 0], [0, 1, 2])
    """
    if not 1 <= bits <= 8:
        raise ValueError(f"bits must be between 1 and 8, got {bits}")
    weights = np.arange(bits)
    chunks = []
    for row in rows:
        row = np.asarray(row, dtype=np.int64)
        if row.size and (row.min() < 0 or row.max() >= 1 << bits):
            raise ValueError(f"indices must lie in [0, {1 << bits}) for {bits} bits")
        chunks.append(np.packbits(((row[:, None] >> weights) & 1).astype(np.uint8).ravel(),
                                  bitorder="little"))
    starts = np.concatenate([[0], np.cumsum([len(c) for c in chunks], dtype=np.int64)])
    if starts[-1] >= 2 ** 31:
        raise ValueError(f"{starts[-1]} packed bytes do not fit int32 row starts")
    return np.concatenate([*chunks, np.zeros(1, np.uint8)]), starts.astype(np.int32)


def unpack_bits(packed, start, count, bits):
    """The ``count`` integers packed ``bits`` to an entry from byte ``start`` (inverse of :func:`pack_bits`)."""
    raw = np.unpackbits(packed[start:start + -(-count * bits // 8)], bitorder="little")
    return raw[:count * bits].reshape(count, bits).astype(np.int64) @ (1 << np.arange(bits))


def pack_codebook(S, dtype):
    """A :class:`~structlab.structures.codebook.Codebook`: packed indices, table, CSR positions if pruned."""
    dense = bool(S.mask.all())
    rows = S.index if dense else [S.index[i, S.mask[i]] for i in range(S.shape[0])]
    packed, row_bytes = pack_bits(rows, S.bits)
    # zero-padded to 32 values (the AVX-512 kernel loads the table as two 16-float registers)
    # and to every value `bits` can index, so that no packed index reads past the table
    table = np.zeros(max(32, 1 << S.bits, len(S.centroids)), dtype)
    table[:len(S.centroids)] = S.centroids
    arrays = {"packed": packed, "row_bytes": row_bytes, "table": table}
    sizes = {"bits": S.bits, "sparse": int(not dense), "gap_bytes": 0}
    if not dense:
        arrays["indptr"], arrays["gaps"] = relative_positions(
            np.concatenate([[0], np.cumsum(S.mask.sum(axis=1))]), np.nonzero(S.mask)[1])
        sizes["gap_bytes"] = arrays["gaps"].itemsize
    return Packed("codebook", S.shape, arrays, sizes, flops=int(S.mask.sum()))


def butterfly_stride(factor):
    """The stride ``s`` if every row ``i`` of ``factor`` only uses columns ``i`` and ``i ^ s``, else None.

    Such a factor (a radix-2 butterfly, as in the fast Hadamard and Fourier
    transforms) needs no indices: the kernel knows where its two entries are.

    Examples
    --------
    >>> import numpy as np
    >>> butterfly_stride(np.kron(np.eye(2), [[1.0, 1.0], [1.0, -1.0]]))
    1
    >>> butterfly_stride(np.eye(4)[::-1]) is None
    True
    """
    csr = scipy.sparse.csr_array(factor)
    m, n = csr.shape
    rows = np.repeat(np.arange(m), np.diff(csr.indptr))
    other = csr.indices != rows
    strides = np.unique(csr.indices[other] ^ rows[other])
    if m != n or len(strides) != 1 or strides[0] & (strides[0] - 1) or m % (2 * strides[0]):
        return None
    return int(strides[0])


def _butterfly_values(factor, stride):
    """``d`` (coefficients of ``x[i]``) then ``o`` (of ``x[i ^ stride]``), zeros where absent."""
    csr = scipy.sparse.csr_array(factor)
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    values = np.zeros(2 * csr.shape[0], dtype=csr.dtype)
    values[rows + csr.shape[0] * (csr.indices != rows)] = csr.data
    return values


def pack_product(S, dtype, butterflies=True):
    """A :class:`~structlab.structures.sparse_product.SparseProduct`, factors in the order applied.

    ``lam`` is folded into the first factor applied; factors that are radix-2
    butterflies (:func:`butterfly_stride`) take the index-free path unless
    ``butterflies`` is False.
    """
    desc, index, values = [], [np.zeros(0, np.uint8)], [np.zeros(0, dtype)]
    at_index = at_value = 0
    for j, factor in enumerate(reversed(S.factors)):
        factor = factor * S.lam if j == 0 else factor
        stride = butterfly_stride(factor) if butterflies else None
        if stride is None:
            csr = pack_csr(factor, dtype)
            gaps = csr.arrays["gaps"].view(np.uint8)
            pad = -len(gaps) % 4  # the next factor's int32 row pointers stay aligned
            idx = np.concatenate([csr.arrays["indptr"].view(np.uint8), gaps, np.zeros(pad, np.uint8)])
            vals, kind, stride = csr.arrays["values"], PRODUCT_CSR, csr.sizes["gap_bytes"]
        else:
            idx, vals = np.zeros(0, np.uint8), _values(_butterfly_values(factor, stride), dtype)
            kind = PRODUCT_BUTTERFLY
        desc.append([kind, *factor.shape, stride, at_index, at_value])
        index.append(idx)
        values.append(vals)
        at_index, at_value = at_index + len(idx), at_value + len(vals)
    inner = max([f.shape[0] for f in S.factors[1:]], default=0)
    return Packed("product", S.shape, {"desc": _index(desc), "index": np.concatenate(index),
                                       "values": _values(np.concatenate(values), dtype)},
                  {"factors": len(S.factors), "inner": inner,
                   "widest": max(f.shape[1] for f in S.factors)}, flops=S.nparams)


def pack_sss(S, dtype):
    """An :class:`~structlab.structures.sss.SSS`: one row of ``SSS_FIELDS`` per stage, all numbers in one array.

    Every block is stored by columns and the upper system's generators as the
    backward pass applies them, transposed (see ``native/sss.c``).
    """
    K, lower, upper = len(S.row_sizes), S.lower, S.upper
    rows, cols = np.cumsum(S.row_sizes) - S.row_sizes, np.cumsum(S.col_sizes) - S.col_sizes
    blocks, desc, at = [], [], 0

    def put(matrix):  # by columns: the kernel's products are axpy updates
        nonlocal at
        blocks.append(np.asarray(matrix).ravel(order="F"))
        at += blocks[-1].size
        return at - blocks[-1].size

    for k in range(K):
        inner = k + 1 < K
        row = dict(m=S.row_sizes[k], n=S.col_sizes[k], dl=lower.dims[k] if inner else 0,
                   du=upper.dims[k] if inner else 0, row=rows[k], col=cols[k], D=put(S.D[k]))
        if inner:
            row.update(B=put(lower.B[k]), A=put(lower.A[k]), C=put(lower.C[k]),
                       Bt=put(upper.B[k].T), Ct=put(upper.C[k].T),
                       At=put(upper.A[k + 1].T) if k + 2 < K else 0)
        desc.append([int(row.get(name, 0)) for name in SSS_FIELDS])
    states = [*lower.dims, *upper.dims, 0]
    return Packed("sss", S.shape, {"desc": _index(desc),
                                   "values": _values(np.concatenate(blocks), dtype)},
                  {"stages": K, "max_state": int(max(states))}, flops=S.nparams)


def sss_blocks(desc):
    """``(stage, name, rows, cols)`` of every block :func:`pack_sss` stores (``At`` of the last two stages aside)."""
    m, n, dl, du = (desc[:, i] for i in range(4))
    K = len(desc)
    blocks = []
    for k in range(K):
        blocks.append((k, "D", m[k], n[k]))
        if k + 1 < K:
            blocks += [(k, "B", dl[k], n[k]), (k, "A", dl[k], dl[k - 1] if k else 0),
                       (k, "C", m[k + 1], dl[k]), (k, "Bt", m[k], du[k]),
                       (k, "Ct", du[k], n[k + 1])]
        if k + 2 < K:
            blocks.append((k, "At", du[k], du[k + 1]))
    return blocks


def _sss_blocks(desc, values, split):
    """Every block as a ``rows x cols`` view of ``values`` (stored by columns), by ``(stage, name)``."""
    blocks = sss_blocks(desc)
    if split is None:
        at = [int(desc[k, SSS_FIELDS.index(name)]) for k, name, _, _ in blocks]
        pieces = [values[a:a + r * c] for a, (_, _, r, c) in zip(at, blocks)]
    else:  # stored one after another: one split, whose gradient autograd forms once
        blocks.sort(key=lambda b: desc[b[0], SSS_FIELDS.index(b[1])])
        pieces = split(values, [int(r * c) for _, _, r, c in blocks])
    return {(k, name): piece.reshape(c, r).T for (k, name, r, c), piece in zip(blocks, pieces)}


def sss_product(desc, values, X, concatenate=np.concatenate, split=None):
    """``X @ T.T`` for the SSS matrix ``T`` of :func:`pack_sss`, stage by stage as ``native/sss.c`` runs.

    Works on NumPy arrays and on torch tensors alike (``values`` and ``X`` of
    one kind, ``concatenate`` ``torch.cat`` and ``split`` ``torch.split`` for
    tensors; ``desc`` a NumPy array), so the NumPy fallback of the kernels and
    the torch path of :class:`~structlab.nn.layers.SSSLinear` are this one
    function, and autograd differentiates it. Each stage's output is a sum of
    new terms (no in-place update) and the blocks come from one split of
    ``values``: a slice per block made a training step of MobileNetV2's
    classifier (30 stages) take 25 ms, every slice's gradient the size of
    ``values``.
    """
    m, n, dl, du = desc[:, :4].T
    K = len(desc)
    block = _sss_blocks(desc, values, split)
    xs = [X[:, c:c + w] for c, w in zip(desc[:, 5], n)]
    ys = [xs[k] @ block[k, "D"].T for k in range(K)]
    state = None
    for k in range(K - 1):
        state = xs[k] @ block[k, "B"].T + (state @ block[k, "A"].T if k else 0)
        ys[k + 1] = ys[k + 1] + state @ block[k, "C"].T
    for k in range(K - 2, -1, -1):
        state = xs[k + 1] @ block[k, "Ct"].T + (state @ block[k, "At"].T if k + 2 < K else 0)
        ys[k] = ys[k] + state @ block[k, "Bt"].T
    return concatenate(ys, 1)


def unpack_sss(desc, values):
    """The :class:`~structlab.structures.sss.SSS` that :func:`pack_sss` laid out as ``desc``, ``values``.

    Examples
    --------
    >>> from structlab.approx.sss import sss_approximate
    >>> S = sss_approximate(np.random.default_rng(0).standard_normal((9, 7)), nparams=50)
    >>> p = pack_sss(S, np.float64)
    >>> np.allclose(unpack_sss(p.arrays["desc"], p.arrays["values"]).toarray(), S.toarray())
    True
    """
    m, n = desc[:, 0], desc[:, 1]
    K = len(desc)
    block = {key: np.array(b) for key, b in _sss_blocks(desc, values, None).items()}
    inner = range(K - 1)
    lower = Causal(m, n, [block[k, "B"] for k in inner], [block[k, "A"] for k in inner],
                   [block[k, "C"] for k in inner])
    # the upper system is stored transposed, and its A[k + 1] at stage k
    upper_A = [np.zeros((desc[0, 3], 0))] * (K > 1) + [block[k - 1, "At"].T for k in range(1, K - 1)]
    upper = Causal(n, m, [block[k, "Bt"].T for k in inner], upper_A,
                   [block[k, "Ct"].T for k in inner])
    return SSS(m, n, [block[k, "D"] for k in range(K)], lower, upper)


def pack(S, dtype=None, butterflies=True):
    """Lay out ``S`` (a structure, a dense array or a SciPy sparse matrix) for the kernels.

    Parameters
    ----------
    S : Structure, ndarray or scipy.sparse matrix
    dtype : float32 or float64, optional
        Default: ``S``'s own dtype.
    butterflies : bool
        Let a sparse product's butterfly factors take the index-free path
        (False: every factor as CSR, to measure what the special path buys).

    Returns
    -------
    Packed

    Examples
    --------
    >>> import numpy as np
    >>> from structlab.structures.lowrank import LowRank
    >>> p = pack(LowRank(np.ones((4, 1)), np.ones((1, 3))), np.float32)
    >>> p.kind, p.shape, p.flops, p.nbytes
    ('lowrank', (4, 3), 7, 28)
    """
    return check_packed(_pack(S, dtype, butterflies))


@functools.singledispatch
def _pack_structure(S, dtype, butterflies):
    """The layout of ``S`` by its type (the most specific registered class wins)."""
    if isinstance(S, Structure):
        raise TypeError(f"no kernel for {type(S).__name__}")
    return pack_dense(as_matrix(S, "S"), dtype)


def _built_once(packer):
    """``packer(S, dtype)``, its errors said plainly for a structure changed after it was built."""
    def pack_checked(S, dtype, butterflies):
        try:
            return packer(S, dtype, butterflies)
        except (IndexError, AttributeError, TypeError, ValueError) as error:
            # a structure whose attributes were replaced after it was built: they no longer fit
            raise ValueError(f"{type(S).__name__} is inconsistent ({type(error).__name__}: "
                             f"{error}); build it again rather than changing its arrays") from None
    return pack_checked


_pack_structure.register(CSRStructure, lambda S, dtype, butterflies: pack_csr(
    as_csr(S.csr, f"{type(S).__name__}.csr"), dtype))
_pack_structure.register(Codebook, _built_once(lambda S, dtype, _: pack_codebook(S, dtype)))
_pack_structure.register(SparseProduct, _built_once(pack_product))
_pack_structure.register(LowRank, _built_once(lambda S, dtype, _: pack_lowrank(S, dtype)))
_pack_structure.register(SSS, _built_once(lambda S, dtype, _: pack_sss(S, dtype)))


def _pack(S, dtype, butterflies):
    dtype = np.dtype(getattr(S, "dtype", np.float64) if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    if scipy.sparse.issparse(S):
        return pack_csr(as_csr(S, "S"), dtype)
    return _pack_structure(S, dtype, butterflies)


def _bad(p, what):
    raise ValueError(f"{p.kind} layout of a {p.shape[0]}x{p.shape[1]} matrix: {what} (was the "
                     "structure changed after it was built, or its sparse input malformed?)")


_GAP_TYPES = {1: np.dtype(np.uint8), 2: np.dtype(np.uint16)}
# what the C kernels read each array as (the rest hold floats, gaps are 1 or 2 bytes)
_INDEX_TYPES = {"indptr": np.dtype(np.int32), "row_bytes": np.dtype(np.int32),
                "packed": np.dtype(np.uint8), "index": np.dtype(np.uint8),
                "desc": np.dtype(np.int64)}
_MATRICES = {"W", "Ut", "V", "desc"}


def factor_positions(index, at, rows, gap_bytes):
    """A sparse product's CSR factor in its byte array: ``(indptr, gaps)`` views, or None if outside it."""
    end = at + 4 * (rows + 1)
    if gap_bytes not in _GAP_TYPES or at < 0 or at % 4 or end > len(index):
        return None
    indptr = index[at:end].view(np.int32)
    nnz = int(indptr[-1])
    if nnz < 0 or end + nnz * gap_bytes > len(index):
        return None
    return indptr, index[end:end + nnz * gap_bytes].view(_GAP_TYPES[gap_bytes])


def _check_csr(p, indptr, gaps, gap_bytes, m, n, values_size, where=""):
    if indptr.dtype != np.int32 or gaps.dtype != _GAP_TYPES.get(gap_bytes):
        _bad(p, f"{where}positions must be int32 row pointers and {gap_bytes}-byte gaps")
    indptr = indptr.astype(np.int64)  # stored int32: no overflow below
    if len(indptr) != m + 1 or indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        _bad(p, f"{where}row pointers must rise from 0 in {m + 1} steps")
    if indptr[-1] != len(gaps) or indptr[-1] > values_size:
        _bad(p, f"{where}row pointers end at {indptr[-1]}, not at the {len(gaps)} entries")
    if len(gaps) and column_indices(indptr, gaps).max() >= n:
        _bad(p, f"{where}column indices must lie in [0, {n})")


def check_packed(p):
    """``p`` itself, once every index and size the C kernel will follow is known to be in bounds.

    The kernels trust their arguments; this is where that trust is earned, on
    both paths (C and NumPy), whatever happened to the structure after it was
    built. A ValueError names what is out of place.
    """
    a, (m, n) = p.arrays, p.shape
    if m < 0 or n < 0:
        _bad(p, "negative shape")
    for name, array in a.items():
        if not array.flags.c_contiguous or array.ndim != (2 if name in _MATRICES else 1):
            _bad(p, f"{name} must be a contiguous {2 if name in _MATRICES else 1}-D array")
        want = _INDEX_TYPES.get(name)
        if (array.dtype != want) if want else (name != "gaps" and array.dtype.kind != "f"):
            _bad(p, f"{name} must hold {np.dtype(want).name if want else 'floats'}, got "
                    f"{array.dtype}")
    if p.kind == "dense" and a["W"].shape != (m, n):
        _bad(p, f"W has shape {a['W'].shape}")
    elif p.kind == "lowrank" and (a["Ut"].shape != (p.sizes["r"], m)
                                  or a["V"].shape != (p.sizes["r"], n)):
        _bad(p, f"factors of shapes {a['Ut'].shape[::-1]} and {a['V'].shape} do not make it")
    elif p.kind == "csr":
        _check_csr(p, a["indptr"], a["gaps"], p.sizes["gap_bytes"], m, n, len(a["values"]))
        if len(a["values"]) != len(a["gaps"]):
            _bad(p, "one value per column index")
    elif p.kind == "codebook":
        _check_codebook(p, a, m, n)
    elif p.kind == "product":
        _check_product(p, a, m, n)
    elif p.kind == "sss":
        _check_sss(p, a, m, n)
    return p


def _check_codebook(p, a, m, n):
    bits, starts = p.sizes["bits"], a["row_bytes"].astype(np.int64)  # int32: no overflow below
    if not 1 <= bits <= 8 or len(a["table"]) < max(32, 1 << bits):
        _bad(p, f"{bits} bits need a table of {max(32, 1 << bits)} values")
    if p.sizes["sparse"]:
        _check_csr(p, a["indptr"], a["gaps"], p.sizes["gap_bytes"], m, n, len(a["gaps"]))
        counts = np.diff(a["indptr"])
    else:
        counts = np.full(m, n)
    if len(starts) != m + 1 or starts[0] != 0 or np.any(np.diff(starts) < -(-counts * bits // 8)):
        _bad(p, "row starts must leave each row its packed bytes")
    if starts[-1] + 1 > len(a["packed"]):  # one spare byte: an entry is read as 16 bits
        _bad(p, "packed indices end before the last row does")


def _check_product(p, a, m, n):
    desc, index, values = a["desc"], a["index"], a["values"]
    if desc.ndim != 2 or desc.shape != (p.sizes["factors"], 6) or not len(desc):
        _bad(p, "one 6-number description per factor")
    width = n
    for f, (kind, rows, cols, stride, at_index, at_value) in enumerate(desc):
        where = f"factor {f}: "
        if cols != width or rows < 0 or (f < len(desc) - 1 and rows > p.sizes["inner"]):
            _bad(p, f"{where}shape ({rows}, {cols}) does not chain")
        if kind == PRODUCT_BUTTERFLY:
            if (rows != cols or stride < 1 or stride & (stride - 1) or rows % (2 * stride)
                    or not 0 <= at_value <= len(values) - 2 * rows):
                _bad(p, f"{where}not a radix-2 butterfly within the values")
        elif kind == PRODUCT_CSR:
            positions = factor_positions(index, at_index, rows, stride) if rows >= 0 else None
            if positions is None or not 0 <= at_value <= len(values) or cols > p.sizes["widest"]:
                _bad(p, f"{where}offsets outside the arrays")
            _check_csr(p, *positions, stride, rows, cols, len(values) - at_value, where)
        else:
            _bad(p, f"{where}unknown kind {kind}")
        width = rows
    if width != m:
        _bad(p, f"the last factor has {width} rows")


def _check_sss(p, a, m, n):
    desc, values = a["desc"], a["values"]
    K = len(desc)
    f = {name: i for i, name in enumerate(SSS_FIELDS)}
    if desc.ndim != 2 or desc.shape != (p.sizes["stages"], len(SSS_FIELDS)) or K < 1:
        _bad(p, f"one {len(SSS_FIELDS)}-number description per stage")
    sizes = desc[:, [f["m"], f["n"], f["dl"], f["du"]]]
    if sizes.min() < 0 or desc[-1, f["dl"]] or desc[-1, f["du"]]:
        _bad(p, "negative sizes, or a state after the last stage")
    if sizes[:, 2:].max(initial=0) > p.sizes["max_state"]:
        _bad(p, "a state larger than the work buffer")
    ms, ns, dl, du = sizes.T
    if (ms.sum() != m or ns.sum() != n or np.any(desc[:, f["row"]] != np.cumsum(ms) - ms)
            or np.any(desc[:, f["col"]] != np.cumsum(ns) - ns)):
        _bad(p, "stages do not tile the matrix")
    for k, name, rows, cols in sss_blocks(desc):
        if not 0 <= desc[k, f[name]] <= len(values) - rows * cols:
            _bad(p, f"stage {k}: block {name} outside the values")
