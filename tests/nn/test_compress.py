import numpy as np
import pytest
import torch

from structlab.datasets import wine
from structlab.nn.compress import lowrank_sweep, replace_layer, truncate_hidden, with_lowrank
from structlab.nn.layers import LowRankLinear, count_parameters
from structlab.nn.models import wine_mlp
from structlab.nn.train import accuracy, fit_full_batch


@pytest.fixture(scope="module")
def trained():
    data = wine()
    model = wine_mlp(seed=0)
    fit_full_batch(model, data.X_train, data.y_train)
    return model, data


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_wine_mlp_shape_and_training(trained):
    model, data = trained
    assert count_parameters(model) == 14 * 10 + 11 * 3 == 173
    assert accuracy(model, data.X_train, data.y_train) == 1.0
    assert accuracy(model, data.X_test, data.y_test) > 0.9


def test_fit_full_batch_is_deterministic():
    data = wine()
    a, b = wine_mlp(seed=3), wine_mlp(seed=3)
    assert fit_full_batch(a, data.X_train, data.y_train) == fit_full_batch(b, data.X_train, data.y_train)
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_with_lowrank_returns_a_new_model(trained):
    model, data = trained
    before = _state(model)
    small = with_lowrank(model, "hidden", rank=2)
    assert isinstance(small.hidden, LowRankLinear) and isinstance(model.hidden, torch.nn.Linear)
    assert count_parameters(small) == 48 + 33
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    full = with_lowrank(model, "hidden", rank=10)
    X = torch.as_tensor(data.X_test, dtype=torch.float32)
    torch.testing.assert_close(full(X), model(X), rtol=1e-4, atol=1e-4)


def test_lowrank_sweep_rows(trained):
    model, data = trained
    rows = lowrank_sweep(model, "hidden", data.X_test, data.y_test)
    assert [r["rank"] for r in rows] == list(range(1, 11))
    assert [r["params"] for r in rows] == [24 * r for r in range(1, 11)]
    assert rows[-1]["accuracy"] == pytest.approx(accuracy(model, data.X_test, data.y_test))
    assert all(0 <= r["accuracy"] <= 1 for r in rows)


def test_truncate_hidden(trained):
    model, data = trained
    before = _state(model)
    small = truncate_hidden(model, 2, data.X_train, data.y_train)
    assert small.hidden.weight.shape == (2, 13) and small.out.weight.shape == (3, 2)
    assert count_parameters(small) == 14 * 2 + 3 * 3 == 37
    # the hidden layer is the scaled projection diag(s) Vt of [W | b]
    W_aug = torch.cat([model.hidden.weight, model.hidden.bias[:, None]], 1).detach().double().numpy()
    _, s, Vt = np.linalg.svd(W_aug, full_matrices=False)
    got = torch.cat([small.hidden.weight, small.hidden.bias[:, None]], 1).detach().double().numpy()
    np.testing.assert_allclose(np.abs(got), np.abs(s[:2, None] * Vt[:2]), rtol=1e-5, atol=1e-5)
    assert accuracy(small, data.X_train, data.y_train) > 0.9  # the output layer was retrained
    assert accuracy(small, data.X_test, data.y_test) > 0.9
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)


def test_layers_without_bias():
    data = wine()
    model = wine_mlp()
    model.hidden = torch.nn.Linear(13, 10, bias=False)
    fit_full_batch(model, data.X_train, data.y_train)
    rows = lowrank_sweep(model, "hidden", data.X_test, data.y_test)
    assert [r["params"] for r in rows] == [23 * r for r in range(1, 11)]
    small = truncate_hidden(model, 3, data.X_train, data.y_train)
    assert small.hidden.bias is None and count_parameters(small) == 13 * 3 + 4 * 3


def test_surgery_errors(trained):
    model, _ = trained
    with pytest.raises(ValueError, match="no layer named 'hiden'"):
        replace_layer(model, "hiden", torch.nn.Identity())
    with pytest.raises(TypeError, match="layer 'act' must be an nn.Linear"):
        with_lowrank(model, "act", rank=2)
    with pytest.raises(ValueError, match="'hiden' is not a Linear or Conv2d layer"):
        truncate_hidden(model, 2, np.zeros((3, 13)), np.zeros(3, int), hidden="hiden")


# ---------------------------------------------------------------- sparse products

def test_with_sparse_product_replaces_linear_and_conv_layers():
    from structlab.nn.compress import layer_weight_matrix, with_sparse_product, with_weight
    from structlab.nn.layers import SparseProductConv2d, SparseProductLinear
    from structlab.nn.models import lenet_5

    torch.manual_seed(0)
    model = lenet_5().double()
    before = _state(model)
    X = torch.randn(3, 784, dtype=torch.float64)
    for name, kind in [("conv2", SparseProductConv2d), ("fc1", SparseProductLinear)]:
        small, fit = with_sparse_product(model, name, n_factors=3, k=4, n_iter=5)
        assert isinstance(getattr(small, name), kind)
        W = layer_weight_matrix(getattr(model, name))
        assert fit.product.shape == W.shape and fit.product.nparams <= 3 * 4 * max(W.shape)
        # the structured layer computes exactly what the dense layer does with the approximation
        expected = with_weight(model, name, fit.product.toarray())
        torch.testing.assert_close(small(X), expected(X))
        assert count_parameters(small) == (count_parameters(model) - W.size
                                           + fit.product.nparams)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    with pytest.raises(ValueError, match=r"W must have shape \(50, 500\) for layer 'conv2'"):
        with_weight(model, "conv2", np.zeros((50, 499)))


def test_with_weight_refuses_a_parametrized_layer():
    from structlab.nn.compress import prune, with_weight
    from structlab.nn.models import lenet_300_100

    pruned = prune(lenet_300_100(), sparsity=0.5, layers=["fc3"])
    with pytest.raises(ValueError, match="'fc3' is pruned or quantized"):
        with_weight(pruned, "fc3", np.zeros((10, 100)))
