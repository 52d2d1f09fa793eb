"""Checks for chapter 3, trained quantization and Huffman coding."""

import numpy as np

from structlab.approx.huffman import coded_bits, huffman_code
from structlab.approx.kmeans import init_centroids
from structlab.exercises import register

CHAPTER = "03_quantization"


def _bimodal(seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-0.08, 0.02, 500), rng.normal(0.08, 0.02, 500),
                           rng.normal(0, 0.3, 10)])


def _check_init(func, mode):
    for seed, k in [(0, 2), (1, 8), (2, 32)]:
        w = _bimodal(seed)
        got = np.sort(np.asarray(func(w, k), dtype=float))
        assert got.shape == (k,), f"expected {k} centroids, got an array of shape {got.shape}"
        expected = init_centroids(w, k, mode)
        assert np.allclose(got, expected, rtol=1e-9, atol=1e-12), (
            f"k={k}: centroids differ from the {mode} init by up to "
            f"{np.abs(got - expected).max():.3g}")
    return f"matches the {mode} init for k = 2, 8, 32"


@register("linear_init", CHAPTER, points=1)
def _linear_init(func):
    return _check_init(func, "linear")


@register("density_init", CHAPTER, points=1)
def _density_init(func):
    return _check_init(func, "density")


@register("huffman_lengths", CHAPTER, points=3)
def _huffman_lengths(func):
    rng = np.random.default_rng(3)
    cases = [{"a": 8, "b": 4, "c": 2, "d": 2}, {"x": 5, "y": 2, "z": 1, "w": 1, "v": 1},
             {s: int(c) for s, c in enumerate(rng.integers(1, 500, size=20))}]
    for counts in cases:
        got = func(dict(counts))
        assert set(got) == set(counts), f"give one length per symbol: {sorted(counts)}"
        kraft = sum(2.0 ** -int(length) for length in got.values())
        assert kraft <= 1 + 1e-12, (
            f"lengths {got} break the Kraft inequality (sum 2^-l = {kraft:.3f} > 1): "
            "no prefix code has them")
        symbols = [s for s, c in counts.items() for _ in range(c)]
        optimum = coded_bits(symbols, huffman_code(symbols))
        total = sum(counts[s] * got[s] for s in counts)
        assert total == optimum, (
            f"these lengths code the stream in {total} bits, the optimum is {optimum}")
    return "optimal code lengths on 3 distributions"
