"""Hidden tests for chapter 3: heavy-tailed weights, many k, random symbol counts."""

import numpy as np

from structlab.approx.huffman import coded_bits, huffman_code
from structlab.approx.kmeans import init_centroids


def _same_as_the_library_init(ns, mode, seed):
    rng = np.random.default_rng(seed)
    for _ in range(10):
        w = rng.standard_normal(rng.integers(300, 2000)) ** 3
        k = int(2 ** rng.integers(1, 8))
        assert np.allclose(np.sort(ns[f"{mode}_init"](w, k)), init_centroids(w, k, mode))


def hidden_linear_init(ns):
    _same_as_the_library_init(ns, "linear", 12)


def hidden_density_init(ns):
    _same_as_the_library_init(ns, "density", 13)


def hidden_huffman_lengths(ns):
    rng = np.random.default_rng(12)
    for _ in range(10):
        counts = {int(s): int(c) for s, c in enumerate(rng.integers(1, 1000, rng.integers(2, 40)))}
        lengths = ns["huffman_lengths"](counts)
        symbols = np.repeat(list(counts), list(counts.values()))
        assert sum(counts[s] * lengths[s] for s in counts) == coded_bits(symbols, huffman_code(symbols))
        assert sum(2.0 ** -lengths[s] for s in counts) <= 1 + 1e-12  # a prefix code exists
