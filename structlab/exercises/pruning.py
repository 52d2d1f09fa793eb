"""Checks for chapter 2, pruning."""

import copy

import numpy as np

from structlab.approx.pruning import magnitude_mask
from structlab.exercises import SPLITS, check_accuracy_kept, check_setup, held_out, register
from structlab.encoding import relative_indices

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


def _masked_setting(seed, optimizer_class, **settings):
    """A small network that has trained a few steps, then been cut; its masks, optimizer, data.

    The optimizer carries state from before the cut (Adam's moments, SGD's momentum),
    as a retraining that goes on after a cut does: a zero gradient alone does not keep
    a pruned weight at zero.
    """
    import torch  # heavy: only when the check runs (see budget_network)
    from torch import nn

    with torch.random.fork_rng():  # seeded here without moving the notebook's own torch seed
        torch.manual_seed(seed)
        model = nn.Sequential()
        for name, layer in [("fc1", nn.Linear(12, 16)), ("relu", nn.ReLU()),
                            ("fc2", nn.Linear(16, 5))]:
            model.add_module(name, layer)
        X, y = torch.randn(6, 32, 12), torch.randint(0, 5, (6, 32))
        masks = {name: torch.rand(getattr(model, name).weight.shape) > 0.5
                 for name in ("fc1", "fc2")}
    optimizer = optimizer_class(model.parameters(), **settings)
    for batch in range(3):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(X[batch]), y[batch]).backward()
        optimizer.step()
    with torch.no_grad():
        for name, mask in masks.items():
            getattr(model, name).weight.mul_(mask)
    return model, masks, optimizer, X[3:], y[3:]


def _reference_masked_step(model, masks, optimizer, X, y):
    """One step of ``optimizer`` on the cross-entropy, pruned weights set back to zero after it."""
    import torch  # heavy: only when the check runs (see budget_network)

    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        for name, mask in masks.items():
            getattr(model, name).weight.mul_(mask)
    return loss.item()


def check_masked_step(func, settings):
    """Assert that ``func`` makes the reference's steps under each ``(seed, optimizer, kwargs)``.

    ``optimizer`` is a name in ``torch.optim``; the visible check and the hidden
    test differ in their settings only.
    """
    import torch  # heavy: only when the check runs (see budget_network)

    for seed, optimizer_name, kwargs in settings:
        optimizer_class = getattr(torch.optim, optimizer_name)
        theirs, reference = (_masked_setting(seed, optimizer_class, **kwargs) for _ in range(2))
        model, masks, optimizer, X, y = theirs
        kept = {name: mask.clone() for name, mask in masks.items()}
        for step in range(len(X)):
            loss = func(model, masks, optimizer, X[step], y[step])
            expected = _reference_masked_step(*reference[:3], X[step], y[step])
            assert all(torch.equal(masks[n], kept[n]) for n in kept), "leave the masks as they are"
            assert isinstance(loss, float) and abs(loss - expected) <= 1e-5 * max(1, expected), (
                f"{optimizer_name}, step {step + 1}: return the batch's cross-entropy before the step as "
                f"a float ({expected:.4f}), got {loss!r}")
            for name, mask in masks.items():
                weight = getattr(model, name).weight.detach()
                alive = int((weight[~mask] != 0).sum())
                assert not alive, (
                    f"{optimizer_name}, step {step + 1}: {alive} pruned weights of {name} are nonzero "
                    "after your step. A zero gradient is not enough: the optimizer's momentum "
                    "from before the cut still moves them. Set them to zero after the step")
            for (name, got), want in zip(model.named_parameters(), reference[0].parameters()):
                assert torch.allclose(got, want, atol=1e-6), (
                    f"{optimizer_name}, step {step + 1}: {name} differs from one optimizer step on the "
                    "cross-entropy of the batch (gradients zeroed first, then backward, then "
                    "the step, then the masks)")
    return (f"pruned weights stay zero and the rest match the steps of "
            f"{' and of '.join(name for _, name, _ in settings)}, carrying state from before "
            "the cut")


@register("masked_step", CHAPTER, points=2)
def _masked_step(func):
    return check_masked_step(func, [(0, "Adam", {"lr": 1e-2}),
                                    (1, "SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3})])


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


# The design task's targets: the pruned network's coded storage (float32 values plus
# Huffman-coded relative positions, as `model_storage` counts it) at most this share of
# the dense float32 network, its validation accuracy at most this far below the
# unpruned network's. The recipe's targets (fc1 92 %, fc2 91 %, fc3 74 % pruned) store
# 1/10.6 of the bytes, so they fail on size.
BUDGET_SHARE = 1 / 15
BUDGET_LOSS = 0.01
BUDGET_ROWS = 3000  # training rows of the check's network: seconds, not minutes, to grade


@check_setup
def budget_network():
    """The check's network: LeNet-300-100 trained on MNIST's first 3000 rows, and its data.

    Returns
    -------
    model : nn.Module
        Trained for 10 epochs with the recipe's settings (cached on disk).
    data : structlab.datasets.Dataset
        MNIST; the model saw only ``data.X_train[:BUDGET_ROWS]``.
    """
    # torch and the data come in only when this check runs: the grader's parent process
    # and the editions import every chapter's checks, and torch takes seconds to import
    from structlab.datasets import mnist
    from structlab.nn.recipes import trained_baseline

    data = mnist()
    model, _ = trained_baseline("lenet300", data.X_train[:BUDGET_ROWS],
                                data.y_train[:BUDGET_ROWS], epochs=10, seed=0)
    return model, data


def designed_network(design):
    """``design(model, X, y)`` on a copy of the check's network and its training rows.

    Returns
    -------
    new, model : nn.Module
        What ``design`` returned (checked to be a module), and the check's network.
    data : structlab.datasets.Dataset
    """
    import torch  # heavy: only when the check runs (see budget_network)

    model, data = budget_network()
    X, y = data.X_train[:BUDGET_ROWS].copy(), data.y_train[:BUDGET_ROWS].copy()
    new = design(copy.deepcopy(model), X, y)
    assert isinstance(new, torch.nn.Module), (
        f"return the network (a torch.nn.Module), got {type(new).__name__}")
    return new, model, data


def budget_outcome(recipe, splits=("val",)):
    """What ``recipe``'s network achieves: its share of the dense bytes, and accuracies.

    ``recipe(model, X, y)`` gets the check's trained network and its training rows
    and returns the pruned network.

    Returns
    -------
    share : float
        Coded bytes (``model_storage``) over the dense float32 bytes.
    accuracies : dict of {split: (accuracy, unpruned accuracy)}
        On each of ``splits`` (see :func:`structlab.exercises.held_out`).
    """
    from structlab.nn.compress import model_storage, prunable_layers
    from structlab.nn.train import accuracy

    pruned, model, data = designed_network(recipe)
    # model_storage counts the Linear layers only: anything else would be stored for free
    layers = {name: tuple(getattr(pruned, name).weight.shape) for name in prunable_layers(pruned)}
    elsewhere = [name for name, _ in [*pruned.named_parameters(), *pruned.named_buffers()]
                 if name.split(".")[0] not in layers]
    assert layers == {name: tuple(getattr(model, name).weight.shape)
                      for name in prunable_layers(model)} and not elsewhere, (
        "keep LeNet-300-100's layers fc1, fc2 and fc3 as nn.Linear of their shapes, pruned or "
        "shared by parametrizations, and nothing else that stores numbers: model_storage "
        f"counts those layers; yours has {layers or 'none'}"
        + (f" and numbers in {elsewhere[:3]}" if elsewhere else ""))
    dense_bits = sum(row.dense_bits for row in model_storage(model))
    share = sum(row.huffman_bits for row in model_storage(pruned)) / dense_bits
    return share, {split: (accuracy(pruned, *held_out(data, split)),
                           accuracy(model, *held_out(data, split))) for split in splits}


def check_budget(func, share_target, splits=("val",)):
    """Assert that ``func``'s network meets a size share and :data:`BUDGET_LOSS` on ``splits``.

    Shared by chapter 2's design task and chapter 3's (a smaller share).
    Returns the verdict's description.
    """
    share, accuracies = budget_outcome(func, splits)
    assert share <= share_target, (
        f"your network stores 1/{1 / share:.1f} of the dense bytes (as model_storage counts "
        f"them); the target is at most 1/{1 / share_target:.0f}")
    check_accuracy_kept(accuracies, BUDGET_LOSS, "the unpruned network's")
    acc, unpruned = accuracies[splits[0]]
    return (f"1/{1 / share:.1f} of the dense bytes, {SPLITS[splits[0]]} accuracy {acc:.4f} "
            f"(unpruned {unpruned:.4f})")


@register("prune_to_budget", CHAPTER, points=3)
def _prune_to_budget(func):
    return check_budget(func, BUDGET_SHARE)
