"""Hidden tests for chapter 8: random fronts with ties, budgets, logits."""

import numpy as np


def hidden_pareto_front(ns):
    rng = np.random.default_rng(18)
    for _ in range(5):
        sizes, scores = rng.integers(1, 9, 30), np.round(rng.random(30), 1)
        front = set(ns["pareto_front"](sizes, scores))
        for i in range(30):  # a point is on the front exactly when nothing dominates it
            beaten = any(sizes[j] <= sizes[i] and scores[j] >= scores[i]
                         and (sizes[j], scores[j]) != (sizes[i], scores[i]) for j in range(30))
            assert (i in front) == (not beaten)


def hidden_best_under(ns):
    rng = np.random.default_rng(19)
    for _ in range(5):
        rows = [{"bytes": int(b), "us": float(u), "score": float(s)}
                for b, u, s in zip(rng.integers(1, 9, 30), rng.random(30) * 10,
                                   np.round(rng.random(30), 2))]
        best = ns["best_under"](rows, 5, 5.0)
        fits = [r for r in rows if r["bytes"] <= 5 and r["us"] <= 5.0]
        assert best in fits and best["score"] == max(r["score"] for r in fits)
        assert ns["best_under"](rows, 0, 5.0) is None


def hidden_agreement(ns):
    rng = np.random.default_rng(20)
    for _ in range(5):
        a, b = rng.standard_normal((40, 6)), rng.standard_normal((40, 6))
        assert ns["agreement"](a, b) == np.mean(a.argmax(1) == b.argmax(1))
        assert ns["agreement"](a, a) == 1.0
