"""Checks for chapter 8, the capstone."""

import numpy as np

from structlab.approx.svd import allocate_ranks
from structlab.exercises import register

CHAPTER = "08_capstone"


def _front(sizes, scores):
    """Indices of the points no other point beats: smaller or equal size, higher or equal score,
    one of them strictly."""
    return sorted(i for i in range(len(sizes))
                  if not any(sizes[j] <= sizes[i] and scores[j] >= scores[i]
                             and (sizes[j] < sizes[i] or scores[j] > scores[i])
                             for j in range(len(sizes))))


@register("pareto_front", CHAPTER, points=2)
def _pareto_front(func):
    rng = np.random.default_rng(81)
    cases = [([1, 2, 3], [0.5, 0.7, 0.9]), ([1, 2, 3], [0.9, 0.7, 0.5]),
             ([4, 4, 2, 8], [0.6, 0.8, 0.6, 0.8]), ([3, 3], [0.5, 0.5])]
    cases += [(list(rng.integers(1, 20, 12)), list(np.round(rng.random(12), 1))) for _ in range(3)]
    for sizes, scores in cases:
        expected = _front(sizes, scores)
        got = sorted(int(i) for i in func(np.array(sizes), np.array(scores)))
        assert got == expected, (
            f"sizes {sizes}, scores {scores}: you kept {got}, the front is {expected}. A point is "
            "dominated when another is no larger and scores no lower, and better in one of the two "
            "(equal points dominate neither)")
    return f"right on {len(cases)} sets of points, ties included"


@register("best_under", CHAPTER, points=1)
def _best_under(func):
    rows = [{"method": "lowrank", "bytes": 500, "us": 7.0, "score": 0.80},
            {"method": "sss", "bytes": 500, "us": 13.0, "score": 0.70},
            {"method": "pruning", "bytes": 1500, "us": 75.0, "score": 0.95},
            {"method": "codebook", "bytes": 700, "us": 85.0, "score": 0.99},
            {"method": "dense", "bytes": 5000, "us": 60.0, "score": 1.00}]
    cases = [(1000, 100.0, "codebook"), (1000, 50.0, "lowrank"), (600, 10.0, "lowrank"),
             (10_000, 80.0, "dense"), (400, 100.0, None), (1500, 75.0, "pruning")]
    for max_bytes, max_us, expected in cases:
        got = func(rows, max_bytes, max_us)
        name = None if got is None else got["method"]
        assert name == expected, (
            f"at most {max_bytes} bytes and {max_us} µs: you chose {name}, expected {expected}. "
            "Keep the rows within both limits (limits included) and take the highest score; "
            "None when nothing fits")
    return f"right on {len(cases)} pairs of limits"


def _allocation_cases():
    """(spectra, costs, nparams) cases: scales, costs and skips that the greedy rule must handle."""
    rng = np.random.default_rng(82)
    cases = [
        ([[3.0, 1.0], [2.0, 2.0]], [1, 1], 3),  # the docstring's
        ([[100.0, 50.0, 10.0], [1.0, 0.9, 0.8]], [2, 2], 6),  # energies are shares per layer
        ([[4.0, 3.0], [4.0, 3.0]], [5, 2], 7),  # same spectra, different costs
        ([[3.0, 2.0, 2.0], [1.0]], [2, 5], 6),  # layer 1's unit no longer fits: skip it
        ([[2.0, 1.0], [1.0]], [3, 4], 0),  # no budget
        ([[2.0, 1.0], [1.0]], [3, 4], 100),  # more than enough: every unit
    ]
    for _ in range(4):
        spectra = [np.sort(rng.random(int(rng.integers(1, 12))) * rng.uniform(0.01, 100))[::-1]
                   for _ in range(int(rng.integers(2, 5)))]
        costs = [int(c) for c in rng.integers(1, 30, len(spectra))]
        cases.append((spectra, costs, int(rng.integers(0, sum(costs) * 6))))
    return cases


@register("allocate_ranks", CHAPTER, points=2)
def _allocate_ranks(func):
    for spectra, costs, nparams in _allocation_cases():
        expected = allocate_ranks(spectra, costs, nparams)
        got = [int(r) for r in func([np.array(s, dtype=float) for s in spectra], list(costs),
                                    nparams)]
        shown = [np.round(s, 2).tolist() for s in spectra] if len(spectra[0]) < 5 else (
            f"{len(spectra)} random spectra")
        assert got == expected, (
            f"spectra {shown}, costs {costs}, nparams {nparams}: you gave ranks {got}, the "
            f"greedy rule gives {expected}. Rank each unit by its share of its own layer's "
            "energy (s**2 / sum(s**2)) per number; take the best first, lower layer on ties, "
            "and skip a unit that does not fit but keep looking at the others")
    return f"right on {len(_allocation_cases())} budgets, including skips and different scales"
