"""Checks for chapter 1, SVD of the wine MLP."""

import numpy as np

from structlab.approx.svd import absorb_bias, truncated_svd
from structlab.exercises import check_setup, register

CHAPTER = "01_svd_wine_mlp"


@register("rank_r_params", CHAPTER, points=1)
def _rank_r_params(func):
    # (n_in, n_out, rank) -> weights of x -> U (V x + c): r (n_in + 1) + n_out r
    cases = {(13, 10, 2): 48, (13, 10, 10): 240, (784, 300, 20): 21700, (1280, 1000, 1): 2281}
    for (n_in, n_out, rank), expected in cases.items():
        got = func(n_in, n_out, rank)
        assert got == expected, (
            f"rank_r_params({n_in}, {n_out}, {rank}) returned {got}, expected {expected}; "
            "count V (rank x n_in), the bias c (rank) and U (n_out x rank)")
    return f"right for {len(cases)} layer shapes, including the seed's 48 weights"


@register("compress_layer", CHAPTER, points=2)
def _compress_layer(func):
    rng = np.random.default_rng(1)
    for n_out, n_in, rank in [(10, 13, 2), (6, 4, 3), (20, 30, 1)]:
        W, b = rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out)
        V, c, U = (np.asarray(a, dtype=float) for a in func(W, b, rank))
        shapes = (V.shape, c.shape, U.shape)
        assert shapes == ((rank, n_in), (rank,), (n_out, rank)), (
            f"for W {W.shape} and rank {rank}, expected V {(rank, n_in)}, c {(rank,)} and "
            f"U {(n_out, rank)}, got {shapes}")
        Uo, s, Vto = truncated_svd(absorb_bias(W, b), rank)
        best = np.linalg.norm(absorb_bias(W, b) - (Uo * s) @ Vto)
        got = np.linalg.norm(absorb_bias(W, b) - U @ np.column_stack([V, c]))
        assert got <= best * (1 + 1e-8) + 1e-10, (
            f"U [V | c] is {got:.4g} away from [W | b] (Frobenius), the best rank-{rank} "
            f"matrix is {best:.4g} away: did you include the bias in the SVD?")
    return "U (V x + c) is the best rank-r layer for 3 random layers"


@register("smallest_rank", CHAPTER, points=1)
def _smallest_rank(func):
    cases = [
        (({1: 0.70, 2: 0.96, 3: 0.98, 4: 0.98}, 0.98, 0.0), 3),
        (({1: 0.70, 2: 0.965, 3: 0.98, 4: 0.98}, 0.98, 0.02), 2),
        (({3: 0.99, 1: 0.50, 2: 0.97}, 0.98, 0.01), 2),  # unsorted keys
        (({1: 0.90, 2: 0.80, 3: 0.95}, 0.90, 0.0), 1),  # accuracy need not grow with rank
        (({1: 0.50, 2: 0.60}, 0.98, 0.01), None),  # no rank is good enough
    ]
    for (accuracies, baseline, tolerance), expected in cases:
        got = func(dict(accuracies), baseline, tolerance)
        assert got == expected, (
            f"smallest_rank({accuracies}, baseline={baseline}, tolerance={tolerance}) returned "
            f"{got!r}, expected {expected!r}: the smallest rank whose accuracy is at least "
            "baseline - tolerance, or None")
    return f"right on {len(cases)} cases, including unsorted and non-monotone accuracies"


# The design task's targets: a network this small, on these splits of the wine data,
# within this much test accuracy of the dense 13 -> 10 -> 3 network trained on the
# same split. (One test wine of 54 is 1.85 points.)
SMALL_WINE_NUMBERS = 40
SMALL_WINE_LOSS = 0.02
VISIBLE_SPLITS = (15, 1, 4)  # 15: the chapter's split; truncation alone fails on 1 and 4


@check_setup
def _dense_wine(split):
    """The wine data of ``split`` and the dense 13 -> 10 -> 3 network trained on it."""
    from structlab.datasets import wine  # see small_wine_outcome
    from structlab.nn.models import wine_mlp
    from structlab.nn.train import fit_full_batch

    data = wine(seed=split)
    dense = wine_mlp(seed=0)
    fit_full_batch(dense, data.X_train, data.y_train)
    return data, dense


def small_wine_outcome(recipe, split):
    """``(numbers, accuracy, dense accuracy)`` of ``recipe(X_train, y_train)`` on a split."""
    # torch and the data come in only when this check runs: the grader's parent process
    # and the editions import every chapter's checks, and torch takes seconds to import
    import torch

    from structlab.nn.layers import stored_numbers
    from structlab.nn.train import accuracy

    data, dense = _dense_wine(split)
    net = recipe(data.X_train.copy(), data.y_train.copy())
    assert isinstance(net, torch.nn.Module), (
        f"return the trained network (a torch.nn.Module), got {type(net).__name__}")
    return (stored_numbers(net), accuracy(net, data.X_test, data.y_test),
            accuracy(dense, data.X_test, data.y_test))


@register("small_wine_network", CHAPTER, points=3)
def _small_wine_network(func):
    for split in VISIBLE_SPLITS:
        numbers, acc, dense = small_wine_outcome(func, split)
        assert numbers <= SMALL_WINE_NUMBERS, (
            f"split {split}: your network stores {numbers} numbers (parameters, buffers, arrays); "
            f"the target is at most {SMALL_WINE_NUMBERS}")
        assert acc >= dense - SMALL_WINE_LOSS - 1e-12, (
            f"split {split}: test accuracy {acc:.3f}, the dense network's {dense:.3f}: more "
            f"than {100 * SMALL_WINE_LOSS:.0f} points lost")
    return (f"at most {SMALL_WINE_NUMBERS} numbers within {100 * SMALL_WINE_LOSS:.0f} points "
            f"of the dense network on {len(VISIBLE_SPLITS)} splits of the wine data")
