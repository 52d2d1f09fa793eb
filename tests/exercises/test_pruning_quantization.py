"""Hidden tests for chapters 2 and 3, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest

from structlab.approx.huffman import coded_bits, huffman_code
from structlab.approx.kmeans import init_centroids
from structlab.approx.pruning import magnitude_mask
from structlab.structures.sparse import relative_indices

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("02_pruning.py"), indirect=True)
def test_pruning_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(11)
        for _ in range(10):
            w = rng.standard_normal(tuple(rng.integers(1, 60, size=2)))
            quality, sparsity = rng.uniform(0, 2.5), rng.uniform(0, 0.99)
            assert np.array_equal(ns["std_mask"](w, quality), magnitude_mask(w, quality=quality))
            keep = ns["sparsity_mask"](w, sparsity)
            assert (~keep).sum() == round(sparsity * w.size)
            positions = np.flatnonzero(rng.random(rng.integers(1, 3000)) < rng.uniform(0.005, 0.5))
            bits = int(rng.integers(1, 9))
            expected = int(relative_indices(positions, bits)[1].sum())
            assert ns["count_fillers"](positions.tolist(), bits) == expected

    _expect(solved, test)


@pytest.mark.parametrize("namespace", edition_params("03_quantization.py"), indirect=True)
def test_quantization_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(12)
        for _ in range(10):
            w = rng.standard_normal(rng.integers(300, 2000)) ** 3
            k = int(2 ** rng.integers(1, 8))
            assert np.allclose(np.sort(ns["linear_init"](w, k)), init_centroids(w, k, "linear"))
            assert np.allclose(np.sort(ns["density_init"](w, k)), init_centroids(w, k, "density"))
            counts = {int(s): int(c) for s, c in enumerate(rng.integers(1, 1000, rng.integers(2, 40)))}
            lengths = ns["huffman_lengths"](counts)
            symbols = np.repeat(list(counts), list(counts.values()))
            assert sum(counts[s] * lengths[s] for s in counts) == coded_bits(symbols, huffman_code(symbols))
            assert sum(2.0 ** -lengths[s] for s in counts) <= 1 + 1e-12

    _expect(solved, test)
