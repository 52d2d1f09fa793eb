"""Checks for chapter 6, layer widths that shrink and grow."""

import numpy as np

from structlab.approx.widths import energy_width
from structlab.exercises import SPLITS, check_accuracy_kept, check_setup, held_out, register

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


# The design task's targets: from the chapter's smoke-size start, trained 6 epochs on
# 2000 MNIST images, a policy whose network ends with at most a third of the numbers
# of the same network trained at fixed widths (44,170), at most 3 points less accurate.
# The chapter's policy (98.5 % of the energy) ends at 28,323 numbers, so it fails.
POLICY_START = (8, 16, 32, 128)
POLICY_NUMBERS = 15_000
POLICY_LOSS = 0.03
POLICY_ROWS = 2000
POLICY_EPOCHS = 6


def policy_outcome(choose, splits=("val",)):
    """What the policy ``choose()`` returns achieves, next to the fixed-width network.

    ``choose()`` returns ``(policy, resize_until)``: a
    :class:`~structlab.nn.widths.WidthPolicy` and the number of epochs after which
    the widths stop changing.

    Returns
    -------
    numbers, fixed_numbers : int
        Stored numbers of the evolved and of the fixed-width network.
    accuracies : dict of {split: (accuracy, fixed-width accuracy)}
        On each of ``splits`` (see :func:`structlab.exercises.held_out`).
    """
    # torch and the data come in only when this check runs: the grader's parent process
    # and the editions import every chapter's checks, and torch takes seconds to import
    from structlab.nn.layers import stored_numbers
    from structlab.nn.models import EVOLVING_PAIRS, evolving_cnn
    from structlab.nn.train import accuracy
    from structlab.nn.widths import WidthPolicy, evolve

    choice = choose()
    assert isinstance(choice, tuple) and len(choice) == 2, (
        f"return a pair (WidthPolicy, resize_until), got {type(choice).__name__}")
    policy, resize_until = choice
    assert isinstance(policy, WidthPolicy), (
        f"return (WidthPolicy, resize_until), got a {type(policy).__name__} first")
    assert isinstance(resize_until, int) and 0 <= resize_until <= POLICY_EPOCHS, (
        f"resize_until must be an int from 0 to {POLICY_EPOCHS}, got {resize_until!r}")
    fixed, data = _fixed_network()
    X, y = data.X_train[:POLICY_ROWS], data.y_train[:POLICY_ROWS]
    model = evolve(evolving_cnn(POLICY_START, seed=0), EVOLVING_PAIRS, X, y, policy=policy,
                   epochs=POLICY_EPOCHS, resize_until=resize_until, lr=5e-3, seed=0,
                   progress=False).model
    return stored_numbers(model), stored_numbers(fixed), {
        split: (accuracy(model, *held_out(data, split)), accuracy(fixed, *held_out(data, split)))
        for split in splits}


@check_setup
def _fixed_network():
    """The check's reference: the starting CNN trained at fixed widths (cached), and MNIST."""
    from structlab.datasets import mnist  # see policy_outcome
    from structlab.nn.models import evolving_cnn
    from structlab.nn.train import train_cached

    data = mnist()
    fixed, _ = train_cached(lambda: evolving_cnn(POLICY_START, seed=0),
                            data.X_train[:POLICY_ROWS], data.y_train[:POLICY_ROWS],
                            name=f"evolving_fixed_{POLICY_ROWS}", epochs=POLICY_EPOCHS, lr=5e-3,
                            seed=0, progress=False)
    return fixed, data


@register("width_policy", CHAPTER, points=3)
def check_width_policy(func, splits=("val",)):
    """The design task's rules on ``splits``; the hidden test adds the test split."""
    numbers, fixed_numbers, accuracies = policy_outcome(func, splits)
    assert numbers <= POLICY_NUMBERS, (
        f"your policy's network stores {numbers:,} numbers; the target is at most "
        f"{POLICY_NUMBERS:,}")
    check_accuracy_kept(accuracies, POLICY_LOSS, "the fixed-width network's")
    acc, fixed = accuracies[splits[0]]
    return (f"{numbers:,} numbers, {SPLITS[splits[0]]} accuracy {acc:.4f} (fixed widths: "
            f"{fixed:.4f} with {fixed_numbers:,} numbers)")
