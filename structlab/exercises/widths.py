"""Checks for chapter 6, layer widths that shrink and grow."""

import numpy as np

from structlab.approx.widths import energy_width
from structlab.exercises import register

CHAPTER = "06_evolving_widths"


def _low_rank(rng, m, n, rank):
    return rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))


@register("shrink_pair", CHAPTER, points=3)
def _shrink_pair(func):
    rng = np.random.default_rng(41)
    for m, n, out, rank in [(8, 5, 3, 2), (12, 9, 4, 5), (6, 10, 2, 6)]:
        W1, W2 = _low_rank(rng, m, n, rank), rng.standard_normal((out, m))
        new_W1, new_W2 = (np.asarray(a) for a in func(W1, W2, rank))
        assert new_W1.shape == (rank, n) and new_W2.shape == (out, rank), (
            f"shrinking {m} units to {rank}: W1 must become {rank}x{n} and W2 {out}x{rank}, got "
            f"{new_W1.shape} and {new_W2.shape}")
        assert all(any(np.allclose(row, r) for r in W1) for row in new_W1), (
            "the kept rows of W1 must be rows of W1 (units are kept, not mixed)")
        assert np.allclose(new_W2 @ new_W1, W2 @ W1), (
            f"{m} -> {rank} units of a rank-{rank} layer: W2 @ W1 changed. Keep rows that span the "
            "row space (pivoted QR of W1.T) and fold the dropped ones into W2: "
            "W2[:, kept] + W2[:, dropped] @ T with W1[dropped] = T @ W1[kept]")
    return "exact on 3 rank-deficient pairs"


@register("orthogonal_direction", CHAPTER, points=2)
def _orthogonal_direction(func):
    rng = np.random.default_rng(42)
    for m, n in [(3, 5), (1, 4), (6, 7), (4, 12)]:
        W1 = rng.standard_normal((m, n))
        v = np.asarray(func(W1), dtype=float)
        assert v.shape == (n,), f"the direction must be a vector of length {n}, got {v.shape}"
        assert abs(np.linalg.norm(v) - 1) < 1e-9, f"it must have unit norm, got {np.linalg.norm(v):.4g}"
        assert np.abs(W1 @ v).max() < 1e-9, (
            f"W1 @ v must be zero (orthogonal to every row); largest entry "
            f"{np.abs(W1 @ v).max():.3g}. Remove the row space from a random vector")
    return "unit and orthogonal to the rows on 4 layers"


@register("energy_width", CHAPTER, points=1)
def _energy_width(func):
    cases = [([4.0, 2.0, 1.0, 0.5], 0.5), ([4.0, 2.0, 1.0, 0.5], 0.9), ([4.0, 2.0, 1.0, 0.5], 0.99),
             ([3.0, 3.0, 3.0], 0.7), ([10.0, 1.0, 0.1], 0.99), ([5.0], 1.0)]
    for s, keep in cases:
        expected = energy_width(np.diag(s), keep=keep)
        got = func(np.array(s), keep)
        assert got == expected, (
            f"singular values {s}, keep {keep}: you said {got}, expected {expected}. Energy is "
            "the sum of squared singular values; take the fewest leading ones reaching the share")
    return f"right on {len(cases)} spectra"
