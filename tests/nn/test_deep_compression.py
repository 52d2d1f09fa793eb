"""Pruning and weight sharing on torch models: structure held through training."""

import numpy as np
import pytest
import torch

from structlab.approx.huffman import layer_storage
from structlab.nn.compress import (layer_mask, model_storage, prune, prunable_layers, quantize,
                                   sensitivity_scan)
from structlab.nn.layers import SharedWeights
from structlab.nn.models import lenet_5, lenet_300_100
from structlab.nn.train import l2_penalty, train


@pytest.fixture(scope="module")
def digits():
    """Small random stand-in for MNIST rows (structure tests need no real accuracy)."""
    rng = np.random.default_rng(0)
    X = rng.random((256, 784)).astype(np.float32)
    return X, (X[:, :10].argmax(axis=1)).astype(np.int64)


def _weights(model):
    return {name: getattr(model, name).weight.detach().clone() for name in prunable_layers(model)}


@pytest.mark.parametrize("build", [lenet_300_100, lenet_5])
def test_pruned_weights_stay_zero_through_retraining(build, digits):
    model = build()
    pruned = prune(model, sparsity=0.8)
    masks = {name: torch.as_tensor(layer_mask(getattr(pruned, name))) for name in prunable_layers(pruned)}
    train(pruned, *digits, epochs=2, lr=1e-2, l2=1e-3, progress=False)
    for name, weight in _weights(pruned).items():
        assert torch.all(weight[~masks[name]] == 0), name
        assert (~masks[name]).float().mean() == pytest.approx(0.8, abs=1e-3)
    # and the retraining did change the surviving weights
    before = _weights(prune(model, sparsity=0.8))
    assert not torch.equal(before["fc1"], _weights(pruned)["fc1"])


def test_prune_and_quantize_leave_their_input_alone(digits):
    model = lenet_300_100()
    before = _weights(model)
    pruned = prune(model, quality=1.0)
    assert all(torch.equal(before[n], w) for n, w in _weights(model).items())
    pruned_before = _weights(pruned)
    first = quantize(pruned, 3)
    second = quantize(pruned, 4, init="density")  # quantizing the same model twice works
    assert all(torch.equal(pruned_before[n], w) for n, w in _weights(pruned).items())
    assert len(torch.unique(second.fc1.weight[second.fc1.weight != 0])) == 16
    assert len(torch.unique(first.fc1.weight[first.fc1.weight != 0])) == 8


def test_iterative_pruning_only_removes(digits):
    model = prune(lenet_300_100(), sparsity=0.5)
    train(model, *digits, epochs=1, progress=False)
    again = prune(model, sparsity={"fc1": 0.9})
    assert not np.any(layer_mask(again.fc1) & ~layer_mask(model.fc1))
    assert (~layer_mask(again.fc1)).mean() == pytest.approx(0.9, abs=1e-4)
    np.testing.assert_array_equal(layer_mask(again.fc2), layer_mask(model.fc2))


@pytest.mark.parametrize("init", ["forgy", "density", "linear"])
def test_quantized_layers_have_2_to_the_bits_values_and_keep_sparsity(init):
    pruned = prune(lenet_5(), sparsity={"conv2": 0.5, "fc1": 0.9})
    q = quantize(pruned, {"conv1": 2, "conv2": 3, "fc1": 5, "fc2": 1}, init=init)
    for name, bits in {"conv1": 2, "conv2": 3, "fc1": 5, "fc2": 1}.items():
        weight = getattr(q, name).weight.detach()
        mask = torch.as_tensor(layer_mask(getattr(pruned, name)))
        assert torch.all(weight[~mask] == 0)
        assert len(torch.unique(weight[mask])) == 2**bits, name


def test_centroid_gradient_is_the_sum_of_member_gradients(digits):
    q = quantize(prune(lenet_300_100(), sparsity=0.5), 2)
    shared = q.fc2.parametrizations.weight[0]
    assert isinstance(shared, SharedWeights)
    X, y = (torch.as_tensor(a) for a in digits)
    effective = q.fc2.weight  # recomputed from the centroids; keep its graph
    effective.retain_grad()
    out = torch.nn.functional.linear(torch.relu(q.fc1(X)), effective, q.fc2.bias)
    torch.nn.functional.cross_entropy(q.fc3(torch.relu(out)), y).backward()
    member_sums = [effective.grad[(shared.index == j) & shared.mask].sum() for j in range(4)]
    torch.testing.assert_close(shared.centroids.grad, torch.stack(member_sums))
    assert not q.fc2.parametrizations.weight.original.requires_grad


def test_fine_tuning_moves_centroids_not_structure(digits):
    q = quantize(prune(lenet_300_100(), sparsity=0.9), 4)
    centroids = q.fc1.parametrizations.weight[0].centroids.detach().clone()
    index = q.fc1.parametrizations.weight[0].index.clone()
    train(q, *digits, epochs=1, lr=1e-2, progress=False)
    shared = q.fc1.parametrizations.weight[0]
    assert not torch.equal(centroids, shared.centroids.detach())
    assert torch.equal(index, shared.index)
    assert len(torch.unique(q.fc1.weight[q.fc1.weight != 0])) <= 16


def test_l2_really_acts(digits):
    plain, decayed = lenet_300_100(seed=1), lenet_300_100(seed=1)
    train(plain, *digits, epochs=5, lr=1e-2, progress=False)
    train(decayed, *digits, epochs=5, lr=1e-2, l2=1.0, progress=False)
    with torch.no_grad():
        assert float(l2_penalty(decayed)) < 0.5 * float(l2_penalty(plain))


def test_model_storage_counts_every_layer(digits):
    model = lenet_300_100()
    dense = model_storage(model)
    assert sum(r.dense_bits for r in dense) == 32 * 266_610
    assert all(r.huffman_bits == r.dense_bits for r in dense)
    q = quantize(prune(model, sparsity=0.9), 5)
    rows = model_storage(q, index_bits=5)
    fc1 = q.fc1.parametrizations.weight[0]
    expected = layer_storage("fc1", fc1.mask.numpy(), fc1.index.numpy(), 32, 5, n_bias=300)
    assert rows[0] == expected
    assert sum(r.dense_bits for r in model_storage(q)) == 32 * 266_610
    assert 10 < sum(r.dense_bits for r in rows) / sum(r.huffman_bits for r in rows) < 100


def test_sensitivity_scan(digits):
    model = lenet_300_100()
    scan = sensitivity_scan(model, [0.0, 0.5], *digits)
    assert list(scan) == ["fc1", "fc2", "fc3"] and all(len(v) == 2 for v in scan.values())
    from structlab.nn.train import accuracy
    assert scan["fc1"][0] == accuracy(model, *digits)


def test_bad_inputs():
    model = lenet_300_100()
    with pytest.raises(ValueError, match="'relu1' is not a Linear or Conv2d layer"):
        prune(model, sparsity={"relu1": 0.5})
    with pytest.raises(ValueError, match="exactly one of quality or sparsity"):
        prune(model)
    with pytest.raises(ValueError, match="sparsity must be in"):
        prune(model, sparsity=1.0)
    with pytest.raises(ValueError, match="bits must be between 1 and 8, got 0"):
        quantize(model, 0)


def test_train_cached_reuses_and_replaces(digits, tmp_path, monkeypatch):
    from structlab.nn.train import train_cached

    monkeypatch.setenv("STRUCTLAB_DATA", str(tmp_path))
    first, history = train_cached(lenet_300_100, *digits, name="t", epochs=1, progress=False)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["t.pt"]
    again, cached_history = train_cached(lenet_300_100, *digits, name="t", epochs=1, progress=False)
    assert cached_history == history
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), again.state_dict().values()))
    (tmp_path / "cache" / "t.pt").write_bytes(b"corrupt")
    retrained, _ = train_cached(lenet_300_100, *digits, name="t", epochs=1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), retrained.state_dict().values()))
    other, _ = train_cached(lenet_300_100, *digits, name="t", epochs=1, lr=0.1, progress=False)
    assert not torch.equal(other.fc1.weight, first.fc1.weight)  # a new setting retrains
