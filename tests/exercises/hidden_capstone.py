"""Hidden tests for chapter 8: random fronts with ties, limits, rank budgets; the design
task's rules on the test split too."""

import numpy as np

from structlab.exercises.capstone import check_capstone_design


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


def _greedy(spectra, costs, nparams):
    """The greedy rule step by step: the best next unit among the layers that still fit."""
    shares = [np.asarray(s, float) ** 2 / np.sum(np.asarray(s, float) ** 2) for s in spectra]
    ranks, left = [0] * len(spectra), nparams
    while True:
        options = [(-shares[l][ranks[l]] / costs[l], l) for l in range(len(spectra))
                   if ranks[l] < len(shares[l]) and costs[l] <= left]
        if not options:
            return ranks
        l = min(options)[1]
        ranks[l], left = ranks[l] + 1, left - costs[l]


def hidden_allocate_ranks(ns):
    rng = np.random.default_rng(20)
    for _ in range(10):
        spectra = [np.sort(rng.random(int(rng.integers(1, 40))) * rng.uniform(1e-3, 1e3))[::-1]
                   for _ in range(int(rng.integers(1, 6)))]
        costs = [int(c) for c in rng.integers(1, 50, len(spectra))]
        nparams = int(rng.integers(0, sum(c * len(s) for c, s in zip(costs, spectra)) + 10))
        got = [int(r) for r in ns["allocate_ranks"](spectra, costs, nparams)]
        assert got == _greedy(spectra, costs, nparams), (spectra, costs, nparams)


def hidden_capstone_design(ns):
    check_capstone_design(ns["capstone_design"], splits=("val", "test"))
