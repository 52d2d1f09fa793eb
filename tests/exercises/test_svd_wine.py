"""Hidden tests for chapter 1: more cases than the visible checks, random shapes included.

Each test runs on the solution (must pass) and on the stubbed student edition
(must fail), so no test here can pass on an unsolved exercise.
"""

import numpy as np
import pytest

from structlab.approx.svd import absorb_bias
from structlab.exercises import check

from .conftest import edition_params

CHAPTER = "01_svd_wine_mlp.py"
pytestmark = pytest.mark.parametrize("namespace", edition_params(CHAPTER), indirect=True)


def _expect(solved, test):
    """Run ``test``; it must pass on a solution and fail on the stub."""
    if solved is False:
        with pytest.raises((AssertionError, NotImplementedError)):
            test()
    else:
        test()


def test_rank_r_params(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(7)
        for n_in, n_out, rank in rng.integers(1, 500, size=(20, 3)):
            assert ns["rank_r_params"](n_in, n_out, rank) == rank * (n_in + n_out + 1)

    _expect(solved, test)


def test_compress_layer(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(8)
        for _ in range(10):
            n_out, n_in = rng.integers(2, 40, size=2)
            rank = int(rng.integers(1, min(n_out, n_in + 1) + 1))
            W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
            V, c, U = ns["compress_layer"](W, b, rank)
            s = np.linalg.svd(absorb_bias(W, b), compute_uv=False)
            err = np.linalg.norm(absorb_bias(W, b) - U @ np.column_stack([V, c]))
            assert np.isclose(err, np.sqrt(np.sum(s[rank:] ** 2)), rtol=1e-8, atol=1e-10)
            x = rng.standard_normal(n_in)
            assert (U @ (V @ x + c)).shape == (n_out,)

    _expect(solved, test)


def test_smallest_rank(namespace):
    ns, solved = namespace

    def test():
        rng = np.random.default_rng(9)
        for _ in range(50):
            ranks = rng.permutation(np.arange(1, 12))
            accuracies = {int(r): float(a) for r, a in zip(ranks, rng.uniform(0.5, 1, 11))}
            baseline, tolerance = rng.uniform(0.8, 1.0), rng.choice([0.0, 0.01, 0.05])
            good = [r for r, a in accuracies.items() if a >= baseline - tolerance]
            assert ns["smallest_rank"](accuracies, baseline, tolerance) == (min(good) if good else None)

    _expect(solved, test)


def test_visible_checks_agree(namespace, capsys):
    ns, solved = namespace
    results = [bool(check(name, ns[name])) for name in ("rank_r_params", "compress_layer", "smallest_rank")]
    if solved is not None:
        assert results == [solved] * 3
