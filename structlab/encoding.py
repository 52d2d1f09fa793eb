"""Where the stored numbers of a sparse matrix sit, encoded as Deep Compression stores it.

A leaf module (NumPy only): the structures count their bytes with it, and
:mod:`structlab.packing` lays out the C kernels' positions with it.

* :func:`relative_indices`: the paper's format, every kept weight's flat
  position as the gap from the previous one in ``index_bits`` bits, with
  filler entries where a gap is too long (what ``Sparse.nbytes`` counts).
* :func:`relative_positions`: the kernels' format, int32 row pointers and a
  gap per entry from the previous entry of its row, in the narrowest of 8 or
  16 bits that needs no fillers (what the torch layers store).
"""

import math

import numpy as np

from structlab._validate import check_int

# Relative positions wider than this never pay (a gap of 2**32 entries is a 16 GB matrix row).
MAX_INDEX_BITS = 32


def relative_indices(positions, index_bits):
    """Encode sorted flat positions as gaps that fit in ``index_bits`` bits.

    Deep Compression stores where each surviving weight sits as the distance
    from the previous one. A gap ``d`` (1 <= d <= 2**index_bits) is stored as
    ``d - 1``; a longer gap is bridged by *filler* entries, each a stored zero
    weight ``2**index_bits`` further on.

    Parameters
    ----------
    positions : array_like of int
        Strictly increasing flat (row-major) positions of the kept weights.
    index_bits : int, >= 1

    Returns
    -------
    gaps : ndarray of int64
        One stored value ``d - 1`` per entry, fillers included.
    is_filler : ndarray of bool
        Which entries are fillers (same length as ``gaps``).

    Examples
    --------
    >>> gaps, filler = relative_indices([1, 4, 15], index_bits=3)
    >>> gaps.tolist(), filler.tolist()
    ([1, 2, 7, 2], [False, False, True, False])
    """
    index_bits = check_int(index_bits, "index_bits", low=1, high=MAX_INDEX_BITS)
    positions = np.asarray(positions, dtype=np.int64)
    if positions.ndim != 1 or np.any(np.diff(positions) <= 0) or np.any(positions < 0):
        raise ValueError("positions must be a 1-D array of increasing non-negative integers")
    span = 1 << index_bits
    gaps = np.diff(positions, prepend=-1)
    n_fillers = (gaps - 1) // span  # entries inserted before each kept weight
    total = len(gaps) + int(n_fillers.sum())
    is_filler = np.ones(total, dtype=bool)
    kept_at = np.arange(len(gaps)) + np.cumsum(n_fillers)
    is_filler[kept_at] = False
    stored = np.full(total, span - 1, dtype=np.int64)
    stored[kept_at] = gaps - n_fillers * span - 1
    return stored, is_filler


def relative_positions(indptr, indices):
    """CSR positions as the kernels store them: int32 row pointers and relative gaps.

    Entry ``p`` of a row sits ``gaps[p] + 1`` columns after the previous entry
    of its row, the first one after column -1 (Deep Compression's relative
    indices, restarted on every row so that rows decode on their own). The
    gaps are uint8 when every gap fits in a byte, else uint16: the narrowest
    type that needs no filler entries.

    Parameters
    ----------
    indptr, indices : array_like of int
        CSR row pointers and column indices, increasing within each row.

    Returns
    -------
    indptr : ndarray of int32
    gaps : ndarray of uint8 or uint16

    Examples
    --------
    >>> indptr, gaps = relative_positions([0, 2, 3], [1, 4, 300])
    >>> indptr.tolist(), gaps.tolist(), gaps.dtype.name
    ([0, 2, 3], [1, 2, 300], 'uint16')
    >>> bool((column_indices(indptr, gaps) == [1, 4, 300]).all())
    True
    """
    indptr, indices = np.asarray(indptr, np.int64), np.asarray(indices, np.int64)
    if len(indices) >= 2 ** 31:
        raise ValueError(f"at most 2**31 - 1 entries fit int32 row pointers, got {len(indices)}")
    gaps = np.diff(indices, prepend=-1) - 1
    starts = indptr[:-1][np.diff(indptr) > 0]
    gaps[starts] = indices[starts]
    if gaps.size and gaps.min() < 0:
        raise ValueError("column indices must increase within each row")
    widest = int(gaps.max(initial=0))
    if widest >= 1 << 16:
        raise ValueError(f"a gap of {widest + 1} columns does not fit 16 bits: the kernels take "
                         "matrices of at most 65536 columns")
    return indptr.astype(np.int32), gaps.astype(np.uint8 if widest < 256 else np.uint16)


def column_indices(indptr, gaps):
    """The column of every entry (int64), from :func:`relative_positions`' encoding."""
    indptr = np.asarray(indptr, np.int64)
    steps = np.cumsum(np.asarray(gaps, np.int64) + 1)
    before = np.concatenate([[0], steps])[indptr[:-1]]  # the running sum where each row starts
    return steps - np.repeat(before, np.diff(indptr)) - 1


def shared_value_bits(n_centroids, with_fillers=False):
    """Bits of one fixed-width codebook index: ``ceil(log2 k)``, one more symbol with fillers.

    Fillers get their own symbol, ``k``, so that a decoder can tell them apart.

    Examples
    --------
    >>> shared_value_bits(16), shared_value_bits(16, with_fillers=True), shared_value_bits(1)
    (4, 5, 1)
    """
    return max(1, math.ceil(math.log2(n_centroids + bool(with_fillers))))
