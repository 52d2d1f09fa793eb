"""Hidden tests for chapter 2: random shapes, qualities, sparsities and layouts; other
optimizers for the masked step."""

import numpy as np

from structlab.approx.pruning import magnitude_mask
from structlab.exercises.pruning import BUDGET_SHARE, check_budget, check_masked_step
from structlab.encoding import relative_indices


def hidden_std_mask(ns):
    rng = np.random.default_rng(11)
    for _ in range(10):
        w = rng.standard_normal(tuple(rng.integers(1, 60, size=2)))
        quality = rng.uniform(0, 2.5)
        got = np.asarray(ns["std_mask"](w, quality))
        assert got.dtype == bool and np.array_equal(got, magnitude_mask(w, quality=quality))


def hidden_sparsity_mask(ns):
    rng = np.random.default_rng(11)
    for _ in range(10):
        w = rng.standard_normal(tuple(rng.integers(1, 60, size=2)))
        sparsity = rng.uniform(0, 0.99)
        keep = np.asarray(ns["sparsity_mask"](w, sparsity))
        assert keep.dtype == bool and keep.shape == w.shape
        assert (~keep).sum() == round(sparsity * w.size)
        if keep.any() and (~keep).any():  # the dropped weights are the smallest ones
            assert np.abs(w[keep]).min() >= np.abs(w[~keep]).max()


def hidden_masked_step(ns):
    # other optimizers, with state of their own, and other networks' seeds
    check_masked_step(ns["masked_step"], [(5, "AdamW", {"lr": 3e-3, "weight_decay": 0.1}),
                                          (6, "RMSprop", {"lr": 1e-3, "momentum": 0.5}),
                                          (7, "Adam", {"lr": 1e-3, "weight_decay": 1e-2})])


def hidden_count_fillers(ns):
    rng = np.random.default_rng(11)
    for _ in range(10):
        positions = np.flatnonzero(rng.random(rng.integers(1, 3000)) < rng.uniform(0.005, 0.5))
        bits = int(rng.integers(1, 9))
        expected = int(relative_indices(positions, bits)[1].sum())
        assert ns["count_fillers"](positions.tolist(), bits) == expected


def hidden_prune_to_budget(ns):
    # the visible rules again, and on the test split, which the visible check never reads
    check_budget(ns["prune_to_budget"], BUDGET_SHARE, splits=("val", "test"))
