"""Checks for chapter 7, timing structured products."""

import numpy as np
import scipy.sparse

from structlab.exercises import register
from structlab.packing import pack_csr

CHAPTER = "07_timing"


@register("break_even_rank", CHAPTER, points=1)
def _break_even_rank(func):
    cases = [(4, 4), (10, 14), (300, 784), (1000, 1280), (1, 7), (6, 3), (2, 2)]
    for m, n in cases:
        expected = max((r for r in range(min(m, n) + 1) if r * (m + n) < m * n), default=0)
        got = func(m, n)
        assert got == expected, (
            f"{m}x{n}: you said {got}, expected {expected}. A rank-r product costs r*(m + n) "
            f"multiply-adds against m*n = {m * n}; find the largest r that is strictly cheaper "
            "(watch the case where r*(m + n) equals m*n)")
    return f"right on {len(cases)} shapes"


@register("csr_matvec", CHAPTER, points=2)
def _csr_matvec(func):
    rng = np.random.default_rng(71)
    for m, n, density in [(5, 7, 0.4), (12, 3, 0.5), (6, 6, 0.0), (1, 9, 1.0)]:
        dense = rng.standard_normal((m, n)) * (rng.random((m, n)) < density)
        dense[0] = 0.0  # an empty row
        csr = scipy.sparse.csr_array(dense)
        x = rng.standard_normal(n)
        got = np.asarray(func(csr.indptr, csr.indices, csr.data, x), dtype=float)
        assert got.shape == (m,), f"the result must have {m} entries (one per row), got {got.shape}"
        assert np.allclose(got, dense @ x), (
            f"{m}x{n}, density {density}: wrong values. Row i's entries are values[p] at columns "
            "indices[p] for indptr[i] <= p < indptr[i + 1]; an empty row gives 0")
    return "matches the dense product on 4 matrices, empty rows included"


@register("csr_bytes", CHAPTER, points=1)
def _csr_bytes(func):
    rng = np.random.default_rng(72)
    for m, n, density, dtype in [(300, 784, 0.1, np.float32), (1000, 1280, 0.05, np.float32),
                                 (20, 30, 0.5, np.float64)]:
        packed = pack_csr(scipy.sparse.random(m, n, density, rng=rng), dtype)
        nnz = len(packed.arrays["values"])
        got = func(m, nnz, np.dtype(dtype).itemsize, 8)
        assert got == packed.nbytes, (
            f"{m} rows, {nnz} stored entries, {np.dtype(dtype).itemsize}-byte values: you said "
            f"{got} bytes, the kernel reads {packed.nbytes}. Count the values, one 8-byte column "
            "index per value, and the m + 1 row pointers")
    got = func(10, 50, 4, 4)  # a kernel with 4-byte indices
    assert got == 50 * 8 + 11 * 4, (
        f"10 rows, 50 entries, 4-byte values and 4-byte indices: you said {got}, expected "
        f"{50 * 8 + 11 * 4}. Use index_bytes for the column indices and the row pointers")
    return "the bytes the C kernel reads, on 3 matrices, and with 4-byte indices"
