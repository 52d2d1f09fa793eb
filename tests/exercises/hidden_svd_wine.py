"""Hidden tests for chapter 1: more cases than the visible checks, random shapes included."""

import numpy as np

from structlab.approx.svd import absorb_bias
from structlab.exercises.svd_wine import SMALL_WINE_LOSS, SMALL_WINE_NUMBERS, small_wine_outcome


def hidden_rank_r_params(ns):
    rng = np.random.default_rng(7)
    for n_in, n_out, rank in rng.integers(1, 500, size=(20, 3)):
        assert ns["rank_r_params"](n_in, n_out, rank) == rank * (n_in + n_out + 1)


def hidden_compress_layer(ns):
    rng = np.random.default_rng(8)
    for _ in range(10):
        n_out, n_in = rng.integers(2, 40, size=2)
        rank = int(rng.integers(1, min(n_out, n_in + 1) + 1))
        W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
        V, c, U = ns["compress_layer"](W, b, rank)
        assert np.shape(V) == (rank, n_in) and np.shape(c) == (rank,) and np.shape(U) == (n_out, rank)
        s = np.linalg.svd(absorb_bias(W, b), compute_uv=False)
        err = np.linalg.norm(absorb_bias(W, b) - U @ np.column_stack([V, c]))
        assert np.isclose(err, np.sqrt(np.sum(s[rank:] ** 2)), rtol=1e-8, atol=1e-10)


def hidden_smallest_rank(ns):
    # ties: an accuracy exactly at baseline - tolerance is good enough
    assert ns["smallest_rank"]({3: 0.5, 1: 0.25, 2: 0.75}, 1.0, 0.25) == 2
    assert ns["smallest_rank"]({2: 40 / 54, 1: 39 / 54}, 40 / 54, 0.0) == 2
    rng = np.random.default_rng(9)
    for _ in range(50):
        ranks = rng.permutation(np.arange(1, 12))
        accuracies = {int(r): float(a) for r, a in zip(ranks, rng.uniform(0.5, 1, 11))}
        baseline, tolerance = rng.uniform(0.8, 1.0), rng.choice([0.0, 0.01, 0.05])
        good = [r for r, a in accuracies.items() if a >= baseline - tolerance]
        assert ns["smallest_rank"](accuracies, baseline, tolerance) == (min(good) if good else None)


def hidden_small_wine_network(ns):
    # the recipe must carry over to splits the visible check never used
    for split in (0, 2, 3, 5, 6, 7, 8):
        numbers, acc, dense = small_wine_outcome(ns["small_wine_network"], split)
        assert numbers <= SMALL_WINE_NUMBERS and acc >= dense - SMALL_WINE_LOSS - 1e-12, split
