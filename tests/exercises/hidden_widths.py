"""Hidden tests for chapter 6: random low-rank pairs, wide layers, random spectra."""

import numpy as np

from structlab.approx.widths import energy_width as library_energy_width
from structlab.exercises.widths import check_width_policy


def hidden_shrink_pair(ns):
    rng = np.random.default_rng(15)
    for _ in range(8):
        m, n, out = (int(v) for v in rng.integers(3, 20, size=3))
        rank = int(rng.integers(1, min(m, n) + 1))
        W1 = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))
        W2 = rng.standard_normal((out, m))
        new_W1, new_W2 = (np.asarray(a) for a in ns["shrink_pair"](W1, W2, rank))
        assert new_W1.shape == (rank, n) and new_W2.shape == (out, rank)
        # units are kept, not mixed: every kept row is a row of W1 (an SVD answer is not)
        assert all(np.isclose(W1, row).all(axis=1).any() for row in new_W1)
        assert np.allclose(new_W2 @ new_W1, W2 @ W1)


def hidden_orthogonal_direction(ns):
    rng = np.random.default_rng(16)
    for _ in range(8):
        m = int(rng.integers(1, 20))
        wide = rng.standard_normal((m, m + int(rng.integers(1, 5))))
        v = np.asarray(ns["orthogonal_direction"](wide), dtype=float)
        assert v.shape == (wide.shape[1],)
        assert np.isclose(np.linalg.norm(v), 1) and np.abs(wide @ v).max() < 1e-9


def hidden_energy_width(ns):
    rng = np.random.default_rng(17)
    for _ in range(20):
        s = np.sort(rng.random(int(rng.integers(1, 12))))[::-1]
        keep = float(rng.uniform(0.3, 1.0))
        assert ns["energy_width"](s, keep) == library_energy_width(np.diag(s), keep=keep)


def hidden_width_policy(ns):
    # the visible rules again, and on the test split, which the visible check never reads
    check_width_policy(ns["width_policy"], splits=("val", "test"))
