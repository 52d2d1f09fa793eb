"""Hidden tests for chapter 3: heavy-tailed weights, empty clusters, ties, random symbol counts."""

import numpy as np

from structlab.approx.huffman import coded_bits, huffman_code
from structlab.exercises.pruning import check_budget
from structlab.exercises.quantization import COMPRESS_SHARE, nearest_step


def hidden_kmeans_step(ns):
    rng = np.random.default_rng(12)
    for _ in range(10):
        w = rng.standard_normal(rng.integers(50, 2000)) ** 3
        k = int(rng.integers(2, 40))
        start = np.sort(rng.uniform(w.min() - 1, w.max() + 1, k))  # some clusters stay empty
        fixed = [a.copy() for a in (w, start)]
        for a in fixed:
            a.setflags(write=False)  # k-means hands the step arrays it must not edit
        centroids, labels = ns["kmeans_step"](*fixed)
        expected, expected_labels = nearest_step(w, start)
        assert np.asarray(labels).dtype.kind in "iu"  # indices, not floats
        assert np.array_equal(np.asarray(labels), expected_labels)
        assert np.allclose(np.asarray(centroids, dtype=float), expected, rtol=1e-12, atol=1e-15)
    grid = np.arange(0.0, 10.0)  # every other value on a tie
    labels = ns["kmeans_step"](grid, np.arange(0.0, 12.0, 2.0))[1]
    assert np.array_equal(np.asarray(labels), nearest_step(grid, np.arange(0.0, 12.0, 2.0))[1])


def hidden_centroid_gradients(ns):
    rng = np.random.default_rng(13)
    for _ in range(10):
        k = int(rng.integers(1, 300))
        labels = rng.integers(0, max(1, k // 2), rng.integers(1, 5000))  # the top half empty
        grad = rng.standard_normal(len(labels)) * 10.0 ** rng.integers(-8, 3)
        got = np.asarray(ns["centroid_gradients"](grad.copy(), labels.copy(), k), dtype=float)
        assert np.allclose(got, np.bincount(labels, weights=grad, minlength=k),
                           rtol=1e-10, atol=1e-300)


def hidden_huffman_lengths(ns):
    rng = np.random.default_rng(12)
    for _ in range(10):
        counts = {int(s): int(c) for s, c in enumerate(rng.integers(1, 1000, rng.integers(2, 40)))}
        lengths = ns["huffman_lengths"](counts)
        symbols = np.repeat(list(counts), list(counts.values()))
        assert sum(counts[s] * lengths[s] for s in counts) == coded_bits(symbols, huffman_code(symbols))
        assert sum(2.0 ** -lengths[s] for s in counts) <= 1 + 1e-12  # a prefix code exists


def hidden_compress_to_budget(ns):
    # the visible rules again, and on the test split, which the visible check never reads
    check_budget(ns["compress_to_budget"], COMPRESS_SHARE, splits=("val", "test"))
