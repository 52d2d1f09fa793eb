import numpy as np
import pytest

from structlab.approx.kmeans import INIT_MODES, init_centroids, kmeans_1d, lloyd_step


@pytest.fixture
def bimodal(rng):
    """Surviving weights of a pruned layer: two peaks, a few large values."""
    return np.concatenate([rng.normal(-0.08, 0.02, 3000), rng.normal(0.08, 0.02, 3000),
                           rng.normal(0, 0.4, 60)])


@pytest.mark.parametrize("mode", INIT_MODES)
@pytest.mark.parametrize("bits", [1, 2, 3, 5, 8])
def test_every_init_gives_exactly_2_to_the_bits_clusters(bimodal, mode, bits):
    k = 2**bits
    start = init_centroids(bimodal, k, mode)
    assert len(np.unique(start)) == k
    centroids, labels = kmeans_1d(bimodal, start)
    assert len(centroids) == k and np.all(np.diff(centroids) > 0)
    assert np.array_equal(np.unique(labels), np.arange(k))
    # a Lloyd fixed point: each centroid is the mean of its members, each value its nearest
    # (1-D Lloyd converges slowly: within 0.1 % of the weights' spread is a fixed point here)
    np.testing.assert_allclose(centroids, [bimodal[labels == j].mean() for j in range(k)],
                               atol=1e-3 * np.ptp(bimodal))
    assert np.all(np.abs(bimodal - centroids[labels]) <=
                  np.abs(bimodal[:, None] - centroids[None, :]).min(axis=1) + 1e-15)


def test_init_modes_place_centroids_as_documented(bimodal):
    np.testing.assert_allclose(init_centroids(bimodal, 5, "linear"),
                               np.linspace(bimodal.min(), bimodal.max(), 5))
    np.testing.assert_allclose(init_centroids(bimodal, 4, "density"),
                               np.quantile(bimodal, [0.125, 0.375, 0.625, 0.875]))
    forgy = init_centroids(bimodal, 8, "forgy", seed=3)
    assert np.all(np.isin(forgy, bimodal))
    np.testing.assert_array_equal(forgy, init_centroids(bimodal, 8, "forgy", seed=3))


def test_linear_init_keeps_large_weights_better(bimodal):
    """The paper's reason for the linear init: the rare large weights get centroids."""
    large = np.abs(bimodal) > 0.3
    errors = {}
    for mode in INIT_MODES:
        centroids, labels = kmeans_1d(bimodal, init_centroids(bimodal, 8, mode))
        errors[mode] = np.abs(bimodal - centroids[labels])[large].mean()
    assert errors["linear"] < errors["density"] and errors["linear"] < errors["forgy"]


def test_empty_clusters_are_refilled():
    w = np.repeat([0.0, 1.0, 2.0, 3.0], [100, 1, 1, 100])
    for mode in INIT_MODES:
        centroids, labels = kmeans_1d(w, init_centroids(w, 4, mode))
        np.testing.assert_allclose(centroids, [0, 1, 2, 3])
    # a start with two centroids in the same place still ends with four clusters
    centroids, labels = kmeans_1d(w, [0.0, 0.0, 0.0, 3.0])
    assert len(np.unique(labels)) == 4


def test_bad_inputs(bimodal):
    with pytest.raises(ValueError, match="cannot make 4 clusters from 3 distinct values"):
        init_centroids([1.0, 2.0, 3.0, 3.0], 4)
    with pytest.raises(ValueError, match="mode must be one of"):
        init_centroids(bimodal, 4, "random")
    with pytest.raises(ValueError, match="k must be at least 1"):
        init_centroids(bimodal, 0)
    with pytest.raises(ValueError, match="w is empty"):
        init_centroids([], 2)


def test_kmeans_runs_a_given_step_and_checks_what_it_returns():
    w = np.array([0.0, 0.2, 0.9, 1.0, 3.0])
    calls = []

    def counted(w, centroids):
        calls.append(1)
        return lloyd_step(w, centroids)

    assert np.allclose(kmeans_1d(w, [0.0, 0.5, 2.0], step=counted)[0], [0.1, 0.95, 3.0])
    assert calls
    with pytest.raises(ValueError, match=r"the step's labels must be 5 integers in \[0, 3\)"):
        kmeans_1d(w, [0.0, 0.5, 2.0], step=lambda w, c: (c, np.full(len(w), 3)))
    with pytest.raises(ValueError, match="the step's centroids must have shape"):
        kmeans_1d(w, [0.0, 0.5, 2.0], step=lambda w, c: (c[:2], np.zeros(len(w), int)))
