"""Every visible check must fail on plausible mistakes, not only on the stub."""

import json

import numpy as np
import pytest

from structlab import exercises
from structlab.approx.palm4msa import Constraint
from structlab.exercises import check
from structlab.nn.widths import WidthPolicy


def _sss_approximate(W, nparams):
    from structlab.approx.sss import sss_approximate
    return sss_approximate(W, nparams)


def _stub(*args):
    raise NotImplementedError


def _splin_solution(M, k):
    from structlab.approx.palm4msa import project_splin
    return project_splin(M, k)


def _normalized(M):
    return M / np.linalg.norm(M)


def _wine_net(X, y, hidden=2, alpha=1e-2, truncate=None, train=True):
    """A wine network trained the chapter's way, possibly too large, too small or untrained."""
    from structlab.nn.compress import truncate_hidden
    from structlab.nn.models import wine_mlp
    from structlab.nn.train import fit_full_batch

    net = wine_mlp(n_hidden=hidden, seed=0)
    if train:
        fit_full_batch(net, X, y, alpha=alpha)
    return truncate_hidden(net, truncate, X, y) if truncate else net  # truncation alone


def _pruned_with(model, X, y, targets, epochs=3):
    """Pruned to ``targets`` in three cuts retrained ``epochs`` each (0: one cut, no retraining).

    A mistake that fails on size alone is retrained for one epoch only: the size is set
    by the targets, and the check rejects it before it measures any accuracy.
    """
    from structlab.nn.compress import iterative_prune, prune

    if not epochs:
        return prune(model, sparsity=targets)
    return iterative_prune(model, targets, X, y, steps=[0.5, 0.8, 1.0], epochs=epochs,
                           lr=1e-3, l2=1e-4, progress=False)[0]


def _palm_product(W, *constraints):
    from structlab.approx.palm4msa import palm4msa
    return palm4msa(W, constraints, 50).product


def _chain_product(W, n_factors, k):
    from structlab.approx.palm4msa import hierarchical, rectangular_constraints
    return hierarchical(W, *rectangular_constraints(W.shape, n_factors, k), 30).product


def _staged_sss(W, tol=1e-2, edges=False, full_states=False):
    """Chapter 5's design with one thing wrong: the rank tolerance (None: matrix_rank's
    default), the trivially low ranks at the edges counted, or every state kept."""
    from structlab.approx.sss import sss_realization

    def rank(M):
        if tol is None:
            return int(np.linalg.matrix_rank(M))
        s = np.linalg.svd(M, compute_uv=False)
        return int(np.sum(s > tol * s[0]))
    n = len(W)
    positions = np.arange(1, n)
    ranks = np.array([max(rank(W[t:, :t]), rank(W[:t, t:])) for t in positions])
    telling = np.ones(n - 1, bool) if edges else ranks < np.minimum(positions, n - positions)
    state = ranks[telling].min()
    cuts = positions[telling & (ranks == state)]
    stages = np.diff([0, *cuts, n])
    dims = [None] * 2 if full_states else [[state] * len(cuts)] * 2
    return sss_realization(W, stages, stages, *dims)


def _masked_step_with(model, masks, optimizer, X, y, mistake):
    """Chapter 2's masked step with one thing wrong."""
    import torch

    if mistake != "no zero_grad":
        optimizer.zero_grad()
    if mistake == "mask first":  # masks the weights before the step, not after
        with torch.no_grad():
            for name, mask in masks.items():
                getattr(model, name).weight.mul_(mask)
    loss = torch.nn.functional.cross_entropy(model(X), y)
    loss.backward()
    if mistake == "mask gradients":  # zero gradients, but the momentum still moves them
        for name, mask in masks.items():
            getattr(model, name).weight.grad.mul_(mask)
    if mistake != "no step":
        optimizer.step()
    if mistake not in ("mask first", "mask gradients"):
        with torch.no_grad():
            for name, mask in masks.items():
                getattr(model, name).weight.mul_(mask if mistake != "inverted" else ~mask)
    if mistake == "loss after":
        return torch.nn.functional.cross_entropy(model(X), y).item()
    return loss if mistake == "tensor" else loss.item()


def _capstone_with(model, X, y, share=0.1, epochs=5, fc3=False, prune=False):
    """Chapter 8's design with one thing wrong: no retraining, too large a share, fc3
    compressed too, or fc1 and fc2 pruned (a mask stores the dense weight and more)."""
    from structlab.approx.svd import absorb_bias, allocate_ranks
    from structlab.nn.compress import prune as prune_layers
    from structlab.nn.compress import with_lowrank
    from structlab.nn.train import train

    if prune:
        return prune_layers(model, sparsity={"fc1": 0.9, "fc2": 0.9})
    layers = [model.fc1, model.fc2]
    spectra = [np.linalg.svd(absorb_bias(layer.weight.detach().numpy(),
                                         layer.bias.detach().numpy()), compute_uv=False)
               for layer in layers]
    costs = [sum(layer.weight.shape) + 1 for layer in layers]
    budget = int(share * sum(layer.weight.numel() + layer.bias.numel() for layer in layers))
    for name, rank in zip(("fc1", "fc2"), allocate_ranks(spectra, costs, budget)):
        model = with_lowrank(model, name, rank=rank)
    if fc3:
        model = with_lowrank(model, "fc3", rank=4)
    if epochs:
        train(model, X, y, epochs=epochs, lr=1e-3, seed=0, progress=False)
    return model


def _one_factor(W, k, identity=False):
    from structlab.approx.palm4msa import project_splin
    from structlab.structures.sparse_product import SparseProduct
    return SparseProduct([np.eye(len(W))] * identity + [project_splin(W, k)])


def _lowrank_fc1(model):
    """fc1 as a low-rank layer, which is no nn.Linear: model_storage would not count it."""
    from structlab.nn.compress import prune, with_lowrank
    return prune(with_lowrank(model, "fc1", rank=40), sparsity={"fc2": 0.9, "fc3": 0.5})


def _lowrank_product(W, rank):
    from structlab.structures.sparse_product import SparseProduct
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    return SparseProduct([U[:, :rank] * s[:rank], Vt[:rank]])


def _shared_with(model, X, y, targets, bits, tune=True, epochs=3):
    """Pruned to ``targets``, quantized to ``bits``, the shared values tuned or not."""
    from structlab.nn.compress import quantize
    from structlab.nn.train import train

    shared = quantize(_pruned_with(model, X, y, targets, epochs), bits, init="linear")
    if tune:
        train(shared, X, y, epochs=2, lr=3e-4, progress=False)
    return shared


def _greedy_ranks(spectra, costs, nparams, share=True, per_number=True, skip=True,
                  squares=True):
    """The greedy rank allocation, or one of its slips: raw energies (not each layer's
    share), energy per unit (not per number), stopping at the first unit that does not
    fit, or singular values instead of their squares."""
    units = []
    for l, s in enumerate(spectra):
        e = np.asarray(s, float) ** (2 if squares else 1)
        e = e / e.sum() if share else e
        units += [(-v / (costs[l] if per_number else 1), l) for v in e]
    ranks, left = [0] * len(spectra), nparams
    for _, l in sorted(units):
        if costs[l] > left:
            if not skip:
                break
            continue
        ranks[l], left = ranks[l] + 1, left - costs[l]
    return ranks


def _compressed_fc1(model, method, share, bits=None, layer="fc1"):
    from structlab.nn.compress import compress
    return compress(model, method, share, layers=[layer], timing=False, bits=bits)[0]


def _kmeans_step_with(w, centroids, empty="keep", values=False, ties="lower", old_labels=True,
                      in_place=False, float_labels=False):
    """One Lloyd step with one of the usual slips."""
    distance = np.abs(w[:, None] - centroids[None, :])
    if ties == "upper":
        distance = distance[:, ::-1]
    labels = np.argmin(distance, axis=1)
    if ties == "upper":
        labels = len(centroids) - 1 - labels
    counts = np.bincount(labels, minlength=len(centroids))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.bincount(labels, weights=w, minlength=len(centroids)) / counts
    fill = {"keep": centroids, "nan": np.nan, "zero": 0.0}[empty]
    new = np.where(counts > 0, means, fill)
    if not old_labels:
        labels = np.argmin(np.abs(w[:, None] - new[None, :]), axis=1)
    if in_place:
        centroids[:] = new
        new = centroids
    if float_labels:
        labels = labels.astype(float)
    return new, (centroids[labels] if values else labels)


def _shrink_without_fold(W1, W2, k):
    """The right units (pivoted QR), but the dropped ones' weights are simply lost."""
    import scipy.linalg
    kept = np.sort(scipy.linalg.qr(W1.T, pivoting=True)[2][:k])
    return W1[kept], W2[:, kept]


def _causal_matvec_without_transition(B, A, C, outs, ins, x):
    """Each stage reads only the previous stage's input: the A's are ignored."""
    cols, rows = np.cumsum([0, *ins]), np.cumsum([0, *outs])
    y = np.zeros(rows[-1])
    for k in range(len(B)):
        y[rows[k + 1]:rows[k + 2]] = C[k] @ (B[k] @ x[cols[k]:cols[k + 1]])
    return y


def _csr_matvec_row_offsets_from_zero(indptr, indices, values, x):
    """Reads each row's entries from 0 instead of indptr[i]."""
    y = np.zeros(len(indptr) - 1)
    for i in range(len(y)):
        for p in range(indptr[i + 1] - indptr[i]):
            y[i] += values[p] * x[indices[p]]
    return y


def _pareto_front_strict(sizes, scores):
    """Drops a point as soon as another is no worse in both: equal points remove each other."""
    return [i for i in range(len(sizes))
            if not any(j != i and sizes[j] <= sizes[i] and scores[j] >= scores[i]
                       for j in range(len(sizes)))]


def test_every_registered_check_fails_on_the_stub(capsys):
    for name in exercises.names():
        assert not check(name, _stub)
        assert "not implemented yet" in capsys.readouterr().out


PLAUSIBLE_MISTAKES = [
    ("rank_r_params", lambda n_in, n_out, rank: rank * (n_in + n_out)),  # forgot the bias
    ("rank_r_params", lambda n_in, n_out, rank: (n_in + 1) * n_out),  # the dense count
    ("compress_layer", lambda W, b, r: (np.linalg.svd(W)[2][:r], np.zeros(r),
                                        np.linalg.svd(W)[0][:, :r] * np.linalg.svd(W)[1][:r])),
    ("compress_layer", lambda W, b, r: (np.zeros((r, W.shape[1])), np.zeros(r), np.zeros((W.shape[0], r)))),
    ("smallest_rank", lambda acc, base, tol: min(r for r, a in acc.items() if a >= base)),
    ("smallest_rank", lambda acc, base, tol: next((r for r, a in acc.items() if a >= base - tol), None)),
    ("smallest_rank", lambda acc, base, tol: min((r for r, a in acc.items() if a > base - tol), default=None)),
    ("small_wine_network", lambda X, y: _wine_net(X, y, hidden=10)),  # the dense network
    ("small_wine_network", lambda X, y: _wine_net(X, y, hidden=10, alpha=1e-4, truncate=2)),
    ("small_wine_network", lambda X, y: _wine_net(X, y, hidden=1)),  # too small to keep it
    ("small_wine_network", lambda X, y: _wine_net(X, y, hidden=2, train=False)),  # untrained
    ("small_wine_network", lambda X, y: _wine_net(X, y, hidden=2).state_dict()),  # not a module
    ("prune_to_budget", lambda model, X, y: model),  # nothing pruned
    ("prune_to_budget", lambda model, X, y: _pruned_with(  # the recipe's targets: too large
        model, X, y, {"fc1": 0.92, "fc2": 0.91, "fc3": 0.74}, epochs=1)),
    ("prune_to_budget", lambda model, X, y: _pruned_with(  # small enough, but not retrained
        model, X, y, {"fc1": 0.96, "fc2": 0.85, "fc3": 0.3}, epochs=0)),
    ("prune_to_budget", lambda model, X, y: _pruned_with(  # every layer alike: fc3 breaks
        model, X, y, {"fc1": 0.95, "fc2": 0.95, "fc3": 0.95})),
    ("prune_to_budget", lambda model, X, y: _pruned_with(model, X, y, {"fc1": 0.96},
                                                         epochs=0).state_dict()),
    ("compress_to_budget", lambda model, X, y: _pruned_with(  # pruned, never quantized
        model, X, y, {"fc1": 0.96, "fc2": 0.85, "fc3": 0.3}, epochs=1)),
    ("compress_to_budget", lambda model, X, y: _shared_with(  # the recipe: 1/40
        model, X, y, {"fc1": 0.92, "fc2": 0.91, "fc3": 0.74}, {"fc1": 5, "fc2": 5, "fc3": 6},
        tune=False, epochs=1)),
    ("compress_to_budget", lambda model, X, y: _shared_with(  # too few bits for fc3
        model, X, y, {"fc1": 0.96, "fc2": 0.85, "fc3": 0.3}, {"fc1": 4, "fc2": 4, "fc3": 1})),
    ("compress_to_budget", lambda model, X, y: _shared_with(  # 2 bits everywhere, untuned
        model, X, y, {"fc1": 0.96, "fc2": 0.85, "fc3": 0.3}, 2, tune=False)),
    ("width_policy", lambda: (WidthPolicy(keep_energy=0.985, grow_ratio=0.95, max_shrink=0.5,
                                          min_width=4), 4)),  # the chapter's: too large
    ("width_policy", lambda: (WidthPolicy(keep_energy=0.9, grow_ratio=0.95, max_shrink=0.5,
                                          min_width=4), 3)),  # small, but 6 points lost
    ("width_policy", lambda: (WidthPolicy(keep_energy=0.96), 0)),  # never resized
    ("width_policy", lambda: WidthPolicy(keep_energy=0.96)),  # no resize_until
    ("fast_fc1", lambda model: _compressed_fc1(model, "pruning", 0.1)),  # 8-byte indices: 30 %
    ("fast_fc1", lambda model: _compressed_fc1(model, "codebook", 1.0, bits=4)),  # 4 bits: 12.8 %
    ("fast_fc1", lambda model: _compressed_fc1(model, "pruning", 0.03)),  # few bytes, accuracy lost
    ("fast_fc1", lambda model: _compressed_fc1(model, "lowrank", 0.1, layer="fc2")),  # wrong layer
    ("fast_fc1", lambda model: _compressed_fc1(model, "lowrank", 0.1).state_dict()),
    ("conv2_product", lambda W: _chain_product(W, 3, 16)),  # the chapter's chain: too lossy
    ("conv2_product", lambda W: _chain_product(W, 3, 32)),  # better, but 4,800 numbers
    ("conv2_product", lambda W: _one_factor(W, 50)),  # pruning, not a product
    ("conv2_product", lambda W: _one_factor(W, 49, identity=True)),  # pruning behind an identity
    ("prune_to_budget", lambda model, X, y: _lowrank_fc1(model)),  # a layer model_storage skips
    ("conv2_product", lambda W: _palm_product(  # narrow inner factor: too few numbers per filter
        W, Constraint("splin", (50, 50), 2), Constraint("splin", (50, 500), 48))),
    ("conv2_product", lambda W: _lowrank_product(W, 2)),  # low rank in disguise
    ("conv2_product", lambda W: _chain_product(W, 3, 16).toarray()),  # not a SparseProduct
    ("sss_design", lambda W: _sss_approximate(W, W.size // 4)),  # uniform: 5-9 % error
    ("sss_design", lambda W: _staged_sss(W, tol=None)),  # noise: every rank full, no cut found
    ("sss_design", lambda W: _staged_sss(W, edges=True)),  # rank 1 at the edges: wrong cuts
    ("sss_design", lambda W: _staged_sss(W, full_states=True)),  # right stages, noise kept
    ("sss_design", lambda W: _staged_sss(W, tol=0.3)),  # tolerance so loose it drops signal
    ("sss_design", lambda W: _staged_sss(W).toarray()),  # not an SSS
    ("std_mask", lambda w, q: np.abs(w) >= q * np.abs(w).mean()),  # mean |w| instead of std
    ("std_mask", lambda w, q: np.abs(w) <= q * w.std()),  # the mask of the *pruned* weights
    ("sparsity_mask", lambda w, s: np.abs(w) > np.quantile(np.abs(w), s)),  # count off by ties/rounding
    ("sparsity_mask", lambda w, s: np.argsort(np.abs(w), axis=None).reshape(w.shape) >= round(s * w.size)),
    *[("masked_step", lambda m, masks, o, X, y, mistake=mistake: _masked_step_with(
        m, masks, o, X, y, mistake)) for mistake in ("no zero_grad", "mask first",
                                                      "mask gradients", "no step", "inverted",
                                                      "loss after", "tensor")],
    ("count_fillers", lambda pos, b: sum(d // 2**b for d in np.diff([-1] + list(pos)))),  # off by one
    ("count_fillers", lambda pos, b: sum((d - 1) // 2**b for d in np.diff([0] + list(pos)))),  # start at 0
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, empty="nan")),  # mean of nobody
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, empty="zero")),  # moved to 0
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, values=True)),  # values, not indices
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, ties="upper")),  # ties to the upper one
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, old_labels=False)),  # labels after moving
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, in_place=True)),  # edits the centroids
    ("kmeans_step", lambda w, c: _kmeans_step_with(w, c, float_labels=True)),  # labels as floats
    ("centroid_gradients", lambda g, l, k: np.bincount(l, weights=g, minlength=k)
     / np.maximum(np.bincount(l, minlength=k), 1)),  # the mean, not the sum
    ("centroid_gradients", lambda g, l, k: np.bincount(l, weights=g)),  # no minlength: too short
    ("centroid_gradients", lambda g, l, k: np.array([g[l == j].sum() for j in np.unique(l)])),
    ("huffman_lengths", lambda c: {s: int(np.ceil(-np.log2(v / sum(c.values())))) for s, v in c.items()}),
    ("huffman_lengths", lambda c: {s: max(1, int(np.ceil(np.log2(len(c))))) for s in c}),  # fixed width
    ("splin", lambda M, k: np.where(M >= -np.sort(-M, axis=1)[:, k - 1:k], M, 0)),  # values, not |values|
    ("splin", lambda M, k: np.where(np.abs(M) >= -np.sort(-np.abs(M), axis=0)[k - 1], M, 0)),  # columns
    ("splin", lambda M, k: np.abs(_splin_solution(M, k))),  # lost the signs
    ("palm_update", lambda A, L, S, R, lam, k: _splin_solution(
        S - lam * L.T @ (lam * L @ S @ R - A) @ R.T, k)),  # no step size, no normalization
    ("palm_update", lambda A, L, S, R, lam, k: _normalized(_splin_solution(
        S - L.T @ (L @ S @ R - A) @ R.T / (np.linalg.norm(L, 2) * np.linalg.norm(R, 2)), k))),
    ("palm_update", lambda A, L, S, R, lam, k: _normalized(_splin_solution(
        S - lam * L.T @ (lam * L @ S @ R - A) @ R.T / (1.001 * lam**2 * np.linalg.norm(L) ** 2
                                                       * np.linalg.norm(R) ** 2), k))),  # Frobenius
    ("sparse_product_nnz", lambda m, n, J, k: J * max(m, n) * k),
    ("sparse_product_nnz", lambda m, n, J, k: m * k + (J - 1) * max(m, n) * k),
    ("causal_matvec", lambda B, A, C, outs, ins, x: np.zeros(sum(outs))),
    ("causal_matvec", _causal_matvec_without_transition),
    ("hankel_rank", lambda W, rows, cols, k: int(np.linalg.matrix_rank(  # includes the diagonal
        W[int(np.sum(rows[:k])):, :int(np.sum(cols[:k + 1]))]))),
    ("hankel_rank", lambda W, rows, cols, k: int(np.linalg.matrix_rank(  # cut one stage late
        W[int(np.sum(rows[:k + 2])):, :int(np.sum(cols[:k + 2]))]))),
    ("sss_nparams", lambda rows, cols, lo, up: sum(m * n for m, n in zip(rows, cols))
     + sum(d * (n + m) for d, n, m in zip(lo, cols, rows[1:]))  # forgot A and the upper part
     ),
    ("sss_nparams", lambda rows, cols, lo, up: sum(m * n for m, n in zip(rows, cols)) + 2 * sum(
        d * (n + m) + d * d for d, n, m in zip(lo, cols, rows[1:]))),  # A square, upper = lower
    ("shrink_pair", lambda W1, W2, k: (W1[:k], W2[:, :k])),  # the first k units, no fold
    ("shrink_pair", _shrink_without_fold),
    ("orthogonal_direction", lambda W1: np.ones(W1.shape[1]) / np.sqrt(W1.shape[1])),
    ("orthogonal_direction", lambda W1: np.linalg.svd(W1)[2][0]),  # the *top* row direction
    ("energy_width", lambda s, keep: int(np.searchsorted(np.cumsum(s) / np.sum(s), keep) + 1)),
    ("energy_width", lambda s, keep: int(np.sum(np.cumsum(s**2) / np.sum(s**2) < keep))),
    ("break_even_rank", lambda m, n: m * n // (m + n)),  # ties: equal cost is no gain
    ("break_even_rank", lambda m, n: min(m, n) // 2),
    ("csr_matvec", _csr_matvec_row_offsets_from_zero),
    ("csr_matvec", lambda indptr, indices, values, x: np.zeros(len(indptr))),  # one row too many
    ("csr_bytes", lambda m, nnz, value, gap: nnz * (value + gap)),  # forgot the row pointers
    ("csr_bytes", lambda m, nnz, value, gap: nnz * (value + gap) + (m + 1) * gap),  # narrow pointers
    ("csr_bytes", lambda m, nnz, value, gap: nnz * (value + 8) + (m + 1) * 8),  # int64 indices
    ("csr_bytes", lambda m, nnz, value, gap: nnz * (value + 1) + (m + 1) * 4),  # ignores gap_bytes
    ("pareto_front", lambda sizes, scores: [int(np.argmax(scores))]),  # the best point only
    ("pareto_front", _pareto_front_strict),
    ("best_under", lambda rows, b, t: max(rows, key=lambda r: r["score"])),  # ignores the limits
    ("best_under", lambda rows, b, t: max((r for r in rows if r["bytes"] < b and r["us"] < t),
                                          key=lambda r: r["score"], default=None)),  # limits excluded
    ("capstone_design", lambda model, X, y: model),  # nothing compressed
    ("capstone_design", lambda model, X, y: _capstone_with(model, X, y, epochs=0)),  # no retraining
    ("capstone_design", lambda model, X, y: _capstone_with(model, X, y, share=0.2, epochs=0)),
    ("capstone_design", lambda model, X, y: _capstone_with(model, X, y, epochs=0, fc3=True)),
    ("capstone_design", lambda model, X, y: _capstone_with(model, X, y, prune=True)),  # masks
    ("capstone_design", lambda model, X, y: model.state_dict()),  # not a module
    ("allocate_ranks", lambda spectra, costs, n: _greedy_ranks(spectra, costs, n, share=False)),
    ("allocate_ranks", lambda spectra, costs, n: _greedy_ranks(spectra, costs, n, per_number=False)),
    ("allocate_ranks", lambda spectra, costs, n: _greedy_ranks(spectra, costs, n, skip=False)),
    ("allocate_ranks", lambda spectra, costs, n: _greedy_ranks(spectra, costs, n, squares=False)),
    ("allocate_ranks", lambda spectra, costs, n: [min(len(s), n // len(costs) // c)  # equal shares
                                                  for s, c in zip(spectra, costs)]),
]


@pytest.mark.parametrize("name, wrong", PLAUSIBLE_MISTAKES)
def test_checks_catch_plausible_mistakes(name, wrong, capsys):
    points = exercises.exercise(name).points
    assert not check(name, wrong)
    assert capsys.readouterr().out.startswith(
        f"✘ {name} [0/{points} point{'s' if points > 1 else ''}]:")


def test_student_exceptions_are_reported_not_raised(capsys):
    assert not check("rank_r_params", lambda *a: 1 / 0)
    assert "your code raised ZeroDivisionError" in capsys.readouterr().out


def test_a_check_that_cannot_prepare_its_case_says_so_and_blames_no_student(monkeypatch, capsys):
    import structlab.datasets

    def full_disk(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(structlab.datasets, "wine", full_disk)
    called = []
    assert not check("small_wine_network", lambda X, y: called.append(1))
    out = capsys.readouterr().out
    assert ("the check could not prepare its case (_dense_wine raised OSError: No space left "
            "on device); this is not your code") in out
    assert "your code raised" not in out and not called


def test_a_preparation_inside_another_is_named_once():
    @exercises.check_setup
    def inner():
        raise OSError("disk full")

    @exercises.check_setup
    def outer():
        return inner()

    with pytest.raises(exercises.CheckSetupError, match="^inner raised OSError: disk full$"):
        outer()


def test_check_log(tmp_path, monkeypatch):
    log = tmp_path / "checks.jsonl"
    monkeypatch.setenv("STRUCTLAB_CHECK_LOG", str(log))
    check("rank_r_params", _stub)
    check("rank_r_params", lambda n_in, n_out, rank: rank * (n_in + n_out + 1))
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["name"], r["passed"], r["points"]) for r in rows] == [
        ("rank_r_params", False, 0), ("rank_r_params", True, 1)]


def test_unknown_exercise():
    with pytest.raises(ValueError, match="unknown exercise 'nope'"):
        check("nope", None)


def test_design_tasks_hold_out_only_the_splits_they_name():
    from structlab.datasets import mnist

    data = mnist()
    assert exercises.held_out(data, "val")[0] is data.X_val
    assert exercises.held_out(data, "test")[1] is data.y_test
    with pytest.raises(ValueError, match="split must be one of"):
        exercises.held_out(data, "train")
