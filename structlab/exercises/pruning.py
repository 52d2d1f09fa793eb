"""Checks for chapter 2, pruning."""

import numpy as np

from structlab.approx.pruning import magnitude_mask
from structlab.exercises import register
from structlab.structures.sparse import relative_indices

CHAPTER = "02_pruning"


def _weights(seed, shape=(40, 30)):
    return np.random.default_rng(seed).standard_normal(shape) * 0.05


@register("std_mask", CHAPTER, points=1)
def _std_mask(func):
    for seed, quality in [(0, 0.5), (1, 1.0), (2, 1.7)]:
        w = _weights(seed)
        got = np.asarray(func(w, quality))
        assert got.shape == w.shape and got.dtype == bool, (
            f"std_mask must return a boolean array of the weights' shape {w.shape}, "
            f"got {got.dtype} {got.shape}")
        expected = magnitude_mask(w, quality=quality)
        assert np.array_equal(got, expected), (
            f"quality {quality}: {int((got != expected).sum())} of {w.size} weights differ; "
            "keep |w| > quality * std(w)")
    return "keeps |w| > quality x std on 3 layers"


@register("sparsity_mask", CHAPTER, points=2)
def _sparsity_mask(func):
    for seed, sparsity in [(3, 0.0), (4, 0.5), (5, 0.92), (6, 0.999)]:
        w = _weights(seed)
        got = np.asarray(func(w, sparsity))
        assert got.shape == w.shape and got.dtype == bool, (
            f"sparsity_mask must return a boolean array of shape {w.shape}")
        dropped = int((~got).sum())
        assert dropped == round(sparsity * w.size), (
            f"sparsity {sparsity}: you dropped {dropped} weights, expected "
            f"{round(sparsity * w.size)} of {w.size}")
        if got.any() and (~got).any():
            assert np.abs(w[got]).min() >= np.abs(w[~got]).max(), (
                f"sparsity {sparsity}: a dropped weight is larger than a kept one")
    return "drops exactly the smallest fraction on 4 layers"


@register("count_fillers", CHAPTER, points=2)
def _count_fillers(func):
    rng = np.random.default_rng(7)
    cases = [([0, 1, 9], 2), ([5], 2), ([40], 3), ([0, 8, 16], 3), ([0, 9], 3)]
    cases += [(np.flatnonzero(rng.random(2000) < p).tolist(), b) for p, b in [(0.1, 3), (0.02, 5)]]
    for positions, index_bits in cases:
        expected = int(relative_indices(positions, index_bits)[1].sum())
        got = func(list(positions), index_bits)
        shown = positions if len(positions) < 6 else f"{len(positions)} positions"
        assert got == expected, (
            f"count_fillers({shown}, index_bits={index_bits}) returned {got}, expected "
            f"{expected}: a gap d (from position -1 at the start) fits if d <= 2**index_bits")
    return f"right on {len(cases)} layouts, including gaps of exactly 2**index_bits"
