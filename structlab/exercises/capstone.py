"""Checks for chapter 8, the capstone."""

import numpy as np

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


@register("agreement", CHAPTER, points=1)
def _agreement(func):
    rng = np.random.default_rng(82)
    for n, k in [(50, 10), (7, 3), (200, 1000)]:
        a = rng.standard_normal((n, k))
        b = a + rng.standard_normal((n, k)) * 0.5
        expected = float(np.mean(a.argmax(axis=1) == b.argmax(axis=1)))
        got = float(func(a, b))
        assert abs(got - expected) < 1e-12, (
            f"{n} inputs, {k} classes: you said {got:.4f}, expected {expected:.4f}: the share of "
            "rows whose largest logit is in the same column")
    return "right on 3 pairs of logits"
