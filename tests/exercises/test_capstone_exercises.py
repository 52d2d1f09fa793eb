"""Hidden tests for chapter 8, run on the solution (pass) and the student edition (fail)."""

import numpy as np
import pytest

from .conftest import edition_params
from .test_svd_wine import _expect


@pytest.mark.parametrize("namespace", edition_params("08_capstone.py"), indirect=True)
def test_capstone_exercises(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(18)
        sizes, scores = rng.integers(1, 9, 30), np.round(rng.random(30), 1)
        front = set(ns["pareto_front"](sizes, scores))
        for i in range(30):  # a point is on the front exactly when nothing dominates it
            beaten = any(sizes[j] <= sizes[i] and scores[j] >= scores[i]
                         and (sizes[j], scores[j]) != (sizes[i], scores[i]) for j in range(30))
            assert (i in front) == (not beaten)
        rows = [{"bytes": int(b), "us": float(u), "score": float(s)}
                for b, u, s in zip(sizes, rng.random(30) * 10, scores)]
        best = ns["best_under"](rows, 5, 5.0)
        fits = [r for r in rows if r["bytes"] <= 5 and r["us"] <= 5.0]
        assert best["score"] == max(r["score"] for r in fits) and best in fits
        assert ns["best_under"](rows, 0, 5.0) is None
        a, b = rng.standard_normal((40, 6)), rng.standard_normal((40, 6))
        assert ns["agreement"](a, b) == np.mean(a.argmax(1) == b.argmax(1))
        assert ns["agreement"](a, a) == 1.0

    _expect(solved, test)
