"""Huffman coding, and the storage arithmetic of Deep Compression.

After pruning and weight sharing, a layer is two streams of small integers: the
codebook index of each stored weight, and the relative position of each stored
weight (:func:`structlab.encoding.relative_indices`). Both are far
from uniform, so a Huffman code stores them in fewer bits than fixed width.

Examples
--------
>>> code = huffman_code(["a", "a", "a", "b", "c"])
>>> sorted((s, len(c)) for s, c in code.items())
[('a', 1), ('b', 2), ('c', 2)]
>>> data, nbits = encode(["a", "b", "a"], code)
>>> decode(data, nbits, code).tolist()
['a', 'b', 'a']
"""

import heapq
import itertools
from dataclasses import dataclass

import numpy as np

from structlab._validate import as_mask, as_numpy, check_int

from structlab.encoding import MAX_INDEX_BITS, relative_indices, shared_value_bits

FLOAT_BITS = 32  # centroids, biases and unshared weights are stored as float32
LENGTH_BITS = 8  # a canonical Huffman table stores one code length per symbol


def huffman_code(symbols):
    """An optimal prefix code for the empirical distribution of ``symbols``.

    Parameters
    ----------
    symbols : sequence of hashable
        The stream to code (not empty).

    Returns
    -------
    dict
        Symbol -> code as a string of ``"0"``/``"1"``. A single distinct
        symbol gets the one-bit code ``"0"``. Ties are broken by symbol order,
        so the code is deterministic.
    """
    values, counts = _counted(symbols)
    if len(values) == 0:
        raise ValueError("symbols is empty: nothing to code")
    if len(values) == 1:
        return {values[0].item(): "0"}
    order = itertools.count()
    # Heap of (count, tie-break, {symbol: code so far}): merging two subtrees
    # prefixes a 0 to the codes of one and a 1 to the other's.
    heap = [(int(c), next(order), {v.item(): ""}) for v, c in zip(values, counts)]
    heapq.heapify(heap)
    while len(heap) > 1:
        count_a, _, left = heapq.heappop(heap)
        count_b, _, right = heapq.heappop(heap)
        merged = {s: "0" + c for s, c in left.items()} | {s: "1" + c for s, c in right.items()}
        heapq.heappush(heap, (count_a + count_b, next(order), merged))
    return heap[0][2]


def _counted(symbols):
    """The distinct symbols of a 1-D stream, sorted, and how often each occurs."""
    stream = as_numpy(symbols, "symbols")
    if stream.ndim != 1 or (stream.size and stream.dtype.kind not in "biuUS"):
        raise TypeError(f"symbols must be a 1-D sequence of integers or strings, got dtype "
                        f"{stream.dtype} and shape {stream.shape}")
    return np.unique(stream, return_counts=True)


def _codeword(code, symbol):
    try:
        return code[symbol]
    except (KeyError, TypeError):
        raise ValueError(f"symbol {symbol!r} has no code word in the code given") from None


def coded_bits(symbols, code):
    """Length in bits of ``symbols`` under ``code``, without building the bit string."""
    values, counts = _counted(symbols)
    return int(sum(len(_codeword(code, v.item())) * int(c) for v, c in zip(values, counts)))


def encode(symbols, code):
    """Pack ``symbols`` into bytes with ``code``; return ``(data, nbits)``."""
    _counted(symbols)  # refuses what is not a 1-D stream of integers or strings
    bits = "".join(_codeword(code, s.item() if hasattr(s, "item") else s) for s in symbols)
    padded = bits + "0" * (-len(bits) % 8)
    data = bytes(int(padded[i:i + 8], 2) for i in range(0, len(padded), 8))
    return data, len(bits)


def decode(data, nbits, code):
    """Inverse of :func:`encode`: the ``nbits`` first bits of ``data`` back to symbols."""
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    nbits = check_int(nbits, "nbits", low=0)
    bits = "".join(f"{byte:08b}" for byte in data)[:nbits]
    if len(bits) < nbits:
        raise ValueError(f"data holds {len(bits)} bits, fewer than nbits={nbits}")
    lookup = {c: s for s, c in code.items()}
    out, word = [], ""
    for bit in bits:
        word += bit
        if word in lookup:
            out.append(lookup[word])
            word = ""
    if word:
        raise ValueError("data ends in the middle of a code word")
    return np.array(out)


@dataclass(frozen=True)
class LayerStorage:
    """Bits one layer takes at each stage of Deep Compression.

    ``fixed_bits`` is pruning + quantization (fixed-width codes), ``huffman_bits``
    adds Huffman coding of both streams. Both include the codebook, the
    Huffman tables (for ``huffman_bits``) and the float32 biases.
    """

    name: str
    dense_params: int
    kept: int
    fillers: int
    weight_bits: int
    index_bits: int
    fixed_bits: int
    huffman_bits: int

    @property
    def dense_bits(self):
        return FLOAT_BITS * self.dense_params

    @property
    def ratio(self):
        """Dense float32 size over the Huffman-coded size (inf when nothing is stored)."""
        return self.dense_bits / self.huffman_bits if self.huffman_bits else float("inf")


def layer_storage(name, mask, index=None, n_centroids=None, index_bits=5, n_bias=0):
    """Storage of a pruned (and optionally weight-shared) layer, as in the paper.

    Parameters
    ----------
    name : str
    mask : array_like of bool
        Kept weights, any shape (flattened row-major).
    index : array_like of int, optional
        Codebook index of every weight (same shape as ``mask``); without it
        the kept weights are stored as float32 and only positions are coded.
    n_centroids : int, optional
        Codebook size (required with ``index``).
    index_bits : int
        Bits per relative position.
    n_bias : int
        Float32 biases stored beside the layer.

    Returns
    -------
    LayerStorage
    """
    mask = as_mask(mask, "mask").ravel()
    n_bias = check_int(n_bias, "n_bias", low=0)
    index_bits = check_int(index_bits, "index_bits", low=1, high=MAX_INDEX_BITS)
    extra = FLOAT_BITS * n_bias
    if not mask.any():  # pruned away entirely: only the biases remain
        return LayerStorage(name, mask.size + n_bias, 0, 0, 0, index_bits, extra, extra)
    gaps, is_filler = relative_indices(np.flatnonzero(mask), index_bits)
    position_bits = _huffman_total(gaps)
    if index is None:
        weight_bits = FLOAT_BITS
        stream_bits = weight_bits * len(gaps)
    else:
        if n_centroids is None:
            raise ValueError("n_centroids is required with index")
        n_centroids = check_int(n_centroids, "n_centroids", low=1)
        index = as_numpy(index, "index")
        if index.size != mask.size or index.dtype.kind not in "iu" or (
                index.size and (index.min() < 0 or index.max() >= n_centroids)):
            raise ValueError(f"index must hold one integer in [0, {n_centroids}) per weight "
                             f"of mask ({mask.size})")
        # Fillers get their own symbol, n_centroids, so a decoder can tell them apart.
        symbols = np.full(len(gaps), n_centroids, dtype=np.int64)
        symbols[~is_filler] = index.ravel()[mask]
        weight_bits = shared_value_bits(n_centroids, is_filler.any())
        extra += FLOAT_BITS * n_centroids
        stream_bits = _huffman_total(symbols)
    fixed = len(gaps) * (weight_bits + index_bits) + extra
    huffman = stream_bits + position_bits + extra
    return LayerStorage(name, mask.size + n_bias, int((~is_filler).sum()), int(is_filler.sum()),
                        weight_bits, index_bits, fixed, huffman)


def best_index_bits(name, mask, index=None, n_centroids=None, n_bias=0, candidates=range(2, 13)):
    """:func:`layer_storage` with the ``index_bits`` that minimizes the Huffman-coded size."""
    return min((layer_storage(name, mask, index, n_centroids, b, n_bias) for b in candidates),
               key=lambda storage: storage.huffman_bits)


def _huffman_total(symbols):
    """Coded bits of a stream plus its table (one code length per distinct symbol)."""
    code = huffman_code(symbols)
    return coded_bits(symbols, code) + LENGTH_BITS * len(code)
